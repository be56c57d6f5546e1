namespace Flock.Topology.Generators;

/// <summary>The complete graph: every pair of nodes is linked (degree n − 1). Deterministic.</summary>
public sealed class Complete : ITopologyGenerator
{
    /// <inheritdoc />
    public string Name => "complete";

    /// <inheritdoc />
    public bool IsRandom => false;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => "complete";

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 1, or n so large that the edge count overflows.</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        GeneratorChecks.NodeCountAtLeast(nodeCount, 1, "complete", "a graph needs a node");
        long m = (long)nodeCount * (nodeCount - 1) / 2;
        if (m > int.MaxValue / 2)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count for complete: {nodeCount}; its {m} edges exceed the supported {int.MaxValue / 2}.");
        var edges = new (int, int)[m];
        int e = 0;
        for (int i = 0; i < nodeCount; i++)
            for (int j = i + 1; j < nodeCount; j++)
                edges[e++] = (i, j);
        return Graph.FromEdges(nodeCount, edges.AsSpan());
    }
}
