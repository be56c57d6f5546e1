using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Selection of large-magnitude entries: exact top-k (by a sampled threshold, then an exact
/// selection among the candidates) and DGC's adaptive threshold rule. Order of magnitudes:
/// |x| with NaN below every number. Ties at the k-th magnitude go to the lowest indices.
/// </summary>
internal static class Selection
{
    /// <summary>Below this dimension (or above this density) the exact path over the whole vector is used directly.</summary>
    private const int SmallDimension = 1 << 14;

    /// <summary>
    /// Writes the indices of the <paramref name="k"/> largest magnitudes of <paramref name="x"/>,
    /// in increasing index order, into <paramref name="result"/>; returns k. Ties at the k-th
    /// magnitude are broken toward lower indices. The generator only steers the threshold
    /// estimate; the result does not depend on it.
    /// </summary>
    public static int TopK(ReadOnlySpan<float> x, int k, Rng rng, Span<int> result)
    {
        int d = x.Length;
        if (k <= 0) return 0;
        if (k >= d)
        {
            for (int i = 0; i < d; i++) result[i] = i;
            return d;
        }
        if (d <= SmallDimension || k > d / 8) return ExactTopK(x, k, result);

        // Sample ~1% of the magnitudes (at least enough to see ~64 samples above the threshold).
        int m = (int)Math.Min(d / 8, Math.Max(d / 100, 64L * d / k));
        float[] sample = ArrayPool<float>.Shared.Rent(m);
        int cap = (int)Math.Min(d, 2L * k + 1024);
        int[] cand = ArrayPool<int>.Shared.Rent(cap);
        float[] keys = ArrayPool<float>.Shared.Rent(cap);
        try
        {
            var s = sample.AsSpan(0, m);
            StratifiedSample(x, rng, s);
            // Aim for 1.15·k candidates: the rank of the threshold within the sample.
            double rank = Math.Ceiling(m * 1.15 * k / d);
            for (int iter = 0; iter < 10; iter++)
            {
                int r = (int)Math.Clamp(rank, 1, m);
                float t = KthLargest(s, r);
                if (!(t > 0)) break;                           // ties at zero (or NaN): exact path
                int c = Kernels.CollectAtLeast(x, t, cand.AsSpan(0, cap));
                if (c >= k && c <= cap) return FinishTopK(x, cand.AsSpan(0, c), keys.AsSpan(0, c), k, result);
                if (c > cap)
                {
                    if (r == 1) break;                          // even the largest sample admits too many: heavy ties
                    rank = Math.Max(1, Math.Floor(r * 1.15 * k / c));
                }
                else
                {
                    if (r == m) break;
                    rank = c == 0 ? r * 4.0 : Math.Ceiling(r * 1.15 * k / c) + 1;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sample);
            ArrayPool<int>.Shared.Return(cand);
            ArrayPool<float>.Shared.Return(keys);
        }
        return ExactTopK(x, k, result);
    }

    /// <summary>
    /// DGC's threshold rule: sample ~<paramref name="sampleFraction"/> of |x|, take the threshold
    /// that keeps k of the sample and count the entries at or above it; refine at most 10 times
    /// until the count is within [0.8·k, 1.3·k]: multiply by 1.3 (too many) or 0.8 (too few) as in
    /// the paper's code until the target is bracketed, then bisect the bracket (multiplying alone
    /// can jump back and forth across a dense cluster of magnitudes forever). If no count lands in
    /// the window, the smallest threshold seen with more than k entries is used (or, if there is
    /// none, the last one). Among the candidates, the exact top-k is kept when there are more than
    /// k. Returns the number selected (≤ k; fewer when the accepted count is in [0.8·k, k)).
    /// </summary>
    public static int Dgc(ReadOnlySpan<float> x, int k, double sampleFraction, Rng rng, Span<int> result)
    {
        int d = x.Length;
        if (k <= 0) return 0;
        if (k >= d)
        {
            for (int i = 0; i < d; i++) result[i] = i;
            return d;
        }
        int m = DgcSampleLength(d, sampleFraction);
        float[] sample = ArrayPool<float>.Shared.Rent(m);
        try
        {
            var s = sample.AsSpan(0, m);
            StratifiedSample(x, rng, s);
            return DgcFromSample(x, k, s, result);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sample);
        }
    }

    /// <summary>The size of DGC's threshold sample: ⌈d·fraction⌉, at least min(d, 64).</summary>
    public static int DgcSampleLength(int d, double sampleFraction) => (int)Math.Clamp(Math.Ceiling(d * sampleFraction), Math.Min(d, 64), d);

    /// <summary>
    /// <see cref="Dgc(ReadOnlySpan{float}, int, double, Rng, Span{int})"/> from its stratified sample
    /// of magnitude keys (<see cref="DgcSampleLength"/> of them, reordered here), for 0 &lt; k &lt; d.
    /// Each count over the whole vector also collects up to ⌊1.3·k⌋ + 1 candidates, so a count that
    /// lands in the window needs no further pass; later candidates come from the pool when it covers
    /// the threshold. The counts and the result are those of counting and collecting separately.
    /// </summary>
    public static int DgcFromSample(ReadOnlySpan<float> x, int k, Span<float> sample, Span<int> result)
    {
        int d = x.Length, m = sample.Length;
        int ks = (int)Math.Clamp(Math.Ceiling((double)m * k / d), 1, m);
        float t = KthLargest(sample, ks);
        if (!(t > 0)) t = float.Epsilon;                       // most of the sample is zero
        int cap = (int)Math.Min(d, 1.3 * k + 1);                // every accepted count in the window fits
        int[] cand = ArrayPool<int>.Shared.Rent(cap);
        float tooMany = 0f, tooFew = float.PositiveInfinity;     // bracket: count(tooMany) > 1.3k, count(tooFew) < 0.8k
        int c = Kernels.CollectAtLeast(x, t, cand.AsSpan(0, cap)), cTooMany = 0;
        float collectedAt = c <= cap ? t : float.NaN;            // the threshold whose entries are in cand (all of them)
        // Once a threshold gives too many entries, every later threshold is at least that large, so
        // counts only need the entries at or above it: collect them once (when few enough) and count
        // there instead of rescanning the whole vector. The counts, hence the result, are unchanged.
        int[]? pool = null;
        int pooled = 0;
        float pooledFrom = float.PositiveInfinity;
        try
        {
            for (int iter = 0; iter < 10 && (c > 1.3 * k || c < 0.8 * k); iter++)
            {
                if (c > 1.3 * k)
                {
                    tooMany = t;
                    cTooMany = c;
                    if (pool is null && c <= 4L * k + 4096)
                    {
                        pool = ArrayPool<int>.Shared.Rent(c);
                        pooled = Kernels.CollectAtLeast(x, t, pool.AsSpan(0, c));
                        pooledFrom = t;
                    }
                    t = float.IsPositiveInfinity(tooFew) ? t * 1.3f : 0.5f * (t + tooFew);
                }
                else
                {
                    tooFew = t;
                    t = tooMany == 0f ? t * 0.8f : 0.5f * (tooMany + t);
                }
                if (pool is not null && t >= pooledFrom) c = CountAtLeast(x, pool.AsSpan(0, pooled), t);
                else
                {
                    c = Kernels.CollectAtLeast(x, t, cand.AsSpan(0, cap));
                    collectedAt = c <= cap ? t : float.NaN;
                }
            }
            if ((c > 1.3 * k || c < 0.8 * k) && tooMany > 0f && c < k)
            {
                t = tooMany;
                c = cTooMany;
            }
            if (c == 0) return 0;
            if (c > cap)
            {
                ArrayPool<int>.Shared.Return(cand);
                cand = ArrayPool<int>.Shared.Rent(c);
                collectedAt = float.NaN;
            }
            int got;
            if (t == collectedAt) got = c;                          // collected by the count itself
            else if (pool is not null && t >= pooledFrom) got = Filter(x, pool.AsSpan(0, pooled), t, cand);
            else got = Kernels.CollectAtLeast(x, t, cand.AsSpan(0, c));
            if (got <= k)
            {
                cand.AsSpan(0, got).CopyTo(result);
                return got;
            }
            float[] keys = ArrayPool<float>.Shared.Rent(got);
            try
            {
                return FinishTopK(x, cand.AsSpan(0, got), keys.AsSpan(0, got), k, result);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(keys);
            }
        }
        finally
        {
            if (pool is not null) ArrayPool<int>.Shared.Return(pool);
            ArrayPool<int>.Shared.Return(cand);
        }
    }

    /// <summary>The <paramref name="candidates"/> (increasing) with |x| ≥ <paramref name="threshold"/>, in order; returns how many.</summary>
    private static int Filter(ReadOnlySpan<float> x, ReadOnlySpan<int> candidates, float threshold, Span<int> kept)
    {
        int o = 0;
        foreach (int i in candidates) if (MathF.Abs(x[i]) >= threshold) kept[o++] = i;
        return o;
    }

    /// <summary>
    /// Fills <paramref name="sample"/> with the magnitudes of one random entry from each of
    /// sample.Length equal strata of <paramref name="x"/> (stratified sampling). Addresses increase,
    /// so the reads stream through memory instead of missing the cache once per sample as uniform
    /// random indices do; every entry is still equally likely to be drawn. The indices are drawn
    /// first (<see cref="StratifiedIndices"/>), then gathered with the entries a few samples ahead
    /// prefetched, so the gathers do not wait on memory one at a time.
    /// </summary>
    private static unsafe void StratifiedSample(ReadOnlySpan<float> x, Rng rng, Span<float> sample)
    {
        var indices = MemoryMarshal.Cast<float, int>(sample);                 // drawn in place, then replaced by the keys
        StratifiedIndices(x.Length, rng, indices);
        int m = sample.Length;
        ref int ir = ref MemoryMarshal.GetReference(indices);
        ref float sr = ref MemoryMarshal.GetReference(sample);
        fixed (float* xp = x)
        {
            int j = 0;
            if (Sse.IsSupported)
                for (; j + SampleAhead < m; j++)
                {
                    Sse.Prefetch0(xp + Unsafe.Add(ref ir, j + SampleAhead));
                    Unsafe.Add(ref sr, j) = Kernels.MagnitudeKey(xp[Unsafe.Add(ref ir, j)]);
                }
            for (; j < m; j++) Unsafe.Add(ref sr, j) = Kernels.MagnitudeKey(xp[Unsafe.Add(ref ir, j)]);
        }
    }

    /// <summary>How many samples ahead <see cref="StratifiedSample"/> prefetches.</summary>
    private const int SampleAhead = 32;

    /// <summary>
    /// The indices of a stratified sample of [0, d): one uniform index in each of indices.Length equal
    /// strata, increasing, from one <see cref="Rng.NextDouble"/> per stratum in order.
    /// </summary>
    public static void StratifiedIndices(int d, Rng rng, Span<int> indices)
    {
        int m = indices.Length;
        double width = (double)d / m;
        for (int j = 0; j < m; j++)
        {
            int i = (int)((j + rng.NextDouble()) * width);
            indices[j] = Math.Min(i, d - 1);
        }
    }

    /// <summary>How many of the <paramref name="candidates"/> have |x| ≥ <paramref name="threshold"/> (NaN never counts).</summary>
    private static int CountAtLeast(ReadOnlySpan<float> x, ReadOnlySpan<int> candidates, float threshold)
    {
        int count = 0;
        foreach (int i in candidates) if (MathF.Abs(x[i]) >= threshold) count++;
        return count;
    }

    /// <summary>Exact top-k among sorted candidate indices (all other entries are known to be smaller).</summary>
    private static int FinishTopK(ReadOnlySpan<float> x, ReadOnlySpan<int> candidates, Span<float> keys, int k, Span<int> result)
    {
        int c = candidates.Length;
        if (c == k)
        {
            candidates.CopyTo(result);
            return k;
        }
        // Gather the candidates' magnitudes once (in index order); selection reorders a copy.
        float[] ordered = ArrayPool<float>.Shared.Rent(c);
        try
        {
            var inOrder = ordered.AsSpan(0, c);
            for (int j = 0; j < c; j++) inOrder[j] = Kernels.MagnitudeKey(x[candidates[j]]);
            inOrder.CopyTo(keys);
            float kth = KthLargest(keys, k);
            int greater = 0;
            for (int j = 0; j < c; j++) if (inOrder[j] > kth) greater++;
            int ties = k - greater, o = 0;
            for (int j = 0; j < c; j++)
            {
                float key = inOrder[j];
                if (key > kth || (key == kth && ties-- > 0)) result[o++] = candidates[j];
            }
            return o;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(ordered);
        }
    }

    /// <summary>Exact top-k over the whole vector (small vectors, large k, heavy ties).</summary>
    private static int ExactTopK(ReadOnlySpan<float> x, int k, Span<int> result)
    {
        int d = x.Length;
        float[] keys = ArrayPool<float>.Shared.Rent(d);
        try
        {
            var s = keys.AsSpan(0, d);
            for (int i = 0; i < d; i++) s[i] = Kernels.MagnitudeKey(x[i]);
            float kth = KthLargest(s, k);
            int greater = 0;
            for (int i = 0; i < d; i++) if (Kernels.MagnitudeKey(x[i]) > kth) greater++;
            int ties = k - greater, o = 0;
            for (int i = 0; i < d; i++)
            {
                float key = Kernels.MagnitudeKey(x[i]);
                if (key > kth || (key == kth && ties-- > 0)) result[o++] = i;
            }
            return o;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(keys);
        }
    }

    /// <summary>
    /// The <paramref name="k"/>-th largest value (1-based) of <paramref name="values"/>, which is
    /// reordered. Introselect: median-of-three quickselect, falling back to a sort after too many
    /// partitions. Values must not be NaN.
    /// </summary>
    public static float KthLargest(Span<float> values, int k)
    {
        int n = values.Length;
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"Invalid rank {k}; must be in [1, {n}].");
        int target = n - k;                                    // index in ascending order
        int lo = 0, hi = n - 1, budget = 2 * (BitOperations.Log2((uint)n) + 1);
        while (hi > lo)
        {
            if (hi - lo < 16 || budget-- == 0)
            {
                values[lo..(hi + 1)].Sort();
                return values[target];
            }
            int mid = lo + ((hi - lo) >> 1);
            if (values[mid] < values[lo]) (values[mid], values[lo]) = (values[lo], values[mid]);
            if (values[hi] < values[lo]) (values[hi], values[lo]) = (values[lo], values[hi]);
            if (values[hi] < values[mid]) (values[hi], values[mid]) = (values[mid], values[hi]);
            float pivot = values[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return values[target];
        }
        return values[target];
    }
}
