using Flock.Tensors;
using static Flock.Topology.Generators.GeneratorChecks;

namespace Flock.Topology.Generators;

/// <summary>
/// Watts–Strogatz small world (D. J. Watts and S. H. Strogatz, "Collective dynamics of
/// 'small-world' networks", 1998): start from the <see cref="Ring"/> lattice with
/// <see cref="K"/> neighbours <b>on each side</b> (degree 2k — note that NetworkX's k is the total
/// degree 2k), then, for each lattice offset j = 1…k and each node u in order, with probability β
/// replace the edge (u, u + j) by (u, w) with w uniform among the nodes that are neither u nor
/// already adjacent to u (NetworkX's <c>watts_strogatz_graph</c> procedure). β = 0 gives exactly
/// the ring lattice; the edge count is always n·k. Disconnected samples are redrawn up to
/// <see cref="MaxAttempts"/> times (as NetworkX's <c>connected_watts_strogatz_graph</c>).
/// </summary>
public sealed class WattsStrogatz : ITopologyGenerator
{
    /// <summary>Creates a Watts–Strogatz generator.</summary>
    /// <param name="k">Lattice neighbours on each side, ≥ 1.</param>
    /// <param name="beta">Rewiring probability in [0, 1].</param>
    /// <param name="maxAttempts">Samples drawn before giving up on connectivity, in [1, 10⁶].</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public WattsStrogatz(int k, double beta, int maxAttempts = 100)
    {
        K = Positive(k, nameof(k), "watts-strogatz");
        if (!(beta >= 0 && beta <= 1))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"Invalid rewiring probability beta for watts-strogatz: {F(beta)}; must be in [0, 1].");
        Beta = beta;
        MaxAttempts = Attempts(maxAttempts, "watts-strogatz");
    }

    /// <summary>Lattice neighbours on each side.</summary>
    public int K { get; }

    /// <summary>Rewiring probability β.</summary>
    public double Beta { get; }

    /// <summary>Samples drawn before giving up on connectivity.</summary>
    public int MaxAttempts { get; }

    /// <inheritdoc />
    public string Name => "watts-strogatz";

    /// <inheritdoc />
    public bool IsRandom => Beta > 0;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"watts-strogatz(k={K}, beta={Beta}, max-attempts={MaxAttempts})");

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 2k + 1.</exception>
    /// <exception cref="InvalidOperationException">No connected sample within <see cref="MaxAttempts"/> draws.</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        if (nodeCount < 2 * K + 1)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount,
                $"Invalid node count for watts-strogatz with k={K}: {nodeCount}; must be ≥ 2k+1 = {2 * K + 1} (k counts lattice neighbours on each side).");
        if (Beta == 0) return Ring.Lattice(nodeCount, K);
        var rng = new Rng(seed);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var g = Graph.FromSymmetricSets(Sample(nodeCount, rng));
            if (g.IsConnected) return g;
        }
        throw new InvalidOperationException(
            $"watts-strogatz with k={K}, beta={F(Beta)} on n={nodeCount} nodes was disconnected in all {MaxAttempts} samples; use a larger k, a smaller beta, or raise max-attempts.");
    }

    private HashSet<int>[] Sample(int n, Rng rng)
    {
        var adj = new HashSet<int>[n];
        for (int i = 0; i < n; i++) adj[i] = new HashSet<int>(2 * K + 2);
        for (int j = 1; j <= K; j++)
            for (int u = 0; u < n; u++)
            {
                int v = (u + j) % n;
                adj[u].Add(v);
                adj[v].Add(u);
            }
        for (int j = 1; j <= K; j++)
            for (int u = 0; u < n; u++)
            {
                if (!(rng.NextDouble() < Beta)) continue;
                if (adj[u].Count >= n - 1) continue; // u is adjacent to everyone: nothing to rewire to
                int w;
                do { w = rng.NextInt(n); } while (w == u || adj[u].Contains(w));
                int v = (u + j) % n;
                adj[u].Remove(v);
                adj[v].Remove(u);
                adj[u].Add(w);
                adj[w].Add(u);
            }
        return adj;
    }
}
