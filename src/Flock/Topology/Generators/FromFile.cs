namespace Flock.Topology.Generators;

/// <summary>
/// A fixed graph read from an edge-list file (<see cref="EdgeListFile"/>). The file must use node
/// ids below the experiment's node count, and, unless <see cref="RequireConnected"/> is false,
/// give a connected graph (isolated nodes are a common symptom of a node-count mismatch).
/// Relative paths are resolved against the current directory; configuration loaders should
/// resolve them against the configuration file's folder first.
/// </summary>
public sealed class FromFile : ITopologyGenerator
{
    /// <summary>Creates a generator for the edge list in <paramref name="path"/>.</summary>
    /// <param name="path">The edge-list file.</param>
    /// <param name="nodes">Expected node count (checked against the experiment's), or 0 for no check.</param>
    /// <param name="requireConnected">Reject disconnected graphs (default true).</param>
    /// <exception cref="ArgumentException">The path is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nodes"/> is negative.</exception>
    public FromFile(string path, int nodes = 0, bool requireConnected = true)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("Invalid path for file topology: empty; give the edge-list file.", nameof(path));
        if (nodes < 0) throw new ArgumentOutOfRangeException(nameof(nodes), nodes, $"Invalid nodes for file topology: {nodes}; must be ≥ 1, or 0 to use the experiment's node count.");
        Path = path;
        Nodes = nodes;
        RequireConnected = requireConnected;
    }

    /// <summary>The edge-list file.</summary>
    public string Path { get; }

    /// <summary>Expected node count, or 0.</summary>
    public int Nodes { get; }

    /// <summary>Whether a disconnected graph is rejected.</summary>
    public bool RequireConnected { get; }

    /// <inheritdoc />
    public string Name => "file";

    /// <inheritdoc />
    public bool IsRandom => false;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => $"file(path={Path}, nodes={Nodes}, require-connected={(RequireConnected ? "true" : "false")})";

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The experiment's node count differs from <see cref="Nodes"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is malformed (see <see cref="EdgeListFile"/>).</exception>
    /// <exception cref="InvalidOperationException">The graph is disconnected and <see cref="RequireConnected"/> is set.</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        if (Nodes > 0 && Nodes != nodeCount)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count for file topology '{Path}': the experiment has {nodeCount} nodes but the topology says nodes = {Nodes}.");
        var g = EdgeListFile.Read(Path, nodeCount);
        if (RequireConnected && !g.IsConnected)
        {
            var isolated = Enumerable.Range(0, nodeCount).Where(i => g.Degree(i) == 0).Take(5).ToArray();
            string hint = isolated.Length > 0 ? $" Isolated nodes include {string.Join(", ", isolated)} (does the file use ids 0…{nodeCount - 1}?)." : "";
            throw new InvalidOperationException($"File topology '{Path}' on {nodeCount} nodes has {g.ComponentCount} connected components; a connected graph is required.{hint} Set require-connected = false to allow it.");
        }
        return g;
    }
}
