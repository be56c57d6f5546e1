using System.Text;

namespace Flock.Topology;

/// <summary>
/// An immutable undirected simple graph on nodes <c>0 … NodeCount−1</c>: no self loops, no
/// multi-edges, every node's neighbours sorted ascending. Stored in compressed sparse rows (one
/// offset array, one neighbour array holding each edge twice), so <see cref="Neighbors"/> is a
/// slice and per-edge data (mixing weights) can be kept aligned with it. Safe to share between
/// threads.
/// </summary>
public sealed class Graph : IEquatable<Graph>
{
    private readonly int[] _offsets;
    private readonly int[] _targets;

    private Graph(int nodeCount, int[] offsets, int[] targets)
    {
        NodeCount = nodeCount;
        _offsets = offsets;
        _targets = targets;
        ComponentCount = CountComponents();
        int min = int.MaxValue, max = 0;
        for (int i = 0; i < nodeCount; i++)
        {
            int d = offsets[i + 1] - offsets[i];
            if (d < min) min = d;
            if (d > max) max = d;
        }
        Degrees = new DegreeSummary(nodeCount == 0 ? 0 : min, max, nodeCount == 0 ? 0 : targets.Length / (double)nodeCount);
    }

    /// <summary>
    /// Builds a graph from a list of undirected edges <c>(u, v)</c> (either orientation).
    /// </summary>
    /// <param name="nodeCount">Number of nodes n ≥ 1.</param>
    /// <param name="edges">Each edge once; order does not matter.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nodeCount"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">An edge is a self loop, names a node outside [0, n), or appears twice.</exception>
    public static Graph FromEdges(int nodeCount, ReadOnlySpan<(int U, int V)> edges)
    {
        if (nodeCount < 1) throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count: {nodeCount}; a graph needs at least 1 node.");
        var degree = new int[nodeCount];
        for (int e = 0; e < edges.Length; e++)
        {
            var (u, v) = edges[e];
            if ((uint)u >= (uint)nodeCount || (uint)v >= (uint)nodeCount)
                throw new ArgumentException($"Edge #{e} ({u}, {v}) names a node outside [0, {nodeCount}).", nameof(edges));
            if (u == v) throw new ArgumentException($"Edge #{e} ({u}, {v}) is a self loop; graphs here have none.", nameof(edges));
            degree[u]++;
            degree[v]++;
        }
        var offsets = new int[nodeCount + 1];
        for (int i = 0; i < nodeCount; i++) offsets[i + 1] = checked(offsets[i] + degree[i]);
        var targets = new int[offsets[nodeCount]];
        var fill = offsets.AsSpan(0, nodeCount).ToArray();
        foreach (var (u, v) in edges)
        {
            targets[fill[u]++] = v;
            targets[fill[v]++] = u;
        }
        for (int i = 0; i < nodeCount; i++)
        {
            var row = targets.AsSpan(offsets[i], offsets[i + 1] - offsets[i]);
            row.Sort();
            for (int j = 1; j < row.Length; j++)
                if (row[j] == row[j - 1])
                    throw new ArgumentException($"Edge ({Math.Min(i, row[j])}, {Math.Max(i, row[j])}) appears more than once; graphs here have no multi-edges.", nameof(edges));
        }
        return new Graph(nodeCount, offsets, targets);
    }

    /// <summary>Builds a graph from a list of undirected edges.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nodeCount"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">An edge is a self loop, names a node outside [0, n), or appears twice.</exception>
    public static Graph FromEdges(int nodeCount, IEnumerable<(int U, int V)> edges) =>
        FromEdges(nodeCount, edges.ToArray().AsSpan());

    /// <summary>Builds a graph from per-node neighbour sets that are already symmetric and loop-free (generators only).</summary>
    internal static Graph FromSymmetricSets(IReadOnlyList<HashSet<int>> adjacency)
    {
        int n = adjacency.Count;
        var offsets = new int[n + 1];
        for (int i = 0; i < n; i++) offsets[i + 1] = checked(offsets[i] + adjacency[i].Count);
        var targets = new int[offsets[n]];
        for (int i = 0; i < n; i++)
        {
            adjacency[i].CopyTo(targets, offsets[i]);
            Array.Sort(targets, offsets[i], adjacency[i].Count);
        }
        return new Graph(n, offsets, targets);
    }

    /// <summary>Number of nodes n.</summary>
    public int NodeCount { get; }

    /// <summary>Number of undirected edges.</summary>
    public int EdgeCount => _targets.Length / 2;

    /// <summary>Minimum, maximum and mean degree.</summary>
    public DegreeSummary Degrees { get; }

    /// <summary>Number of connected components (1 for a connected graph).</summary>
    public int ComponentCount { get; }

    /// <summary>True when every node can reach every other node.</summary>
    public bool IsConnected => ComponentCount == 1;

    /// <summary>True when every node has the same degree.</summary>
    public bool IsRegular => Degrees.Min == Degrees.Max;

    /// <summary>Degree of node <paramref name="node"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="node"/> is outside [0, n).</exception>
    public int Degree(int node)
    {
        CheckNode(node);
        return _offsets[node + 1] - _offsets[node];
    }

    /// <summary>The neighbours of <paramref name="node"/>, sorted ascending.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="node"/> is outside [0, n).</exception>
    public ReadOnlySpan<int> Neighbors(int node)
    {
        CheckNode(node);
        return _targets.AsSpan(_offsets[node], _offsets[node + 1] - _offsets[node]);
    }

    /// <summary>
    /// Position of <paramref name="neighbor"/> in <see cref="Neighbors"/>(<paramref name="node"/>),
    /// or −1 if the two are not adjacent (binary search). Per-edge arrays such as
    /// <see cref="MixingMatrix.NeighborWeights"/> use the same positions.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="node"/> is outside [0, n).</exception>
    public int IndexOfNeighbor(int node, int neighbor)
    {
        int i = Neighbors(node).BinarySearch(neighbor);
        return i < 0 ? -1 : i;
    }

    /// <summary>True if <paramref name="u"/> and <paramref name="v"/> are adjacent.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A node is outside [0, n).</exception>
    public bool HasEdge(int u, int v)
    {
        CheckNode(v);
        return IndexOfNeighbor(u, v) >= 0;
    }

    /// <summary>Every edge once, as <c>(u, v)</c> with <c>u &lt; v</c>, in lexicographic order.</summary>
    public IEnumerable<(int U, int V)> Edges()
    {
        for (int u = 0; u < NodeCount; u++)
            for (int k = _offsets[u]; k < _offsets[u + 1]; k++)
                if (_targets[k] > u) yield return (u, _targets[k]);
    }

    /// <summary>Start of each node's slice in the neighbour array (length n + 1); per-edge data aligns with it.</summary>
    internal ReadOnlySpan<int> Offsets => _offsets;

    /// <summary>All neighbour lists back to back (length 2·EdgeCount).</summary>
    internal ReadOnlySpan<int> Targets => _targets;

    /// <summary>Component label of every node (labels 0, 1, … in order of their smallest node).</summary>
    public int[] ComponentLabels()
    {
        var label = new int[NodeCount];
        Array.Fill(label, -1);
        var stack = new int[NodeCount];
        int next = 0;
        for (int s = 0; s < NodeCount; s++)
        {
            if (label[s] >= 0) continue;
            int top = 0;
            stack[top++] = s;
            label[s] = next;
            while (top > 0)
            {
                int u = stack[--top];
                for (int k = _offsets[u]; k < _offsets[u + 1]; k++)
                {
                    int v = _targets[k];
                    if (label[v] < 0) { label[v] = next; stack[top++] = v; }
                }
            }
            next++;
        }
        return label;
    }

    private int CountComponents()
    {
        var labels = ComponentLabels();
        int c = 0;
        foreach (int l in labels) c = Math.Max(c, l + 1);
        return c;
    }

    private void CheckNode(int node)
    {
        if ((uint)node >= (uint)NodeCount)
            throw new ArgumentOutOfRangeException(nameof(node), node, $"Invalid node {node}; must be in [0, {NodeCount}).");
    }

    /// <summary>Structural equality: same node count and the same edges.</summary>
    public bool Equals(Graph? other) =>
        other is not null && NodeCount == other.NodeCount &&
        _offsets.AsSpan().SequenceEqual(other._offsets) && _targets.AsSpan().SequenceEqual(other._targets);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Graph g && Equals(g);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(NodeCount);
        foreach (int t in _targets) h.Add(t);
        return h.ToHashCode();
    }

    /// <summary>A one-line description, e.g. <c>Graph(n=16, edges=32, degree min 4 / mean 4.00 / max 4, connected)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Graph(n=").Append(NodeCount).Append(", edges=").Append(EdgeCount).Append(", ").Append(Degrees).Append(", ");
        sb.Append(IsConnected ? "connected" : $"{ComponentCount} components").Append(')');
        return sb.ToString();
    }
}

/// <summary>Degree statistics of a <see cref="Graph"/>.</summary>
/// <param name="Min">Smallest degree.</param>
/// <param name="Max">Largest degree.</param>
/// <param name="Mean">Mean degree (2·edges / n).</param>
public readonly record struct DegreeSummary(int Min, int Max, double Mean)
{
    /// <summary>E.g. <c>degree min 2 / mean 2.00 / max 2</c>.</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"degree min {Min} / mean {Mean:F2} / max {Max}");
}
