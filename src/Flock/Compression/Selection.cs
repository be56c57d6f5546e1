using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
    /// Candidates collected above a sampled threshold for the top k of d entries; result buffers at
    /// least this long let <see cref="TopK"/> write the kept entries straight from the candidates.
    /// </summary>
    public static int TopKCapacity(int d, int k) => (int)Math.Min(d, 2L * k + 1024);

    /// <summary>
    /// Writes the indices of the <paramref name="k"/> largest magnitudes of <paramref name="x"/>,
    /// in increasing index order, into <paramref name="result"/>, and their entries into
    /// <paramref name="values"/> unless it is empty; returns k. Ties at the k-th magnitude are broken
    /// toward lower indices. The generator only steers the threshold estimate; the result does not
    /// depend on it.
    /// </summary>
    public static int TopK(ReadOnlySpan<float> x, int k, Rng rng, Span<int> result, Span<float> values = default)
    {
        int d = x.Length;
        if (k <= 0) return 0;
        if (k >= d)
        {
            for (int i = 0; i < d; i++) result[i] = i;
            if (!values.IsEmpty) x.CopyTo(values);
            return d;
        }
        int n = TopKIndices(x, k, rng, result, values);
        if (n < 0)
        {
            n = ExactTopK(x, k, result);
            if (!values.IsEmpty) Gather(x, result[..n], values);
        }
        return n;
    }

    /// <summary>values[j] = x[indices[j]].</summary>
    private static void Gather(ReadOnlySpan<float> x, ReadOnlySpan<int> indices, Span<float> values)
    {
        for (int j = 0; j < indices.Length; j++) values[j] = x[indices[j]];
    }

    /// <summary>
    /// <see cref="TopK"/> through a sampled threshold for 0 &lt; k &lt; d; returns −1 when the exact
    /// path over the whole vector is needed (small vectors, large k, heavy ties).
    /// </summary>
    private static int TopKIndices(ReadOnlySpan<float> x, int k, Rng rng, Span<int> result, Span<float> values)
    {
        int d = x.Length;
        if (d <= SmallDimension || k > d / 8) return -1;

        // Sample 0.25% of the magnitudes (at least enough to see ~64 samples above the threshold).
        int m = (int)Math.Min(d / 8, Math.Max(d / 400, 64L * d / k));
        float[] sample = ArrayPool<float>.Shared.Rent(m);
        int cap = TopKCapacity(d, k);
        int[] cand = ArrayPool<int>.Shared.Rent(cap);
        float[] candValues = ArrayPool<float>.Shared.Rent(cap);
        float[] keys = ArrayPool<float>.Shared.Rent(cap);
        try
        {
            var s = sample.AsSpan(0, m);
            StratifiedSample(x, rng, s);
            // Aim for the sample rank a = m·k/d (k entries expected above) plus four standard deviations
            // of the count (√a in sample units), so that fewer than k candidates is rare; ≤ 2k + 1024 holds
            // at four deviations above as well, since a ≥ 64.
            double a = (double)m * k / d;
            double rank = Math.Ceiling(a + 4 * Math.Sqrt(a));
            for (int iter = 0; iter < 10; iter++)
            {
                int r = (int)Math.Clamp(rank, 1, m);
                float t = KthLargest(s, r);
                if (!(t > 0)) break;                           // ties at zero (or NaN): exact path
                int c = Candidates.AtLeast(x, t, cand.AsSpan(0, cap), candValues.AsSpan(0, cap));
                if (c >= k && c <= cap) return FinishTopK(cand.AsSpan(0, c), candValues.AsSpan(0, c), keys.AsSpan(0, c), k, result, values);
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
            ArrayPool<float>.Shared.Return(candValues);
            ArrayPool<float>.Shared.Return(keys);
        }
        return -1;
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
        int d = x.Length;
        float t = DgcThreshold(d, k, sample);
        int cap = DgcCapacity(d, k);
        int[] cand = ArrayPool<int>.Shared.Rent(cap);
        try
        {
            int c = Candidates.AtLeast(x, t, cand.AsSpan(0, cap));
            return DgcRefine(x, k, t, c, ref cand, result);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(cand);
        }
    }

    /// <summary>DGC's first threshold: the ⌈m·k/d⌉-th largest of the m sampled magnitude keys (reordered), or the smallest positive float if that is not positive.</summary>
    public static float DgcThreshold(int d, int k, Span<float> sample)
    {
        int m = sample.Length;
        int ks = (int)Math.Clamp(Math.Ceiling((double)m * k / d), 1, m);
        float t = KthLargest(sample, ks);
        return t > 0 ? t : float.Epsilon;                         // most of the sample is zero
    }

    /// <summary>Candidates collected with each count of DGC's threshold search: every accepted count (≤ 1.3·k) fits.</summary>
    public static int DgcCapacity(int d, int k) => (int)Math.Min(d, 1.3 * k + 1);

    /// <summary>
    /// The rest of <see cref="DgcFromSample"/> once the first threshold <paramref name="t"/> has been
    /// counted: <paramref name="c"/> entries of <paramref name="x"/> pass it, and their indices are in
    /// <paramref name="cand"/> (<see cref="DgcCapacity"/> long at least) when c fits. The array may be
    /// replaced by a larger rental; the caller returns the final one to the pool.
    /// </summary>
    public static int DgcRefine(ReadOnlySpan<float> x, int k, float t, int c, ref int[] cand, Span<int> result)
    {
        int d = x.Length, cap = DgcCapacity(d, k);
        float tooMany = 0f, tooFew = float.PositiveInfinity;     // bracket: count(tooMany) > 1.3k, count(tooFew) < 0.8k
        int cTooMany = 0;
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
                        pooled = Candidates.AtLeast(x, t, pool.AsSpan(0, c));
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
                    c = Candidates.AtLeast(x, t, cand.AsSpan(0, cap));
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
                int[] larger = ArrayPool<int>.Shared.Rent(c);
                ArrayPool<int>.Shared.Return(cand);
                cand = larger;
                collectedAt = float.NaN;
            }
            int got;
            if (t == collectedAt) got = c;                          // collected by the count itself
            else if (pool is not null && t >= pooledFrom) got = Filter(x, pool.AsSpan(0, pooled), t, cand);
            else got = Candidates.AtLeast(x, t, cand.AsSpan(0, c));
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
    private const int SampleAhead = 64;

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

    /// <summary>
    /// Exact top-k among sorted candidate indices (all other entries are known to be smaller) with
    /// their entries <paramref name="candidateValues"/>: writes the k winners' indices into
    /// <paramref name="result"/> and, unless <paramref name="values"/> is empty, their entries into it.
    /// <paramref name="keys"/> is scratch as long as the candidates.
    /// </summary>
    private static int FinishTopK(ReadOnlySpan<int> candidates, ReadOnlySpan<float> candidateValues, Span<float> keys, int k, Span<int> result, Span<float> values)
    {
        int c = candidates.Length;
        bool withValues = !values.IsEmpty;
        if (c == k)
        {
            candidates.CopyTo(result);
            if (withValues) candidateValues.CopyTo(values);
            return k;
        }
        // Magnitudes (the selection reorders them), then the k-th largest and the ties it keeps.
        for (int j = 0; j < c; j++) keys[j] = Kernels.MagnitudeKey(candidateValues[j]);
        float kth = KthLargest(keys, k);
        var (greater, equal) = CountAbove(candidateValues, kth);
        int ties = k - greater, o = 0;
        if (equal == ties && kth >= 0 && Avx512F.IsSupported && result.Length >= c && (!withValues || values.Length >= c))
            return SelectAtLeast(candidates, candidateValues, kth, result, withValues ? values : default);
        for (int j = 0; j < c; j++)
        {
            float key = Kernels.MagnitudeKey(candidateValues[j]);
            if (key > kth || (key == kth && ties-- > 0))
            {
                if (withValues) values[o] = candidateValues[j];
                result[o++] = candidates[j];
            }
        }
        return o;
    }

    /// <summary>How many of the entries have a magnitude key above <paramref name="kth"/>, and how many equal to it.</summary>
    private static (int Greater, int Equal) CountAbove(ReadOnlySpan<float> entries, float kth)
    {
        int n = entries.Length, i = 0, greater = 0, equal = 0;
        ref float r = ref MemoryMarshal.GetReference(entries);
        if (Vector512.IsHardwareAccelerated && kth >= 0)
        {
            // |NaN| fails both comparisons, as its key −1 does against kth ≥ 0.
            var t = Vector512.Create(kth);
            for (; i + 16 <= n; i += 16)
            {
                var a = Vector512.Abs(Vector512.LoadUnsafe(ref r, (nuint)i));
                greater += BitOperations.PopCount(Vector512.GreaterThan(a, t).ExtractMostSignificantBits());
                equal += BitOperations.PopCount(Vector512.Equals(a, t).ExtractMostSignificantBits());
            }
        }
        for (; i < n; i++)
        {
            float key = Kernels.MagnitudeKey(Unsafe.Add(ref r, i));
            if (key > kth) greater++;
            else if (key == kth) equal++;
        }
        return (greater, equal);
    }

    /// <summary>
    /// The candidates (and their entries, unless <paramref name="values"/> is empty) with magnitude at
    /// least <paramref name="kth"/> ≥ 0, in order, sixteen at a time by AVX-512 compress; returns how many.
    /// The buffers hold all candidates.
    /// </summary>
    private static int SelectAtLeast(ReadOnlySpan<int> candidates, ReadOnlySpan<float> entries, float kth, Span<int> result, Span<float> values)
    {
        int n = candidates.Length, i = 0, o = 0;
        bool withValues = !values.IsEmpty;
        ref int cr = ref MemoryMarshal.GetReference(candidates);
        ref float er = ref MemoryMarshal.GetReference(entries);
        ref int rr = ref MemoryMarshal.GetReference(result);
        ref float vr = ref MemoryMarshal.GetReference(values);
        var t = Vector512.Create(kth);
        for (; i + 16 <= n; i += 16)
        {
            var e = Vector512.LoadUnsafe(ref er, (nuint)i);
            var keep = Vector512.GreaterThanOrEqual(Vector512.Abs(e), t);
            Avx512F.Compress(Vector512<int>.Zero, keep.AsInt32(), Vector512.LoadUnsafe(ref cr, (nuint)i)).StoreUnsafe(ref rr, (nuint)o);
            if (withValues) Avx512F.Compress(Vector512<float>.Zero, keep, e).StoreUnsafe(ref vr, (nuint)o);
            o += BitOperations.PopCount(keep.ExtractMostSignificantBits());
        }
        for (; i < n; i++)
        {
            float e = Unsafe.Add(ref er, i);
            if (MathF.Abs(e) >= kth)
            {
                Unsafe.Add(ref rr, o) = Unsafe.Add(ref cr, i);
                if (withValues) Unsafe.Add(ref vr, o) = e;
                o++;
            }
        }
        return o;
    }

    /// <summary><see cref="FinishTopK(ReadOnlySpan{int}, ReadOnlySpan{float}, Span{float}, int, Span{int}, Span{float})"/> with the candidates' entries read from <paramref name="x"/>.</summary>
    private static int FinishTopK(ReadOnlySpan<float> x, ReadOnlySpan<int> candidates, Span<float> keys, int k, Span<int> result)
    {
        int c = candidates.Length;
        float[] entries = ArrayPool<float>.Shared.Rent(c);
        try
        {
            var e = entries.AsSpan(0, c);
            Gather(x, candidates, e);
            return FinishTopK(candidates, e, keys, k, result, default);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(entries);
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
    /// reordered (it keeps the same values). From <see cref="RadixMin"/> values on, a radix select
    /// on the order-preserving integer image of the floats (three digits of 11, 11 and 10 bits: a
    /// histogram per digit, then the values of the selected bucket moved to the front); below it,
    /// introselect (median-of-three quickselect, falling back to a sort after too many partitions).
    /// Values must not be NaN.
    /// </summary>
    public static float KthLargest(Span<float> values, int k)
    {
        int n = values.Length;
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"Invalid rank {k}; must be in [1, {n}].");
        return n >= RadixMin ? RadixSelect(values, k) : QuickSelect(values, k);
    }

    /// <summary>Length from which <see cref="KthLargest"/> selects by radix (no data-dependent branches per value, unlike quickselect).</summary>
    private const int RadixMin = 512;

    /// <summary>Order-preserving image of a float's bits (larger float, larger key; −0 just below +0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint OrderKey(uint bits) => bits ^ ((uint)((int)bits >> 31) | 0x80000000u);

    /// <summary>
    /// The k-th largest by a most-significant-digit radix select (see <see cref="KthLargest"/>). The
    /// digits start below the leading bits shared by every key (the smallest and largest keys' common
    /// prefix), so the first histogram spreads values of similar magnitude over its 2048 buckets.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float RadixSelect(Span<float> values, int k)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        ref uint br = ref MemoryMarshal.GetReference(bits);
        int m = bits.Length;
        var (min, max) = KeyRange(bits);
        int free = 32 - BitOperations.LeadingZeroCount(min ^ max);        // bits below the common prefix
        uint key = free == 32 ? 0 : min & ~((1u << free) - 1);
        // Four histograms, for values i mod 4: runs of one hot bucket (values of similar magnitude)
        // are four independent chains of increments instead of one.
        const int Bins = 1 << 11;
        Span<int> histogram = stackalloc int[4 * Bins];
        ref int hr = ref MemoryMarshal.GetReference(histogram);
        while (free > 0)
        {
            int shift = Math.Max(0, free - 11);
            uint mask = (1u << (free - shift)) - 1;
            histogram.Clear();
            int i4 = 0;
            for (; i4 + 4 <= m; i4 += 4)
            {
                Unsafe.Add(ref hr, (int)((OrderKey(Unsafe.Add(ref br, i4)) >> shift) & mask))++;
                Unsafe.Add(ref hr, Bins + (int)((OrderKey(Unsafe.Add(ref br, i4 + 1)) >> shift) & mask))++;
                Unsafe.Add(ref hr, 2 * Bins + (int)((OrderKey(Unsafe.Add(ref br, i4 + 2)) >> shift) & mask))++;
                Unsafe.Add(ref hr, 3 * Bins + (int)((OrderKey(Unsafe.Add(ref br, i4 + 3)) >> shift) & mask))++;
            }
            for (; i4 < m; i4++) Unsafe.Add(ref hr, (int)((OrderKey(Unsafe.Add(ref br, i4)) >> shift) & mask))++;
            int bin = (int)mask;
            while (true)
            {
                int count = Unsafe.Add(ref hr, bin) + Unsafe.Add(ref hr, Bins + bin) + Unsafe.Add(ref hr, 2 * Bins + bin) + Unsafe.Add(ref hr, 3 * Bins + bin);
                if (count >= k) break;
                k -= count;
                bin--;
            }
            key |= (uint)bin << shift;
            free = shift;
            if (free == 0) break;
            // Move the values of the selected bucket to the front, keeping every value: [0, w) holds
            // the bucket's values and [w, i) the others, so swapping entries i and w, then advancing w
            // only if entry i belongs to the bucket, keeps that true without a branch.
            int w = 0;
            for (int i = 0; i < m; i++)
            {
                uint v = Unsafe.Add(ref br, i);
                Unsafe.Add(ref br, i) = Unsafe.Add(ref br, w);
                Unsafe.Add(ref br, w) = v;
                w += ((OrderKey(v) >> shift) & mask) == (uint)bin ? 1 : 0;
            }
            m = w;
        }
        return BitConverter.UInt32BitsToSingle((key & 0x80000000u) != 0 ? key ^ 0x80000000u : ~key);
    }

    /// <summary>The smallest and largest <see cref="OrderKey"/> of the float bits (at least one).</summary>
    private static (uint Min, uint Max) KeyRange(ReadOnlySpan<uint> bits)
    {
        int n = bits.Length, i = 0;
        uint min = uint.MaxValue, max = 0;
        ref uint br = ref MemoryMarshal.GetReference(bits);
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var lo = Vector512.Create(uint.MaxValue);
            var hi = Vector512<uint>.Zero;
            var top = Vector512.Create(0x80000000u);
            for (; i + 16 <= n; i += 16)
            {
                var b = Vector512.LoadUnsafe(ref br, (nuint)i);
                var key = b ^ ((b.AsInt32() >> 31).AsUInt32() | top);
                lo = Vector512.Min(lo, key);
                hi = Vector512.Max(hi, key);
            }
            for (int l = 0; l < 16; l++)
            {
                min = Math.Min(min, lo[l]);
                max = Math.Max(max, hi[l]);
            }
        }
        for (; i < n; i++)
        {
            uint key = OrderKey(Unsafe.Add(ref br, i));
            min = Math.Min(min, key);
            max = Math.Max(max, key);
        }
        return (min, max);
    }

    /// <summary>The k-th largest by introselect (see <see cref="KthLargest"/>).</summary>
    private static float QuickSelect(Span<float> values, int k)
    {
        int n = values.Length;
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
