namespace Flock.Topology.Generators;

/// <summary>Star: node 0 is the centre, linked to every other node; leaves have degree 1. Deterministic.</summary>
public sealed class Star : ITopologyGenerator
{
    /// <inheritdoc />
    public string Name => "star";

    /// <inheritdoc />
    public bool IsRandom => false;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => "star";

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 2.</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        GeneratorChecks.NodeCountAtLeast(nodeCount, 2, "star", "a centre and at least one leaf");
        var edges = new (int, int)[nodeCount - 1];
        for (int i = 1; i < nodeCount; i++) edges[i - 1] = (0, i);
        return Graph.FromEdges(nodeCount, edges.AsSpan());
    }
}
