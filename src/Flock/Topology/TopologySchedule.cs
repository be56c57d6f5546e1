using Flock.Tensors;

namespace Flock.Topology;

/// <summary>
/// The communication graph as a function of the round: static, or time-varying. Implementations
/// are deterministic (same round ⇒ same graph) and safe to call from many threads.
/// </summary>
public interface ITopologySchedule
{
    /// <summary>Number of nodes (the same in every round).</summary>
    int NodeCount { get; }

    /// <summary>True when every round uses the same graph.</summary>
    bool IsStatic { get; }

    /// <summary>The graph used in round <paramref name="round"/> (0-based).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="round"/> is negative.</exception>
    Graph GraphAt(long round);
}

/// <summary>One fixed graph for every round.</summary>
public sealed class StaticTopology : ITopologySchedule
{
    /// <summary>Wraps <paramref name="graph"/>.</summary>
    public StaticTopology(Graph graph) => Graph = graph;

    /// <summary>The graph.</summary>
    public Graph Graph { get; }

    /// <inheritdoc />
    public int NodeCount => Graph.NodeCount;

    /// <inheritdoc />
    public bool IsStatic => true;

    /// <inheritdoc />
    public Graph GraphAt(long round)
    {
        if (round < 0) throw new ArgumentOutOfRangeException(nameof(round), round, $"Invalid round: {round}; must be ≥ 0.");
        return Graph;
    }
}

/// <summary>
/// A time-varying topology: a fresh graph from a generator every <see cref="Period"/> rounds.
/// Rounds <c>r</c> with the same epoch <c>e = r / Period</c> share the graph generated with seed
/// <c>Rng.DeriveSeed(seed, e)</c>, so any round's graph can be rebuilt independently of the
/// others. The most recent few graphs are cached (thread-safe).
/// </summary>
public sealed class ResampledTopology : ITopologySchedule
{
    private const int CacheSize = 4;
    private readonly (long Epoch, Graph Graph)[] _cache = new (long, Graph)[CacheSize];
    private int _cacheNext;
    private readonly Lock _lock = new();

    /// <summary>Creates a schedule drawing from <paramref name="generator"/>.</summary>
    /// <param name="generator">The graph generator (random ones give a new graph per epoch).</param>
    /// <param name="nodeCount">Number of nodes.</param>
    /// <param name="seed">Topology seed (derive it from the experiment seed).</param>
    /// <param name="period">Rounds per graph, ≥ 1 (1 = a new graph every round).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is less than 1, or the generator rejects <paramref name="nodeCount"/> (round 0 is built immediately, so configuration errors surface here).</exception>
    /// <exception cref="InvalidOperationException">The generator could not build a connected graph for round 0.</exception>
    public ResampledTopology(ITopologyGenerator generator, int nodeCount, ulong seed, int period = 1)
    {
        if (period < 1) throw new ArgumentOutOfRangeException(nameof(period), period, $"Invalid resampling period: {period} rounds; must be ≥ 1.");
        Generator = generator;
        NodeCount = nodeCount;
        Seed = seed;
        Period = period;
        for (int i = 0; i < CacheSize; i++) _cache[i] = (-1, null!);
        GraphAt(0);
    }

    /// <summary>The generator.</summary>
    public ITopologyGenerator Generator { get; }

    /// <inheritdoc />
    public int NodeCount { get; }

    /// <summary>The topology seed.</summary>
    public ulong Seed { get; }

    /// <summary>Rounds per graph.</summary>
    public int Period { get; }

    /// <inheritdoc />
    public bool IsStatic => !Generator.IsRandom;

    /// <summary>Seed of the graph for <paramref name="round"/>.</summary>
    public ulong SeedAt(long round) => Rng.DeriveSeed(Seed, (ulong)(round / Period));

    /// <inheritdoc />
    public Graph GraphAt(long round)
    {
        if (round < 0) throw new ArgumentOutOfRangeException(nameof(round), round, $"Invalid round: {round}; must be ≥ 0.");
        long epoch = Generator.IsRandom ? round / Period : 0;
        lock (_lock)
            foreach (var (e, g) in _cache)
                if (e == epoch) return g;
        var graph = Generator.Generate(NodeCount, Generator.IsRandom ? SeedAt(round) : Seed);
        lock (_lock)
        {
            _cache[_cacheNext] = (epoch, graph);
            _cacheNext = (_cacheNext + 1) % CacheSize;
        }
        return graph;
    }
}
