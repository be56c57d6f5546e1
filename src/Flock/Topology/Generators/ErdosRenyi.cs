using Flock.Tensors;
using static Flock.Topology.Generators.GeneratorChecks;

namespace Flock.Topology.Generators;

/// <summary>
/// Erdős–Rényi G(n, p) (P. Erdős and A. Rényi, "On random graphs I", 1959; the G(n, p) form is
/// E. N. Gilbert's, "Random graphs", 1959): every pair is linked independently with probability p,
/// sampled in O(n + edges) by geometric skipping (V. Batagelj and U. Brandes, "Efficient
/// generation of large random networks", 2005). A disconnected sample is discarded and redrawn
/// (from the same generator stream) up to <see cref="MaxAttempts"/> times, so the result is
/// G(n, p) conditioned on being connected. Connectivity needs p above about ln(n)/n.
/// </summary>
public sealed class ErdosRenyi : ITopologyGenerator
{
    /// <summary>Creates a G(n, p) generator.</summary>
    /// <param name="p">Edge probability in (0, 1].</param>
    /// <param name="maxAttempts">Samples drawn before giving up on connectivity, in [1, 10⁶].</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public ErdosRenyi(double p, int maxAttempts = 100)
    {
        if (!(p > 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, $"Invalid edge probability p for erdos-renyi: {F(p)}; must be in (0, 1] (connectivity needs p above about ln(n)/n).");
        P = p;
        MaxAttempts = Attempts(maxAttempts, "erdos-renyi");
    }

    /// <summary>Edge probability p.</summary>
    public double P { get; }

    /// <summary>Samples drawn before giving up on connectivity.</summary>
    public int MaxAttempts { get; }

    /// <inheritdoc />
    public string Name => "erdos-renyi";

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"erdos-renyi(p={P}, max-attempts={MaxAttempts})");

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 1.</exception>
    /// <exception cref="InvalidOperationException">No connected sample within <see cref="MaxAttempts"/> draws.</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        NodeCountAtLeast(nodeCount, 1, "erdos-renyi", "a graph needs a node");
        var rng = new Rng(seed);
        var edges = new List<(int, int)>();
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            edges.Clear();
            Sample(nodeCount, P, rng, edges);
            var g = Graph.FromEdges(nodeCount, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(edges));
            if (g.IsConnected) return g;
        }
        double threshold = Math.Log(nodeCount) / nodeCount;
        throw new InvalidOperationException(
            $"erdos-renyi G(n={nodeCount}, p={F(P)}) was disconnected in all {MaxAttempts} samples. Connectivity needs p above ln(n)/n = {F(threshold)}; " +
            $"use a larger p (e.g. p ≥ {F(Math.Min(1, 2 * threshold))}) or raise max-attempts.");
    }

    /// <summary>Appends one G(n, p) sample's edges (Batagelj–Brandes skipping over the pairs (v, w), w &lt; v).</summary>
    internal static void Sample(int n, double p, Rng rng, List<(int, int)> edges)
    {
        if (p >= 1)
        {
            for (int a = 1; a < n; a++) for (int b = 0; b < a; b++) edges.Add((a, b));
            return;
        }
        double logq = Math.Log(1 - p);
        long vv = 1, w = -1;
        while (vv < n)
        {
            double r = rng.NextDouble();
            double skip = Math.Floor(Math.Log(1 - r) / logq);
            w += 1 + (long)Math.Min(skip, (double)n * n);
            while (w >= vv && vv < n) { w -= vv; vv++; }
            if (vv < n) edges.Add(((int)vv, (int)w));
        }
    }
}
