using System.Numerics.Tensors;
using Flock.Attacks;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>
/// The Byzantine part of one node's behaviour (see <see cref="ByzantineSetup"/>): the reference
/// point of update-space attacks, depositing the honest vector with the shared
/// <see cref="ByzantineAdversary"/>, and crafting the vector to send.
/// </summary>
internal sealed class ByzantineRole
{
    private readonly ByzantineAdversary _adversary;
    private readonly int _id;
    private int _contextNodes;
    private int _contextByzantine;
    private float[]? _reference;
    private double _trainStart, _poolDeadline, _rushDeadline, _poll;
    private bool _polled;

    /// <summary>Creates the role of node <paramref name="id"/>.</summary>
    /// <param name="adversary">The shared adversary.</param>
    /// <param name="id">The node's id.</param>
    /// <param name="contextNodes">n of its attack contexts (participants of the aggregation it attacks).</param>
    /// <param name="contextByzantine">f of its attack contexts; clamped to ⌊(n − 1)/2⌋ so ALIE's z stays defined.</param>
    public ByzantineRole(ByzantineAdversary adversary, int id, int contextNodes, int contextByzantine)
    {
        _adversary = adversary;
        _id = id;
        SetContext(contextNodes, contextByzantine);
    }

    /// <summary>Changes n and f of the attack contexts (a time-varying graph changes them every round); f is clamped as in the constructor.</summary>
    public void SetContext(int contextNodes, int contextByzantine)
    {
        _contextNodes = Math.Max(1, contextNodes);
        _contextByzantine = Math.Clamp(contextByzantine, 0, (_contextNodes - 1) / 2);
    }

    public ByzantineAdversary Adversary => _adversary;

    public IModelAttack? Attack => _adversary.Setup.Attack;

    /// <summary>True when the node sends something else than its honest vector.</summary>
    public bool Crafts => _adversary.Setup.Crafts;

    /// <summary>True when the attack reads honest vectors (worth waiting for them).</summary>
    public bool ReadsHonest => Attack?.UsesHonestVectors == true;

    /// <summary>True when crafting needs the round's reference point.</summary>
    public bool NeedsReference => Crafts && (_adversary.Space == AttackSpace.Update || Attack is null);

    /// <summary>
    /// The node starts computing its honest vector of <paramref name="round"/> from
    /// <paramref name="reference"/> (FedAvg: the global model; D-SGD: its model at the start of the
    /// round): keeps the reference if needed and registers with the adversary.
    /// </summary>
    public void BeginRound(INodeContext context, long round, ReadOnlySpan<float> reference)
    {
        _trainStart = context.Now;
        if (ReadsHonest) _adversary.Register(_id, round);
        if (!NeedsReference) return;
        if (_reference is null || _reference.Length != reference.Length) _reference = new float[reference.Length];
        reference.CopyTo(_reference);
    }

    /// <summary>The node's honest training of <paramref name="round"/> ended: deposit the vector and set the waiting deadlines.</summary>
    public void Trained(INodeContext context, long round, ReadOnlySpan<float> trained, double roundTimeout)
    {
        if (ReadsHonest) _adversary.Deposit(_id, round, ToSpace(trained));
        var setup = _adversary.Setup;
        double now = context.Now, took = Math.Max(0, now - _trainStart);
        double half = double.IsFinite(roundTimeout) ? 0.5 * roundTimeout : double.PositiveInfinity;
        _poolDeadline = now + Math.Min(setup.CollusionTimeout, double.IsFinite(half) ? half : 4 * took);
        _rushDeadline = now + Math.Min(setup.RushingTimeout, half);
        _poll = Math.Max(took / 16, 1e-9);
        _polled = false;
    }

    /// <summary>
    /// When to craft: a negative value to craft now, else the delay of the next check (a poll of
    /// the colluders' pool or a deadline), or infinity to wait for messages only.
    /// </summary>
    /// <param name="now">Current time.</param>
    /// <param name="round">The round being crafted.</param>
    /// <param name="honestReady">True when no honest model is awaited (not rushing, or all arrived).</param>
    public double CraftDelay(double now, long round, bool honestReady)
    {
        const double Slack = 1e-9;
        bool honestOk = honestReady || now + Slack >= _rushDeadline;
        bool poolOk = !ReadsHonest || _adversary.PoolComplete(round) || now + Slack >= _poolDeadline;
        if (honestOk && poolOk) return -1;
        if (!honestOk) return double.IsFinite(_rushDeadline) ? Math.Max(0, _rushDeadline - now) : double.PositiveInfinity;
        if (!_polled) { _polled = true; return 0; } // colluders finishing at this very instant
        return Math.Max(0, Math.Min(_poll, _poolDeadline - now));
    }

    /// <summary>
    /// Writes the vector to send in <paramref name="round"/> to <paramref name="output"/>.
    /// </summary>
    /// <param name="context">The node's context (its attack generator).</param>
    /// <param name="round">The round.</param>
    /// <param name="trained">The node's honest trained model.</param>
    /// <param name="observed">Honest models observed this round (models, not updates), or empty.</param>
    /// <param name="receiver">The receiving node for per-neighbour crafting, or −1 for one vector for all.</param>
    /// <param name="output">The vector to send.</param>
    public void Craft(INodeContext context, long round, ReadOnlySpan<float> trained, IReadOnlyList<ReadOnlyMemory<float>> observed, int receiver, Span<float> output)
    {
        if (Attack is not { } attack)
        {
            ModelReplacement.Scale(_reference!, trained, _adversary.Setup.Boost, output);
            return;
        }
        var honest = new List<ReadOnlyMemory<float>>();
        if (attack.UsesHonestVectors)
        {
            foreach (var m in observed) honest.Add(ToSpace(m.Span));
            honest.AddRange(_adversary.Pooled(round));
        }
        var rng = context.DeriveRng("attack", round);
        if (receiver >= 0) rng = new Rng(Rng.DeriveSeed(rng.NextUInt64(), (ulong)receiver));
        var ctx = new AttackContext
        {
            Own = ToSpace(trained),
            Honest = honest,
            Aggregator = _adversary.TargetAggregator,
            NodeCount = _contextNodes,
            ByzantineCount = _contextByzantine,
            Rng = rng,
            Identity = Math.Max(0, _adversary.IdentityOf(_id)),
        };
        if (attack is Sybil sybil) _adversary.SybilVector(sybil, _id, round, ctx, output);
        else attack.Craft(ctx, output);
        if (_adversary.Space == AttackSpace.Update) TensorPrimitives.Add(output, _reference!, output);
    }

    private float[] ToSpace(ReadOnlySpan<float> model)
    {
        var v = model.ToArray();
        if (_adversary.Space == AttackSpace.Update) TensorPrimitives.Subtract(v, _reference!, v);
        return v;
    }

    public void WriteState(StateWriter writer)
    {
        writer.Write(_trainStart);
        writer.Write(_poolDeadline);
        writer.Write(_rushDeadline);
        writer.Write(_poll);
        writer.Write(_polled);
        writer.Write(_reference is not null);
        if (_reference is not null) writer.WriteFloats(_reference);
        _adversary.WriteOwned(_id, writer);
    }

    public void ReadState(StateReader reader)
    {
        _trainStart = reader.ReadDouble();
        _poolDeadline = reader.ReadDouble();
        _rushDeadline = reader.ReadDouble();
        _poll = reader.ReadDouble();
        _polled = reader.ReadBoolean();
        _reference = reader.ReadBoolean() ? reader.ReadFloats() : null;
        _adversary.ReadOwned(_id, reader);
    }
}
