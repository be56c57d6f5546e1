using System.Globalization;

namespace Flock.Topology;

/// <summary>
/// Reads graphs from edge-list text files: one undirected edge per line as two non-negative node
/// ids separated by whitespace (<c>"3 7"</c>); <c>#</c> starts a comment (whole line or trailing);
/// blank lines are ignored. Nodes are numbered from 0. The node count is given, or inferred as
/// the largest id + 1. Self loops, repeated edges (in either orientation) and ids outside the
/// node range are errors. Every error message names the source, the 1-based line number and the
/// offending text.
/// </summary>
public static class EdgeListFile
{
    /// <summary>Reads the edge list in <paramref name="path"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="nodeCount">The node count, or null to infer it as the largest id + 1.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A line is malformed, a self loop, a duplicate or out of range, or there are no edges and no node count.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nodeCount"/> is less than 1.</exception>
    public static Graph Read(string path, int? nodeCount = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Topology edge-list file '{path}' does not exist (full path: {Path.GetFullPath(path)}).", path);
        using var reader = File.OpenText(path);
        return Parse(reader, path, nodeCount);
    }

    /// <summary>Parses an edge list from <paramref name="reader"/>; <paramref name="sourceName"/> is used in error messages.</summary>
    /// <exception cref="FormatException">A line is malformed, a self loop, a duplicate or out of range, or there are no edges and no node count.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nodeCount"/> is less than 1.</exception>
    public static Graph Parse(TextReader reader, string sourceName, int? nodeCount = null)
    {
        if (nodeCount is < 1)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count for '{sourceName}': {nodeCount}; must be ≥ 1 (or omitted to infer it).");
        var edges = new List<(int, int)>();
        var firstLine = new Dictionary<long, int>();
        int lineNo = 0, maxId = -1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            int hash = line.IndexOf('#');
            var content = (hash >= 0 ? line.AsSpan(0, hash) : line.AsSpan()).Trim();
            if (content.IsEmpty) continue;
            string text = content.ToString();
            var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
                throw new FormatException($"{sourceName}:{lineNo}: expected an edge as two node ids 'u v', got '{text}'.");
            int u = ParseId(parts[0], sourceName, lineNo, text);
            int v = ParseId(parts[1], sourceName, lineNo, text);
            if (u == v)
                throw new FormatException($"{sourceName}:{lineNo}: self loop '{text}' (node {u} linked to itself); graphs here have none.");
            if (nodeCount is int n && (u >= n || v >= n))
                throw new FormatException($"{sourceName}:{lineNo}: node {Math.Max(u, v)} in '{text}' is outside [0, {n}) for a graph of {n} nodes.");
            long key = (long)Math.Min(u, v) << 32 | (uint)Math.Max(u, v);
            if (!firstLine.TryAdd(key, lineNo))
                throw new FormatException($"{sourceName}:{lineNo}: edge '{text}' repeats the edge ({Math.Min(u, v)}, {Math.Max(u, v)}) of line {firstLine[key]}; graphs here have no multi-edges.");
            edges.Add((u, v));
            maxId = Math.Max(maxId, Math.Max(u, v));
        }
        if (nodeCount is null && maxId < 0)
            throw new FormatException($"{sourceName}: no edges found ({lineNo} lines), so the node count cannot be inferred; give it explicitly.");
        return Graph.FromEdges(nodeCount ?? maxId + 1, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(edges));
    }

    private static int ParseId(string token, string source, int lineNo, string text)
    {
        if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            throw new FormatException($"{source}:{lineNo}: '{token}' in '{text}' is not a node id (a non-negative integer below {int.MaxValue}).");
        return id;
    }

    /// <summary>Writes <paramref name="graph"/> as an edge list that <see cref="Read"/> reads back (with a header comment).</summary>
    public static void Write(Graph graph, TextWriter writer)
    {
        writer.WriteLine($"# {graph}");
        foreach (var (u, v) in graph.Edges()) writer.WriteLine($"{u} {v}");
    }
}
