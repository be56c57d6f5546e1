using Flock.Tensors;
using static Flock.Topology.Generators.GeneratorChecks;

namespace Flock.Topology.Generators;

/// <summary>
/// Uniformly-ish random k-regular graph by the pairing model with partial restarts
/// (A. Steger and N. C. Wormald, "Generating random regular graphs quickly", 1999), as NetworkX's
/// <c>random_regular_graph</c> does it: shuffle the n·k half-edges, pair them up, keep the valid
/// pairs, re-pair only the leftover half-edges, and restart from scratch when no valid pair is
/// left. For dense k (k &gt; (n − 1)/2) the complement of a random (n − 1 − k)-regular graph is
/// returned instead, which is again k-regular and is always connected. Disconnected samples are
/// redrawn up to <see cref="MaxAttempts"/> times (k ≥ 3 is connected with high probability;
/// k = 2 is a union of cycles and rarely a single one for large n).
/// </summary>
public sealed class KRegular : ITopologyGenerator
{
    /// <summary>Creates a random k-regular generator.</summary>
    /// <param name="k">Degree ≥ 1 (k = 1 is only connected for n = 2).</param>
    /// <param name="maxAttempts">Samples drawn before giving up on connectivity, in [1, 10⁶].</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public KRegular(int k, int maxAttempts = 100)
    {
        K = Positive(k, nameof(k), "k-regular");
        MaxAttempts = Attempts(maxAttempts, "k-regular");
    }

    /// <summary>The common degree k.</summary>
    public int K { get; }

    /// <summary>Samples drawn before giving up on connectivity (also bounds the pairing restarts, ×100).</summary>
    public int MaxAttempts { get; }

    /// <inheritdoc />
    public string Name => "k-regular";

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => $"k-regular(k={K}, max-attempts={MaxAttempts})";

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">k ≥ n, n·k odd, or k = 1 with n ≠ 2.</exception>
    /// <exception cref="InvalidOperationException">No connected sample within <see cref="MaxAttempts"/> draws.</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        if (K >= nodeCount)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count for k-regular with k={K}: {nodeCount}; must be > k (use \"complete\" for k = n−1).");
        if ((long)nodeCount * K % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count for k-regular with k={K}: {nodeCount}; n·k = {(long)nodeCount * K} must be even (use an even n or an even k).");
        if (K == 1 && nodeCount != 2)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count for k-regular with k=1: {nodeCount}; a 1-regular graph is a perfect matching, connected only for n = 2 (use k ≥ 3).");
        var rng = new Rng(seed);
        bool complement = K > (nodeCount - 1) / 2;
        int k = complement ? nodeCount - 1 - K : K;
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var adjacency = Sample(nodeCount, k, rng, 100 * MaxAttempts);
            if (complement) adjacency = Complement(adjacency);
            var g = Graph.FromSymmetricSets(adjacency);
            if (g.IsConnected) return g;
        }
        throw new InvalidOperationException(
            $"k-regular with k={K} on n={nodeCount} nodes was disconnected in all {MaxAttempts} samples{(K == 2 ? " (a random 2-regular graph is a union of cycles; use k ≥ 3, or \"ring\" for a single cycle)" : "")}; use a larger k or raise max-attempts.");
    }

    private static HashSet<int>[] Sample(int n, int k, Rng rng, int maxRestarts)
    {
        var adjacency = new HashSet<int>[n];
        for (int i = 0; i < n; i++) adjacency[i] = new HashSet<int>();
        if (k == 0) return adjacency;
        var stubs = new List<int>(n * k);
        var leftover = new Dictionary<int, int>();
        for (int restart = 0; restart < maxRestarts; restart++)
        {
            foreach (var set in adjacency) set.Clear();
            stubs.Clear();
            for (int r = 0; r < k; r++) for (int i = 0; i < n; i++) stubs.Add(i);
            bool failed = false;
            while (stubs.Count > 0)
            {
                leftover.Clear();
                rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(stubs));
                for (int s = 0; s + 1 < stubs.Count; s += 2)
                {
                    int a = stubs[s], b = stubs[s + 1];
                    if (a != b && !adjacency[a].Contains(b)) { adjacency[a].Add(b); adjacency[b].Add(a); }
                    else
                    {
                        leftover[a] = leftover.GetValueOrDefault(a) + 1;
                        leftover[b] = leftover.GetValueOrDefault(b) + 1;
                    }
                }
                if (leftover.Count == 0) break;
                if (!AnySuitablePair(leftover.Keys, adjacency)) { failed = true; break; }
                stubs.Clear();
                foreach (var (node, count) in leftover.OrderBy(kv => kv.Key))
                    for (int c = 0; c < count; c++) stubs.Add(node);
            }
            if (!failed) return adjacency;
        }
        throw new InvalidOperationException($"k-regular with k={k} on n={n} nodes: the pairing model failed {maxRestarts} times in a row; this should not happen for k < n/2 — please report it.");
    }

    private static bool AnySuitablePair(IEnumerable<int> nodes, HashSet<int>[] adjacency)
    {
        var list = nodes.ToArray();
        for (int i = 0; i < list.Length; i++)
            for (int j = i + 1; j < list.Length; j++)
                if (!adjacency[list[i]].Contains(list[j])) return true;
        return false;
    }

    private static HashSet<int>[] Complement(HashSet<int>[] adjacency)
    {
        int n = adjacency.Length;
        var result = new HashSet<int>[n];
        for (int i = 0; i < n; i++)
        {
            result[i] = new HashSet<int>();
            for (int j = 0; j < n; j++)
                if (j != i && !adjacency[i].Contains(j)) result[i].Add(j);
        }
        return result;
    }
}
