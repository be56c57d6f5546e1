using Flock.Aggregation;
using Flock.Attacks;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>
/// The one adversary behind the Byzantine nodes of a run: the colluders' shared memory. Each
/// Byzantine node deposits the honest vector it computed in a round; crafting nodes read the
/// deposits of the same round (their pooled estimate of the honest distribution, as the
/// non-omniscient attacker of "A Little Is Enough", Baruch et al., NeurIPS 2019) and, for a
/// <see cref="Sybil"/> attack, share the block of identity vectors crafted once per round.
/// </summary>
/// <remarks>
/// <para>Colluding Byzantine nodes are assumed to coordinate over a private, instantaneous side
/// channel — the standard worst case of the Byzantine literature (they are controlled by one
/// adversary). The simulator models that channel as this shared object instead of messages, so
/// it costs no bytes and no latency and the honest protocol's counters are unchanged. It is the
/// only state shared between behaviours, and only Byzantine ones use it; the object is
/// thread-safe.</para>
/// <para>A node registers the round it starts training for; a round's colluders are the nodes
/// registered for it, and the pool is complete when all of them have deposited.</para>
/// <para>Checkpoints: every entry belongs to the node that deposited or crafted it and is written
/// in that node's state (<see cref="INodeBehavior.WriteState"/>), so restoring the nodes restores
/// the adversary. A node keeps the deposits of its last two rounds; Sybil blocks are kept for the
/// last three rounds.</para>
/// </remarks>
public sealed class ByzantineAdversary
{
    /// <summary>The pseudo node id keying the adversary's own random streams (Sybil blocks).</summary>
    public const ulong StreamId = ulong.MaxValue;

    private readonly object _gate = new();
    private readonly Dictionary<int, NodeEntries> _entries = new();
    private readonly Dictionary<long, (int Owner, float[] Block)> _sybil = new();
    private readonly bool[] _mask;
    private readonly int[] _nodes;
    private readonly ulong _seed;

    /// <summary>Creates the adversary of <paramref name="setup"/> in a run of <paramref name="nodeCount"/> nodes.</summary>
    /// <param name="setup">Which nodes, which attack.</param>
    /// <param name="nodeCount">Number of (non-coordinator) nodes.</param>
    /// <param name="seed">The experiment seed (Sybil blocks derive their generator from it).</param>
    /// <param name="protocolAggregator">The protocol's rule, targeted by "optimal" attacks unless <see cref="ByzantineSetup.TargetAggregator"/> is set.</param>
    /// <param name="defaultSpace">The protocol's default attack space, used unless <see cref="ByzantineSetup.Space"/> is set.</param>
    /// <exception cref="ArgumentException">The setup is invalid for <paramref name="nodeCount"/> nodes.</exception>
    public ByzantineAdversary(ByzantineSetup setup, int nodeCount, ulong seed, IAggregator protocolAggregator, AttackSpace defaultSpace)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(protocolAggregator);
        setup.Validate(nodeCount);
        Setup = setup;
        _nodes = setup.Nodes.Order().ToArray();
        _mask = AttackerSelection.Mask(nodeCount, _nodes);
        _seed = seed;
        Space = setup.Space ?? defaultSpace;
        TargetAggregator = setup.TargetAggregator ?? protocolAggregator;
    }

    /// <summary>The setup.</summary>
    public ByzantineSetup Setup { get; }

    /// <summary>The Byzantine node ids, increasing.</summary>
    public IReadOnlyList<int> Nodes => _nodes;

    /// <summary>The space attacks are crafted in.</summary>
    public AttackSpace Space { get; }

    /// <summary>The aggregator "optimal" attacks target.</summary>
    public IAggregator TargetAggregator { get; }

    /// <summary>True if <paramref name="node"/> is Byzantine.</summary>
    public bool IsByzantine(int node) => (uint)node < (uint)_mask.Length && _mask[node];

    /// <summary>Index of <paramref name="node"/> among the Byzantine nodes (its Sybil identity), or −1.</summary>
    public int IdentityOf(int node) => Array.BinarySearch(_nodes, node) is var k and >= 0 ? k : -1;

    private sealed class NodeEntries
    {
        public long Registered = -1;
        public readonly SortedDictionary<long, float[]> Deposits = new();
    }

    private NodeEntries Entries(int node)
    {
        if (!_entries.TryGetValue(node, out var e)) _entries[node] = e = new NodeEntries();
        return e;
    }

    /// <summary>Records that <paramref name="node"/> started computing its honest vector of <paramref name="round"/>.</summary>
    internal void Register(int node, long round)
    {
        lock (_gate) Entries(node).Registered = round;
    }

    /// <summary>Stores <paramref name="node"/>'s honest vector of <paramref name="round"/> (copied); deposits older than the previous round are dropped.</summary>
    internal void Deposit(int node, long round, ReadOnlySpan<float> vector)
    {
        var copy = vector.ToArray();
        lock (_gate)
        {
            var d = Entries(node).Deposits;
            d[round] = copy;
            foreach (long old in d.Keys.Where(r => r < round - 1).ToArray()) d.Remove(old);
        }
    }

    /// <summary>True when every colluder registered for <paramref name="round"/> has deposited its vector of that round.</summary>
    internal bool PoolComplete(long round)
    {
        lock (_gate)
            foreach (var e in _entries.Values)
                if (e.Registered == round && !e.Deposits.ContainsKey(round)) return false;
        return true;
    }

    /// <summary>The honest vectors deposited for <paramref name="round"/>, in node-id order.</summary>
    internal List<ReadOnlyMemory<float>> Pooled(long round)
    {
        var list = new List<ReadOnlyMemory<float>>(_nodes.Length);
        lock (_gate)
            foreach (int id in _nodes)
                if (_entries.TryGetValue(id, out var e) && e.Deposits.TryGetValue(round, out var v)) list.Add(v);
        return list;
    }

    /// <summary>
    /// The vector of <paramref name="node"/> for a <see cref="Sybil"/> attack in <paramref name="round"/>:
    /// the node's row of the block crafted by the first identity to ask in that round (with
    /// <paramref name="context"/>, and a generator derived from (seed, <see cref="StreamId"/>, round)).
    /// </summary>
    internal void SybilVector(Sybil sybil, int node, long round, AttackContext context, Span<float> output)
    {
        int d = output.Length, identity = IdentityOf(node);
        float[] block;
        lock (_gate)
        {
            if (!_sybil.TryGetValue(round, out var entry))
            {
                block = new float[(long)sybil.Identities * d];
                sybil.CraftAll(context with { Rng = Rng.Derive(_seed, StreamId, (ulong)round, "attack"), Identity = 0 }, block);
                foreach (var old in _sybil.Keys.Where(r => r < round - 2).ToArray()) _sybil.Remove(old);
                _sybil[round] = (node, block);
            }
            else block = entry.Block;
        }
        block.AsSpan(identity * d, d).CopyTo(output);
    }

    /// <summary>Writes the entries <paramref name="node"/> owns.</summary>
    internal void WriteOwned(int node, StateWriter writer)
    {
        lock (_gate)
        {
            var e = Entries(node);
            writer.Write(e.Registered);
            writer.Write(e.Deposits.Count);
            foreach (var (round, v) in e.Deposits) { writer.Write(round); writer.WriteFloats(v); }
            var blocks = _sybil.Where(p => p.Value.Owner == node).OrderBy(p => p.Key).ToArray();
            writer.Write(blocks.Length);
            foreach (var (round, (_, block)) in blocks) { writer.Write(round); writer.WriteFloats(block); }
        }
    }

    /// <summary>Replaces the entries <paramref name="node"/> owns by those written by <see cref="WriteOwned"/>.</summary>
    internal void ReadOwned(int node, StateReader reader)
    {
        lock (_gate)
        {
            var e = Entries(node);
            e.Registered = reader.ReadInt64();
            e.Deposits.Clear();
            int deposits = reader.ReadInt32();
            for (int i = 0; i < deposits; i++)
            {
                long round = reader.ReadInt64();
                e.Deposits[round] = reader.ReadFloats();
            }
            foreach (var old in _sybil.Where(p => p.Value.Owner == node).Select(p => p.Key).ToArray()) _sybil.Remove(old);
            int blocks = reader.ReadInt32();
            for (int i = 0; i < blocks; i++)
            {
                long round = reader.ReadInt64();
                _sybil[round] = (node, reader.ReadFloats());
            }
        }
    }
}
