namespace Flock.Topology.Generators;

/// <summary>
/// Static exponential graph (B. Ying, K. Yuan, Y. Chen, H. Hu, P. Pan and W. Yin, "Exponential
/// Graph is Provably Efficient for Decentralized Deep Training", 2021), undirected: node i is
/// linked to <c>i ± 2^j mod n</c> for every j with 2^j &lt; n. It is a circulant graph, hence
/// regular; its degree is the number of distinct non-zero residues <c>±2^j mod n</c>
/// (2·log₂n − 1 when n is a power of two). Its spectral gap shrinks only like 1/log n.
/// Deterministic.
/// </summary>
public sealed class Exponential : ITopologyGenerator
{
    /// <inheritdoc />
    public string Name => "exponential";

    /// <inheritdoc />
    public bool IsRandom => false;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => "exponential";

    /// <summary>The distinct offsets <c>±2^j mod n</c> in (0, n), ascending; each node's degree is their count.</summary>
    public static int[] Offsets(int nodeCount)
    {
        var set = new SortedSet<int>();
        for (long h = 1; h < nodeCount; h *= 2)
        {
            set.Add((int)h);
            set.Add((int)(nodeCount - h));
        }
        return set.ToArray();
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 2.</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        GeneratorChecks.NodeCountAtLeast(nodeCount, 2, "exponential", "node i links to i ± 2^j mod n");
        var edges = new List<(int, int)>();
        foreach (int s in Offsets(nodeCount))
        {
            if (2 * s > nodeCount) continue; // each offset s and n − s give the same edges
            for (int i = 0; i < nodeCount; i++)
            {
                int j = (i + s) % nodeCount;
                if (2 * s == nodeCount && j < i) continue; // i + n/2 and i − n/2 coincide
                edges.Add((i, j));
            }
        }
        return Graph.FromEdges(nodeCount, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(edges));
    }
}
