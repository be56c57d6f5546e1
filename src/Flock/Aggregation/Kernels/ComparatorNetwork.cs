using System.Collections.Concurrent;

namespace Flock.Aggregation.Kernels;

/// <summary>What the reduction after a comparator network needs from one output position.</summary>
internal enum RankRole : byte
{
    /// <summary>Not used.</summary>
    Dead,
    /// <summary>Used only through the sum of all <see cref="Summed"/> positions (so their order among themselves is irrelevant).</summary>
    Summed,
    /// <summary>Its exact rank-ordered value is used.</summary>
    Live,
}

/// <summary>
/// A comparator network (a fixed sequence of compare-exchange steps) that sorts n values as far as
/// a given reduction needs: Batcher's odd–even merge sort for arbitrary n, pruned backwards of
/// every comparator that cannot influence the needed ranks (both outputs unused, or both only
/// summed). Run over vectors, one network sorts 16 coordinates per vector lane at once.
/// Networks are built once per (kind, n, f) and cached.
/// </summary>
internal sealed class ComparatorNetwork
{
    private static readonly ConcurrentDictionary<(int Kind, int N, int F), ComparatorNetwork> Cache = new();

    private ComparatorNetwork(int size, int[] pairs)
    {
        Size = size;
        Pairs = pairs;
    }

    /// <summary>Number of values.</summary>
    public int Size { get; }

    /// <summary>Comparators as (low index, high index) pairs, flattened; after each, low ≤ high.</summary>
    public int[] Pairs { get; }

    /// <summary>Number of comparators.</summary>
    public int Count => Pairs.Length / 2;

    /// <summary>A full sorting network.</summary>
    public static ComparatorNetwork Sorting(int n) =>
        Cache.GetOrAdd((0, n, 0), k => Build(k.N, _ => RankRole.Live));

    /// <summary>Enough to sum the median position(s): the middle one (odd n) or the two middle ones (even n).</summary>
    public static ComparatorNetwork ForMedian(int n) =>
        Cache.GetOrAdd((1, n, 0), k => Build(k.N, p => IsMedianPosition(k.N, p) ? RankRole.Summed : RankRole.Dead));

    /// <summary>Enough to sum ranks f … n−f−1.</summary>
    public static ComparatorNetwork ForTrimmedMean(int n, int f) =>
        Cache.GetOrAdd((2, n, f), k => Build(k.N, p => p >= k.F && p < k.N - k.F ? RankRole.Summed : RankRole.Dead));

    /// <summary>
    /// Enough for "mean of the n−f values closest to the median": ranks below f and from n−f on
    /// exactly (they may or may not be in the window), the median rank(s) exactly, the rest summed.
    /// </summary>
    public static ComparatorNetwork ForMeamed(int n, int f) =>
        Cache.GetOrAdd((3, n, f), k => Build(k.N, p =>
            k.F == 0 ? RankRole.Summed
            : p < k.F || p >= k.N - k.F || IsMedianPosition(k.N, p) ? RankRole.Live
            : RankRole.Summed));

    /// <summary>True for the median rank(s) of n values.</summary>
    public static bool IsMedianPosition(int n, int p) => n % 2 == 1 ? p == n / 2 : p == n / 2 - 1 || p == n / 2;

    /// <summary>Batcher's odd–even merge sort comparators for n values (comparators past n dropped).</summary>
    internal static List<(int Lo, int Hi)> Batcher(int n)
    {
        var list = new List<(int, int)>();
        for (int p = 1; p < n; p <<= 1)
            for (int k = p; k >= 1; k >>= 1)
                for (int j = k % p; j <= n - 1 - k; j += 2 * k)
                    for (int i = 0; i <= Math.Min(k - 1, n - j - k - 1); i++)
                        if ((i + j) / (p * 2) == (i + j + k) / (p * 2))
                            list.Add((i + j, i + j + k));
        return list;
    }

    /// <summary>Builds and prunes a network for n values given each output position's role.</summary>
    internal static ComparatorNetwork Build(int n, Func<int, RankRole> role)
    {
        var comps = Batcher(n);
        var state = new RankRole[n];
        for (int p = 0; p < n; p++) state[p] = role(p);
        var keep = new bool[comps.Count];
        int kept = 0;
        for (int c = comps.Count - 1; c >= 0; c--)
        {
            var (lo, hi) = comps[c];
            RankRole a = state[lo], b = state[hi];
            if (a == RankRole.Dead && b == RankRole.Dead) continue;
            // Both outputs only summed: the comparator permutes two summands, the sum is unchanged.
            if (a == RankRole.Summed && b == RankRole.Summed) continue;
            keep[c] = true;
            kept++;
            state[lo] = state[hi] = RankRole.Live;
        }
        var pairs = new int[2 * kept];
        int w = 0;
        for (int c = 0; c < comps.Count; c++)
        {
            if (!keep[c]) continue;
            pairs[w++] = comps[c].Lo;
            pairs[w++] = comps[c].Hi;
        }
        return new ComparatorNetwork(n, pairs);
    }
}
