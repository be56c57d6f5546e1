using Flock.Tensors;
using static Flock.Topology.Generators.GeneratorChecks;

namespace Flock.Topology.Generators;

/// <summary>
/// Barabási–Albert preferential attachment (A.-L. Barabási and R. Albert, "Emergence of scaling
/// in random networks", 1999), as NetworkX builds it: start from a star on m + 1 nodes (node 0 the
/// centre); each further node attaches to m distinct existing nodes chosen with probability
/// proportional to their degree (uniform draws from the list of edge endpoints, repeats redrawn).
/// The result is connected and has exactly m·(n − m) edges; every node added after the star has
/// degree ≥ m (the star's leaves start with degree 1).
/// </summary>
public sealed class BarabasiAlbert : ITopologyGenerator
{
    /// <summary>Creates a generator attaching each new node with <paramref name="m"/> edges.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> is less than 1.</exception>
    public BarabasiAlbert(int m)
    {
        M = Positive(m, nameof(m), "barabasi-albert");
    }

    /// <summary>Edges added with each new node.</summary>
    public int M { get; }

    /// <inheritdoc />
    public string Name => "barabasi-albert";

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => $"barabasi-albert(m={M})";

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">n ≤ m.</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        if (nodeCount <= M)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count for barabasi-albert with m={M}: {nodeCount}; must be ≥ m+1 = {M + 1}.");
        var rng = new Rng(seed);
        int totalEdges = checked(M * (nodeCount - M));
        var edges = new (int, int)[totalEdges];
        var endpoints = new int[2 * totalEdges];
        int e = 0, len = 0;
        for (int i = 1; i <= M; i++)
        {
            edges[e++] = (0, i);
            endpoints[len++] = 0;
            endpoints[len++] = i;
        }
        var targets = new int[M];
        var chosen = new HashSet<int>();
        for (int source = M + 1; source < nodeCount; source++)
        {
            chosen.Clear();
            int t = 0;
            while (t < M)
            {
                int candidate = endpoints[rng.NextInt(len)];
                if (chosen.Add(candidate)) targets[t++] = candidate;
            }
            foreach (int target in targets)
            {
                edges[e++] = (source, target);
                endpoints[len++] = target;
                endpoints[len++] = source;
            }
        }
        return Graph.FromEdges(nodeCount, edges.AsSpan());
    }
}
