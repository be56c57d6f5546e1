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
    private readonly int _contextNodes;
    private readonly int _contextByzantine;
    private float[]? _reference;

    /// <summary>Creates the role of node <paramref name="id"/>.</summary>
    /// <param name="adversary">The shared adversary.</param>
    /// <param name="id">The node's id.</param>
    /// <param name="contextNodes">n of its attack contexts (participants of the aggregation it attacks).</param>
    /// <param name="contextByzantine">f of its attack contexts; clamped to ⌊(n − 1)/2⌋ so ALIE's z stays defined.</param>
    public ByzantineRole(ByzantineAdversary adversary, int id, int contextNodes, int contextByzantine)
    {
        _adversary = adversary;
        _id = id;
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

    /// <summary>Sets the round's reference point (FedAvg: the global model; D-SGD: the model at the start of the round).</summary>
    public void SetReference(ReadOnlySpan<float> reference)
    {
        if (!NeedsReference) return;
        if (_reference is null || _reference.Length != reference.Length) _reference = new float[reference.Length];
        reference.CopyTo(_reference);
    }

    /// <summary>Deposits the node's honest vector of <paramref name="round"/> (its trained model, in the attack space).</summary>
    public void Deposit(long round, ReadOnlySpan<float> trained)
    {
        if (Attack is null) return;
        _adversary.Deposit(_id, round, ToSpace(trained));
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
        writer.Write(_reference is not null);
        if (_reference is not null) writer.WriteFloats(_reference);
        _adversary.WriteOwned(_id, writer);
    }

    public void ReadState(StateReader reader)
    {
        _reference = reader.ReadBoolean() ? reader.ReadFloats() : null;
        _adversary.ReadOwned(_id, reader);
    }
}
