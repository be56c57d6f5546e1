using Flock.Aggregation;
using Flock.Attacks;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>In which space a Byzantine node's vectors are crafted.</summary>
public enum AttackSpace
{
    /// <summary>
    /// On models: the attack sees and returns whole parameter vectors (the Byzantine node's honest
    /// model, the honest models it observes) and the crafted vector is sent as the model. The
    /// decentralized default, as in the MoNNA experiments (sign flipping sends −x).
    /// </summary>
    Model,

    /// <summary>
    /// On updates relative to a reference r (FedAvg: the global model of the round; D-SGD: the
    /// node's own model at the start of the round): the attack sees Δ = x − r for its own and the
    /// observed vectors and the node sends r + crafted Δ. The FedAvg default (sign flipping sends
    /// r − Δ, the usual update attack).
    /// </summary>
    Update,
}

/// <summary>
/// Which nodes are Byzantine and how they attack: a model attack (<see cref="Attack"/>), a data
/// poisoning (<see cref="DataPoisoning"/>), or both. Given to a protocol's options
/// (<see cref="FedAvgOptions.Byzantine"/>, <see cref="DSgdOptions.Byzantine"/>,
/// <see cref="MonnaOptions.Byzantine"/>); the protocol's <c>CreateNodes</c> then builds Byzantine
/// behaviours for <see cref="Nodes"/> that share one <see cref="ByzantineAdversary"/>.
/// </summary>
/// <remarks>
/// <para><b>What a Byzantine node does.</b> It trains honestly from the model the protocol gives it
/// (on the poisoned view of its data when <see cref="DataPoisoning"/> is set) and deposits the
/// resulting honest vector with the shared adversary. With a model attack it then crafts the vector
/// it sends from an <see cref="AttackContext"/> whose <see cref="AttackContext.Own"/> is its honest
/// vector and whose <see cref="AttackContext.Honest"/> holds the honest vectors it observed this
/// round (decentralized protocols, rushing: the models honest neighbours sent it) followed by the
/// colluders' pooled honest vectors (non-omniscient estimate of the honest distribution, as in the
/// ALIE paper). <see cref="AttackContext.NodeCount"/> / <see cref="AttackContext.ByzantineCount"/>
/// are the aggregation's n and f as seen by the node (FedAvg: clients per round and the expected
/// Byzantine among them; decentralized: closed neighbourhood size and Byzantine nodes in it).
/// "Optimal" attacks get the protocol's aggregation rule (or <see cref="TargetAggregator"/>).</para>
/// <para><b>Without a model attack</b> the node sends its honest vector (a pure data poisoner that
/// otherwise follows the protocol), boosted by a <see cref="Backdoor"/>'s
/// <see cref="Backdoor.Boost"/> γ when it is not 1 (model replacement: r + γ·(x − r), r as in
/// <see cref="AttackSpace.Update"/>).</para>
/// <para><b>Sybil.</b> With a <see cref="Sybil"/> attack the Byzantine nodes are the adversary's
/// identities (its <see cref="Sybil.Identities"/> must equal the number of nodes; identity k is the
/// k-th node in id order): the first identity to craft in a round crafts all k near-identical
/// vectors at once with a generator derived from (seed, adversary, round), and each identity sends
/// its row.</para>
/// <para><b>Timing.</b> Attacks that do not read honest vectors craft as soon as the node's own
/// training ends. Attacks that read them wait (a) for the pool: every colluder that started
/// training for the round has deposited — checked at the same instant (after colluders finishing
/// then) and polled every 1/16 of the node's own training time — at most
/// <see cref="CollusionTimeout"/>; and (b) in decentralized protocols, when <see cref="Rushing"/>,
/// for every honest neighbour's model of the round, at most <see cref="RushingTimeout"/>. Both
/// waits are bounded by half the protocol's round timeout when it is finite (so honest nodes still
/// receive the crafted model); without a round timeout the colluder wait is bounded by 4× the
/// node's own training time (0 with free compute: same-instant colluders only).</para>
/// </remarks>
public sealed class ByzantineSetup
{
    /// <summary>The Byzantine node ids (distinct; FedAvg: client ids). See <see cref="SelectNodes"/>.</summary>
    public required IReadOnlyList<int> Nodes { get; init; }

    /// <summary>The model attack (null: the nodes send honest vectors, possibly trained on poisoned data).</summary>
    public IModelAttack? Attack { get; init; }

    /// <summary>The data poisoning the nodes train with (null: their honest data).</summary>
    public IDataPoisoning? DataPoisoning { get; init; }

    /// <summary>Where attacks are crafted (null, the default: the protocol's default — <see cref="AttackSpace.Update"/> for FedAvg, <see cref="AttackSpace.Model"/> for D-SGD and MoNNA).</summary>
    public AttackSpace? Space { get; init; }

    /// <summary>Decentralized protocols: attacks that read honest vectors wait for the honest neighbours' models of the round (a rushing adversary). Default true.</summary>
    public bool Rushing { get; init; } = true;

    /// <summary>Longest wait of a rushing node after its own training, in seconds (default infinity: until every honest neighbour's model arrived, but never more than half the protocol's round timeout when that is finite).</summary>
    public double RushingTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Longest wait, in seconds after its own training, for the colluders' honest vectors of the round (default infinity: bounded by half the round timeout, or by 4× the node's own training time without one).</summary>
    public double CollusionTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Decentralized protocols: craft a separate vector for every neighbour, each with its own random stream (default false: one vector for all).</summary>
    public bool PerNeighbor { get; init; }

    /// <summary>The aggregator "optimal" attacks optimise against (null, the default: the protocol's rule).</summary>
    public IAggregator? TargetAggregator { get; init; }

    /// <summary>The model-replacement factor γ applied when there is no model attack: the <see cref="Backdoor.Boost"/> of a backdoor poisoning, else 1.</summary>
    public float Boost => DataPoisoning is Backdoor b ? b.Boost : 1f;

    /// <summary>True when the nodes send something other than their honest vector (a model attack, or a boosted backdoor).</summary>
    internal bool Crafts => Attack is not null || Boost != 1f;

    /// <summary>
    /// Chooses <paramref name="count"/> Byzantine nodes among <paramref name="nodeCount"/>
    /// (<see cref="AttackerSelection"/>) with a generator derived from
    /// <c>Rng.Derive(seed, 0, 0, "byzantine-nodes")</c>: uniformly at random, or the highest-degree
    /// nodes of <paramref name="neighbors"/> (ties broken by that generator). Ids are increasing.
    /// Use <see cref="AttackerSelection.CountFromFraction"/> to turn a fraction into a count.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not in [0, n], or the placement is unknown.</exception>
    /// <exception cref="ArgumentException">Hub placement without neighbour lists of length n.</exception>
    public static int[] SelectNodes(int nodeCount, int count, AttackerPlacement placement, ulong seed, IReadOnlyList<int[]>? neighbors = null)
    {
        var rng = Rng.Derive(seed, 0, 0, "byzantine-nodes");
        if (placement != AttackerPlacement.Hubs) return AttackerSelection.Select(placement, nodeCount, count, rng);
        if (neighbors is null || neighbors.Count != nodeCount)
            throw new ArgumentException($"Hub placement needs the neighbour lists of all {nodeCount} nodes; got {neighbors?.Count ?? 0}.", nameof(neighbors));
        return AttackerSelection.Hubs(neighbors, count, rng);
    }

    /// <summary>Checks the setup for a protocol with <paramref name="nodeCount"/> (non-coordinator) nodes.</summary>
    /// <exception cref="ArgumentException">An id is out of range or repeated, a delay is invalid, or a Sybil attack's identity count differs from the number of nodes.</exception>
    public void Validate(int nodeCount)
    {
        ArgumentNullException.ThrowIfNull(Nodes);
        var seen = new HashSet<int>();
        foreach (int id in Nodes)
        {
            if ((uint)id >= (uint)nodeCount) throw new ArgumentException($"Invalid Byzantine node id {id}; nodes are 0..{nodeCount - 1}.", nameof(Nodes));
            if (!seen.Add(id)) throw new ArgumentException($"Byzantine node {id} is listed twice.", nameof(Nodes));
        }
        if (Space is { } s && !Enum.IsDefined(s)) throw new ArgumentException($"Invalid attack space: {s}; must be one of: {string.Join(", ", Enum.GetNames<AttackSpace>())}.", nameof(Space));
        if (!(RushingTimeout > 0)) throw new ArgumentException($"Invalid rushing timeout: {RushingTimeout} s; must be > 0 (infinity: bounded by the round timeout only).", nameof(RushingTimeout));
        if (!(CollusionTimeout >= 0)) throw new ArgumentException($"Invalid collusion timeout: {CollusionTimeout} s; must be ≥ 0 (infinity: bounded by the round timeout or the training time).", nameof(CollusionTimeout));
        if (Attack is Sybil sybil && sybil.Identities != Nodes.Count)
            throw new ArgumentException($"The Sybil attack has {sybil.Identities} identities but {Nodes.Count} Byzantine nodes are given; they must match (one node per identity).", nameof(Attack));
    }
}
