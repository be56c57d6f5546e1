using Flock.Topology;

namespace Flock.Tests.Topology;

public class GraphTests
{
    [Fact]
    public void FromEdges_builds_sorted_neighbours_and_counts()
    {
        var g = Graph.FromEdges(5, new[] { (3, 0), (0, 1), (4, 0), (1, 2) });
        Assert.Equal(5, g.NodeCount);
        Assert.Equal(4, g.EdgeCount);
        Assert.Equal(new[] { 1, 3, 4 }, g.Neighbors(0).ToArray());
        Assert.Equal(new[] { 0, 2 }, g.Neighbors(1).ToArray());
        Assert.Equal(new[] { 1 }, g.Neighbors(2).ToArray());
        Assert.Equal(3, g.Degree(0));
        Assert.True(g.HasEdge(0, 3));
        Assert.True(g.HasEdge(3, 0));
        Assert.False(g.HasEdge(2, 3));
        Assert.Equal(1, g.IndexOfNeighbor(0, 3));
        Assert.Equal(-1, g.IndexOfNeighbor(0, 2));
        Assert.Equal(new DegreeSummary(1, 3, 8 / 5.0), g.Degrees);
        Assert.True(g.IsConnected);
        Assert.False(g.IsRegular);
        Assert.Equal(new[] { (0, 1), (0, 3), (0, 4), (1, 2) }, g.Edges().ToArray());
        Assert.Equal("Graph(n=5, edges=4, degree min 1 / mean 1.60 / max 3, connected)", g.ToString());
    }

    [Fact]
    public void Components_are_counted()
    {
        var g = Graph.FromEdges(7, new[] { (0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3) });
        Assert.Equal(3, g.ComponentCount); // two triangles and the isolated node 6
        Assert.False(g.IsConnected);
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 1, 2 }, g.ComponentLabels());
        Assert.True(Graph.FromEdges(1, Array.Empty<(int, int)>()).IsConnected);
    }

    [Fact]
    public void FromEdges_rejects_self_loops_duplicates_and_out_of_range()
    {
        var loop = Assert.Throws<ArgumentException>(() => Graph.FromEdges(3, new[] { (0, 1), (2, 2) }));
        Assert.Contains("self loop", loop.Message);
        Assert.Contains("(2, 2)", loop.Message);
        var dup = Assert.Throws<ArgumentException>(() => Graph.FromEdges(3, new[] { (0, 1), (1, 2), (1, 0) }));
        Assert.Contains("(0, 1)", dup.Message);
        Assert.Contains("more than once", dup.Message);
        var range = Assert.Throws<ArgumentException>(() => Graph.FromEdges(3, new[] { (0, 3) }));
        Assert.Contains("[0, 3)", range.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Graph.FromEdges(0, Array.Empty<(int, int)>()));
        var g = Graph.FromEdges(3, new[] { (0, 1) });
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => g.Neighbors(3));
        Assert.Contains("Invalid node 3", bad.Message);
    }

    [Fact]
    public void Equality_is_structural()
    {
        var a = Graph.FromEdges(4, new[] { (0, 1), (2, 3), (1, 2) });
        var b = Graph.FromEdges(4, new[] { (3, 2), (1, 0), (2, 1) });
        var c = Graph.FromEdges(4, new[] { (0, 1), (2, 3), (0, 2) });
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
    }
}
