namespace Flock.Topology.Generators;

/// <summary>
/// Ring lattice: nodes on a circle, each linked to its <see cref="K"/> nearest nodes on each side
/// (<c>i ~ i ± 1, …, i ± k mod n</c>), so every degree is 2k. k = 1 is the plain cycle; "a ring
/// with 4 neighbours" is k = 2. Deterministic.
/// </summary>
public sealed class Ring : ITopologyGenerator
{
    /// <summary>Creates a ring lattice with <paramref name="k"/> neighbours on each side.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is less than 1.</exception>
    public Ring(int k = 1)
    {
        K = GeneratorChecks.Positive(k, nameof(k), "ring");
    }

    /// <summary>Neighbours on each side (degree = 2k).</summary>
    public int K { get; }

    /// <inheritdoc />
    public string Name => "ring";

    /// <inheritdoc />
    public bool IsRandom => false;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => $"ring(k={K})";

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 2k + 1 (the two sides would overlap).</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        if (nodeCount < 2 * K + 1)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount,
                $"Invalid node count for ring with k={K}: {nodeCount}; must be ≥ 2k+1 = {2 * K + 1} so the {K} neighbours on each side are distinct (use \"complete\" for a fully connected graph).");
        return Lattice(nodeCount, K);
    }

    /// <summary>The ring lattice on n ≥ 2k+1 nodes (shared with Watts–Strogatz).</summary>
    internal static Graph Lattice(int n, int k)
    {
        var edges = new (int, int)[checked(n * k)];
        int e = 0;
        for (int j = 1; j <= k; j++)
            for (int i = 0; i < n; i++)
                edges[e++] = (i, (i + j) % n);
        return Graph.FromEdges(n, edges.AsSpan());
    }
}
