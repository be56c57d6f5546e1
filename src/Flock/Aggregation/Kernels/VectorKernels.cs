using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Aggregation.Kernels;

/// <summary>Streaming kernels over whole vectors: distances to a centre and linear combinations.</summary>
internal static unsafe class VectorKernels
{
    /// <summary>Coordinates per cache block for fused multi-pass loops (4 KiB per input).</summary>
    public const int Block = 1024;

    /// <summary>
    /// ‖x − y‖² (or ‖x‖² when <paramref name="y"/> is null), accumulated in float within blocks of
    /// <see cref="Block"/> coordinates and in double across them; a block whose float sum overflows
    /// is recomputed in double, so huge (finite) inputs give huge but finite results.
    /// </summary>
    public static double SquaredDistance(float* x, float* y, int length, SimdWidth width) => width switch
    {
        SimdWidth.V512 => SquaredDistance<V512>(x, y, length),
        SimdWidth.V256 => SquaredDistance<V256>(x, y, length),
        _ => SquaredDistance<V1>(x, y, length),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SquaredDistance<TV>(float* x, float* y, int length) where TV : unmanaged, IVec<TV>
    {
        double total = 0;
        for (int start = 0; start < length; start += Block)
        {
            int len = Math.Min(Block, length - start);
            float* a = x + start, b = y is null ? null : y + start;
            TV s0 = TV.Zero, s1 = TV.Zero;
            int c = 0, lanes = TV.Count;
            if (b is null)
            {
                for (; c + 2 * lanes <= len; c += 2 * lanes)
                {
                    TV u = TV.Load(a + c), v = TV.Load(a + c + lanes);
                    s0 = TV.MulAdd(u, u, s0);
                    s1 = TV.MulAdd(v, v, s1);
                }
            }
            else
            {
                for (; c + 2 * lanes <= len; c += 2 * lanes)
                {
                    TV u = TV.Sub(TV.Load(a + c), TV.Load(b + c)), v = TV.Sub(TV.Load(a + c + lanes), TV.Load(b + c + lanes));
                    s0 = TV.MulAdd(u, u, s0);
                    s1 = TV.MulAdd(v, v, s1);
                }
            }
            float sum = TV.Sum(TV.Add(s0, s1));
            for (; c < len; c++)
            {
                float t = b is null ? a[c] : a[c] - b[c];
                sum += t * t;
            }
            if (float.IsFinite(sum)) { total += sum; continue; }
            for (int i = 0; i < len; i++)
            {
                double t = b is null ? a[i] : (double)a[i] - b[i];
                total += t * t;
            }
        }
        return total;
    }

    /// <summary>
    /// <c>output[c] = Σ_t coef[t] · rows[index[t]][start + c]</c> for c in [0, length), accumulated in
    /// registers over 4 vectors at a time (the output may be one of the rows: each chunk is read fully
    /// before it is written).
    /// </summary>
    public static void Combine(float** rows, int* index, float* coef, int terms, int start, int length, float* output, SimdWidth width)
    {
        switch (width)
        {
            case SimdWidth.V512: Combine<V512>(rows, index, coef, terms, start, length, output); break;
            case SimdWidth.V256: Combine<V256>(rows, index, coef, terms, start, length, output); break;
            default: Combine<V1>(rows, index, coef, terms, start, length, output); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Combine<TV>(float** rows, int* index, float* coef, int terms, int start, int length, float* output)
        where TV : unmanaged, IVec<TV>
    {
        int lanes = TV.Count, step = 4 * lanes, c = 0;
        for (; c + step <= length; c += step)
        {
            TV a0 = TV.Zero, a1 = TV.Zero, a2 = TV.Zero, a3 = TV.Zero;
            for (int t = 0; t < terms; t++)
            {
                float* r = rows[index[t]] + start + c;
                TV w = TV.Broadcast(coef[t]);
                a0 = TV.MulAdd(TV.Load(r), w, a0);
                a1 = TV.MulAdd(TV.Load(r + lanes), w, a1);
                a2 = TV.MulAdd(TV.Load(r + 2 * lanes), w, a2);
                a3 = TV.MulAdd(TV.Load(r + 3 * lanes), w, a3);
            }
            float* o = output + c;
            TV.Store(a0, o);
            TV.Store(a1, o + lanes);
            TV.Store(a2, o + 2 * lanes);
            TV.Store(a3, o + 3 * lanes);
        }
        for (; c < length; c++)
        {
            float s = 0;
            for (int t = 0; t < terms; t++) s = MathF.FusedMultiplyAdd(rows[index[t]][start + c], coef[t], s);
            output[c] = s;
        }
    }

    /// <summary>
    /// <c>output = Σ_i coef[i] · rows[i]</c> over whole vectors (terms with a zero coefficient are
    /// skipped, so a zero weight never multiplies a huge or infinite value), blockwise.
    /// </summary>
    public static void LinearCombination(float** rows, int n, ReadOnlySpan<float> coef, int d, float* output, SimdWidth width)
    {
        var idx = ScratchPool<int>.Rent(n);
        var cf = ScratchPool<float>.Rent(n);
        try
        {
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                if (coef[i] == 0) continue;
                idx[m] = i;
                cf[m++] = coef[i];
            }
            fixed (int* ip = idx)
            fixed (float* cp = cf)
            {
                if (m == 0)
                {
                    new Span<float>(output, d).Clear();
                    return;
                }
                for (int start = 0; start < d; start += Block)
                    Combine(rows, ip, cp, m, start, Math.Min(Block, d - start), output + start, width);
            }
        }
        finally
        {
            ScratchPool<int>.Return(idx);
            ScratchPool<float>.Return(cf);
        }
    }

    /// <summary>
    /// Many means of row subsets at once: <c>outputs[i][c] = scale · Σ_t rows[index[i·terms + t]][c]</c>
    /// for i &lt; <paramref name="count"/>. Loops over chunks of 8 vectors of coordinates; each chunk
    /// of every row is first copied into a contiguous L1-resident stage (so rows far apart in memory
    /// cannot conflict in the cache) while the chunk a few steps ahead is prefetched, then every
    /// output of the chunk is accumulated from the stage (fused multiply-add by the scale, so a mean
    /// of huge values does not overflow) in 8 independent accumulators.
    /// </summary>
    public static void SubsetMeans(float** rows, int n, int* index, int terms, int count, float scale, int d, float** outputs, SimdWidth width)
    {
        if (CoordinateChunks.Worth(n, d))
        {
            SubsetMeansChunked(rows, n, index, terms, count, scale, d, outputs, width);
            return;
        }
        switch (width)
        {
            case SimdWidth.V512: SubsetMeans<V512>(rows, n, index, terms, count, scale, d, outputs); break;
            case SimdWidth.V256: SubsetMeans<V256>(rows, n, index, terms, count, scale, d, outputs); break;
            default: SubsetMeans<V1>(rows, n, index, terms, count, scale, d, outputs); break;
        }
    }

    /// <summary>The chunked (threaded) path of <see cref="SubsetMeans"/>, in its own method so the closure is only created here.</summary>
    private static void SubsetMeansChunked(float** rows, int n, int* index, int terms, int count, float scale, int d, float** outputs, SimdWidth width)
    {
        nint ip = (nint)index;
        InChunks(rows, n, outputs, count, d, (r, o, len) => SubsetMeans((float**)r, n, (int*)ip, terms, count, scale, len, (float**)o, width));
    }

    /// <summary>The chunked (threaded) path of <see cref="SubsetMeansGrouped"/>, in its own method so the closure is only created here.</summary>
    private static void GroupedChunked(float** rows, int n, int* off, int count, float scale, int d, float** outputs, SimdWidth width)
    {
        nint op = (nint)off;
        InChunks(rows, n, outputs, count, d, (r, o, len) => GroupedAt((float**)r, n, (int*)op, count, scale, len, (float**)o, width));
    }

    /// <summary>Runs a subset-means kernel over coordinate chunks on several threads, with the output table shifted to each chunk.</summary>
    private static void InChunks(float** rows, int n, float** outputs, int count, int d, Action<nint, nint, int> kernel)
    {
        nint o = (nint)outputs;
        CoordinateChunks.Run(rows, n, d, (r, start, len) =>
        {
            var ot = ScratchPool<nint>.Rent(count);
            try
            {
                for (int i = 0; i < count; i++) ot[i] = (nint)(((float**)o)[i] + start);
                fixed (nint* op = ot) kernel((nint)r, (nint)op, len);
            }
            finally
            {
                ScratchPool<nint>.Return(ot);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SubsetMeans<TV>(float** rows, int n, int* index, int terms, int count, float scale, int d, float** outputs)
        where TV : unmanaged, IVec<TV>
    {
        int lanes = TV.Count, step = 8 * lanes, c = 0;
        TV s = TV.Broadcast(scale);
        var stageArray = ScratchPool<float>.Rent(n * step + 16);
        try
        {
            fixed (float* s0 = stageArray)
            {
                float* stage = (float*)(((nint)s0 + 63) & ~(nint)63);
                for (; c + step <= d; c += step)
                {
                    bool ahead = c + (Prefetch.Distance + 1) * step <= d;
                    for (int p = 0; p < n; p++)
                    {
                        float* src = rows[p] + c, dst = stage + p * step;
                        for (int q = 0; q < step; q += lanes) TV.Store(TV.Load(src + q), dst + q);
                        if (ahead) Prefetch.Lines(src + Prefetch.Distance * step, step);
                    }
                    for (int i = 0; i < count; i++)
                    {
                        int* list = index + i * terms;
                        TV a0 = TV.Zero, a1 = TV.Zero, a2 = TV.Zero, a3 = TV.Zero, a4 = TV.Zero, a5 = TV.Zero, a6 = TV.Zero, a7 = TV.Zero;
                        for (int t = 0; t < terms; t++)
                        {
                            float* r = stage + list[t] * step;
                            a0 = TV.MulAdd(TV.Load(r), s, a0);
                            a1 = TV.MulAdd(TV.Load(r + lanes), s, a1);
                            a2 = TV.MulAdd(TV.Load(r + 2 * lanes), s, a2);
                            a3 = TV.MulAdd(TV.Load(r + 3 * lanes), s, a3);
                            a4 = TV.MulAdd(TV.Load(r + 4 * lanes), s, a4);
                            a5 = TV.MulAdd(TV.Load(r + 5 * lanes), s, a5);
                            a6 = TV.MulAdd(TV.Load(r + 6 * lanes), s, a6);
                            a7 = TV.MulAdd(TV.Load(r + 7 * lanes), s, a7);
                        }
                        float* o = outputs[i] + c;
                        TV.Store(a0, o);
                        TV.Store(a1, o + lanes);
                        TV.Store(a2, o + 2 * lanes);
                        TV.Store(a3, o + 3 * lanes);
                        TV.Store(a4, o + 4 * lanes);
                        TV.Store(a5, o + 5 * lanes);
                        TV.Store(a6, o + 6 * lanes);
                        TV.Store(a7, o + 7 * lanes);
                    }
                }
            }
        }
        finally
        {
            ScratchPool<float>.Return(stageArray);
        }
        for (; c < d; c++)
            for (int i = 0; i < count; i++)
            {
                int* list = index + i * terms;
                float sum = 0;
                for (int t = 0; t < terms; t++) sum = MathF.FusedMultiplyAdd(rows[list[t]][c], scale, sum);
                outputs[i][c] = sum;
            }
    }

    /// <summary>
    /// The same subset means as <see cref="SubsetMeans"/>, by the "method of four Russians": rows are
    /// taken in groups of 4, and per chunk of coordinates every group's 15 non-empty subset sums are
    /// tabulated once (11 additions); each output then adds one table entry per group (⌈n/4⌉ loads
    /// instead of one per member). Every entry only sums members, already scaled, so nothing cancels
    /// and no partial sum exceeds the largest mean. <paramref name="index"/> lists each output's
    /// <paramref name="terms"/> members (distinct). Outputs aligned to the vector size are written with
    /// streaming stores (they are too large to stay in cache, and this saves reading them first).
    /// </summary>
    public static void SubsetMeansGrouped(float** rows, int n, int* index, int terms, int count, float scale, int d, float** outputs, SimdWidth width)
    {
        int groups = (n + 3) / 4;
        var offsets = ScratchPool<int>.Rent(count * groups);
        try
        {
            // Table offset (in entries) of output i's subset of group g: 16·g + membership mask.
            for (int i = 0; i < count; i++)
            {
                for (int g = 0; g < groups; g++) offsets[i * groups + g] = 16 * g;
                for (int t = 0; t < terms; t++)
                {
                    int j = index[i * terms + t];
                    offsets[i * groups + j / 4] |= 1 << (j % 4);
                }
            }
            fixed (int* off = offsets)
            {
                if (CoordinateChunks.Worth(n, d)) GroupedChunked(rows, n, off, count, scale, d, outputs, width);
                else GroupedAt(rows, n, off, count, scale, d, outputs, width);
            }
        }
        finally
        {
            ScratchPool<int>.Return(offsets);
        }
    }

    private static void GroupedAt(float** rows, int n, int* off, int count, float scale, int d, float** outputs, SimdWidth width)
    {
        switch (width)
        {
            case SimdWidth.V512 when Avx512F.IsSupported: SubsetMeansGrouped512(rows, n, off, count, scale, d, outputs); break;
            case SimdWidth.V512: SubsetMeansGrouped<V512>(rows, n, off, count, scale, d, outputs); break;
            case SimdWidth.V256: SubsetMeansGrouped<V256>(rows, n, off, count, scale, d, outputs); break;
            default: SubsetMeansGrouped<V1>(rows, n, off, count, scale, d, outputs); break;
        }
    }

    /// <summary>
    /// <see cref="SubsetMeansGrouped{TV}"/> at AVX-512, written on raw intrinsics with each output's
    /// table entries as absolute addresses, so every table read is folded into its addition (one
    /// instruction per vector), and with four partial sums per output vector instead of two (shorter
    /// dependency chains). The order of additions differs from the generic kernel's, so results may
    /// differ from other widths in the last bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SubsetMeansGrouped512(float** rows, int n, int* offsets, int count, float scale, int d, float** outputs)
    {
        const int lanes = 16, step = 32;
        int groups = (n + 3) / 4, c = 0;
        var s = Vector512.Create(scale);
        var tableArray = ScratchPool<float>.Rent(groups * 16 * step + 16);
        var entryArray = ScratchPool<nint>.Rent(count * groups);
        var usedArray = ScratchPool<int>.Rent(groups);
        try
        {
            fixed (float* t0 = tableArray)
            fixed (nint* ep = entryArray)
            fixed (int* used = usedArray)
            {
                float* table = (float*)(((nint)t0 + 63) & ~(nint)63);
                for (int e = 0; e < count * groups; e++) ep[e] = (nint)(table + offsets[e] * step);
                // Which subsets of each group some output reads: only those are stored (with 38-of-50
                // neighbourhoods about a quarter of the 15 are not, mostly the one- and two-row ones).
                new Span<int>(used, groups).Clear();
                for (int e = 0; e < count * groups; e++) used[e % groups] |= 1 << (offsets[e] & 15);
                for (int g = 0; g < groups; g++) new Span<float>(table + g * 16 * step, step).Clear(); // the empty subset
                for (; c + step <= d; c += step)
                {
                    bool ahead = c + (Prefetch.Distance + 1) * step <= d;
                    for (int g = 0; g < groups; g++)
                    {
                        int j = 4 * g;
                        Vector512<float> x0a = default, x0b = default, x1a = default, x1b = default, x2a = default, x2b = default, x3a = default, x3b = default;
                        LoadScaled512(rows, n, j, c, s, ahead, ref x0a, ref x0b);
                        LoadScaled512(rows, n, j + 1, c, s, ahead, ref x1a, ref x1b);
                        LoadScaled512(rows, n, j + 2, c, s, ahead, ref x2a, ref x2b);
                        LoadScaled512(rows, n, j + 3, c, s, ahead, ref x3a, ref x3b);
                        float* e = table + g * 16 * step;
                        var e3a = x0a + x1a; var e3b = x0b + x1b;
                        var e5a = x0a + x2a; var e5b = x0b + x2b;
                        var e6a = x1a + x2a; var e6b = x1b + x2b;
                        var e7a = e3a + x2a; var e7b = e3b + x2b;
                        int u = used[g];
                        if ((u & (1 << 1)) != 0) { Avx512F.StoreAligned(e + 1 * step, x0a); Avx512F.StoreAligned(e + 1 * step + lanes, x0b); }
                        if ((u & (1 << 2)) != 0) { Avx512F.StoreAligned(e + 2 * step, x1a); Avx512F.StoreAligned(e + 2 * step + lanes, x1b); }
                        if ((u & (1 << 3)) != 0) { Avx512F.StoreAligned(e + 3 * step, e3a); Avx512F.StoreAligned(e + 3 * step + lanes, e3b); }
                        if ((u & (1 << 4)) != 0) { Avx512F.StoreAligned(e + 4 * step, x2a); Avx512F.StoreAligned(e + 4 * step + lanes, x2b); }
                        if ((u & (1 << 5)) != 0) { Avx512F.StoreAligned(e + 5 * step, e5a); Avx512F.StoreAligned(e + 5 * step + lanes, e5b); }
                        if ((u & (1 << 6)) != 0) { Avx512F.StoreAligned(e + 6 * step, e6a); Avx512F.StoreAligned(e + 6 * step + lanes, e6b); }
                        if ((u & (1 << 7)) != 0) { Avx512F.StoreAligned(e + 7 * step, e7a); Avx512F.StoreAligned(e + 7 * step + lanes, e7b); }
                        if ((u & (1 << 8)) != 0) { Avx512F.StoreAligned(e + 8 * step, x3a); Avx512F.StoreAligned(e + 8 * step + lanes, x3b); }
                        if ((u & (1 << 9)) != 0) { Avx512F.StoreAligned(e + 9 * step, x0a + x3a); Avx512F.StoreAligned(e + 9 * step + lanes, x0b + x3b); }
                        if ((u & (1 << 10)) != 0) { Avx512F.StoreAligned(e + 10 * step, x1a + x3a); Avx512F.StoreAligned(e + 10 * step + lanes, x1b + x3b); }
                        if ((u & (1 << 11)) != 0) { Avx512F.StoreAligned(e + 11 * step, e3a + x3a); Avx512F.StoreAligned(e + 11 * step + lanes, e3b + x3b); }
                        if ((u & (1 << 12)) != 0) { Avx512F.StoreAligned(e + 12 * step, x2a + x3a); Avx512F.StoreAligned(e + 12 * step + lanes, x2b + x3b); }
                        if ((u & (1 << 13)) != 0) { Avx512F.StoreAligned(e + 13 * step, e5a + x3a); Avx512F.StoreAligned(e + 13 * step + lanes, e5b + x3b); }
                        if ((u & (1 << 14)) != 0) { Avx512F.StoreAligned(e + 14 * step, e6a + x3a); Avx512F.StoreAligned(e + 14 * step + lanes, e6b + x3b); }
                        if ((u & (1 << 15)) != 0) { Avx512F.StoreAligned(e + 15 * step, e7a + x3a); Avx512F.StoreAligned(e + 15 * step + lanes, e7b + x3b); }
                    }
                    for (int i = 0; i < count; i++)
                    {
                        float** ent = (float**)(ep + (nint)i * groups);
                        float** end4 = ent + (groups & ~3);
                        var a = Vector512<float>.Zero; var b = a; var a2 = a; var b2 = a;
                        var a3 = a; var b3 = a; var a4 = a; var b4 = a;
                        for (; ent < end4; ent += 4)
                        {
                            float* p = ent[0], q = ent[1], u = ent[2], v = ent[3];
                            a = Avx512F.Add(a, Avx512F.LoadAlignedVector512(p));
                            b = Avx512F.Add(b, Avx512F.LoadAlignedVector512(p + lanes));
                            a2 = Avx512F.Add(a2, Avx512F.LoadAlignedVector512(q));
                            b2 = Avx512F.Add(b2, Avx512F.LoadAlignedVector512(q + lanes));
                            a3 = Avx512F.Add(a3, Avx512F.LoadAlignedVector512(u));
                            b3 = Avx512F.Add(b3, Avx512F.LoadAlignedVector512(u + lanes));
                            a4 = Avx512F.Add(a4, Avx512F.LoadAlignedVector512(v));
                            b4 = Avx512F.Add(b4, Avx512F.LoadAlignedVector512(v + lanes));
                        }
                        if ((groups & 2) != 0)
                        {
                            float* p = ent[0], q = ent[1];
                            a = Avx512F.Add(a, Avx512F.LoadAlignedVector512(p));
                            b = Avx512F.Add(b, Avx512F.LoadAlignedVector512(p + lanes));
                            a2 = Avx512F.Add(a2, Avx512F.LoadAlignedVector512(q));
                            b2 = Avx512F.Add(b2, Avx512F.LoadAlignedVector512(q + lanes));
                            ent += 2;
                        }
                        if ((groups & 1) != 0)
                        {
                            float* p = ent[0];
                            a3 = Avx512F.Add(a3, Avx512F.LoadAlignedVector512(p));
                            b3 = Avx512F.Add(b3, Avx512F.LoadAlignedVector512(p + lanes));
                        }
                        a = Avx512F.Add(a, a3); b = Avx512F.Add(b, b3); a2 = Avx512F.Add(a2, a4); b2 = Avx512F.Add(b2, b4);
                        float* o = outputs[i] + c;
                        if (((nint)o & 63) == 0)
                        {
                            Avx512F.StoreAlignedNonTemporal(o, Avx512F.Add(a, a2));
                            Avx512F.StoreAlignedNonTemporal(o + lanes, Avx512F.Add(b, b2));
                        }
                        else
                        {
                            Avx512F.Store(o, Avx512F.Add(a, a2));
                            Avx512F.Store(o + lanes, Avx512F.Add(b, b2));
                        }
                    }
                }
            }
        }
        finally
        {
            ScratchPool<float>.Return(tableArray);
            ScratchPool<nint>.Return(entryArray);
            ScratchPool<int>.Return(usedArray);
        }
        Sse.StoreFence(); // streaming stores become visible to other threads
        GroupedTail(rows, offsets, groups, count, scale, c, d, outputs);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadScaled512(float** rows, int n, int j, int c, Vector512<float> s, bool ahead, ref Vector512<float> a, ref Vector512<float> b)
    {
        if (j >= n) return;
        float* r = rows[j] + c;
        a = Avx512F.Multiply(Avx512F.LoadVector512(r), s);
        b = Avx512F.Multiply(Avx512F.LoadVector512(r + 16), s);
        if (ahead) Prefetch.Lines(r + Prefetch.Distance * 32, 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SubsetMeansGrouped<TV>(float** rows, int n, int* offsets, int count, float scale, int d, float** outputs)
        where TV : unmanaged, IVec<TV>
    {
        int lanes = TV.Count, step = 2 * lanes, groups = (n + 3) / 4, c = 0;
        TV s = TV.Broadcast(scale);
        var tableArray = ScratchPool<float>.Rent(groups * 16 * step + 16);
        // Byte offsets of the table entries each output adds, so the hot loop is load-and-add only.
        var byteOffsets = ScratchPool<nint>.Rent(count * groups);
        for (int e = 0; e < count * groups; e++) byteOffsets[e] = (nint)offsets[e] * step * sizeof(float);
        try
        {
            fixed (float* t0 = tableArray)
            fixed (nint* bo = byteOffsets)
            {
                float* table = (float*)(((nint)t0 + 63) & ~(nint)63);
                for (int g = 0; g < groups; g++) new Span<float>(table + g * 16 * step, step).Clear(); // the empty subset
                for (; c + step <= d; c += step)
                {
                    bool ahead = c + (Prefetch.Distance + 1) * step <= d;
                    for (int g = 0; g < groups; g++)
                    {
                        TV x0a = TV.Zero, x0b = TV.Zero, x1a = TV.Zero, x1b = TV.Zero, x2a = TV.Zero, x2b = TV.Zero, x3a = TV.Zero, x3b = TV.Zero;
                        int j = 4 * g;
                        LoadScaled(rows, n, j, c, lanes, s, ahead, step, ref x0a, ref x0b);
                        LoadScaled(rows, n, j + 1, c, lanes, s, ahead, step, ref x1a, ref x1b);
                        LoadScaled(rows, n, j + 2, c, lanes, s, ahead, step, ref x2a, ref x2b);
                        LoadScaled(rows, n, j + 3, c, lanes, s, ahead, step, ref x3a, ref x3b);
                        float* e = table + g * 16 * step;
                        TV e3a = TV.Add(x0a, x1a), e3b = TV.Add(x0b, x1b);
                        TV e5a = TV.Add(x0a, x2a), e5b = TV.Add(x0b, x2b);
                        TV e6a = TV.Add(x1a, x2a), e6b = TV.Add(x1b, x2b);
                        TV e7a = TV.Add(e3a, x2a), e7b = TV.Add(e3b, x2b);
                        Put(e, 1, step, lanes, x0a, x0b);
                        Put(e, 2, step, lanes, x1a, x1b);
                        Put(e, 3, step, lanes, e3a, e3b);
                        Put(e, 4, step, lanes, x2a, x2b);
                        Put(e, 5, step, lanes, e5a, e5b);
                        Put(e, 6, step, lanes, e6a, e6b);
                        Put(e, 7, step, lanes, e7a, e7b);
                        Put(e, 8, step, lanes, x3a, x3b);
                        Put(e, 9, step, lanes, TV.Add(x0a, x3a), TV.Add(x0b, x3b));
                        Put(e, 10, step, lanes, TV.Add(x1a, x3a), TV.Add(x1b, x3b));
                        Put(e, 11, step, lanes, TV.Add(e3a, x3a), TV.Add(e3b, x3b));
                        Put(e, 12, step, lanes, TV.Add(x2a, x3a), TV.Add(x2b, x3b));
                        Put(e, 13, step, lanes, TV.Add(e5a, x3a), TV.Add(e5b, x3b));
                        Put(e, 14, step, lanes, TV.Add(e6a, x3a), TV.Add(e6b, x3b));
                        Put(e, 15, step, lanes, TV.Add(e7a, x3a), TV.Add(e7b, x3b));
                    }
                    byte* tb = (byte*)table;
                    for (int i = 0; i < count; i++)
                    {
                        nint* off = bo + (nint)i * groups;
                        nint* end = off + (groups & ~1);
                        bool stream = ((nint)outputs[i] & (lanes * sizeof(float) - 1)) == 0;
                        TV a = TV.Zero, b = TV.Zero, a2 = TV.Zero, b2 = TV.Zero;
                        for (; off < end; off += 2)
                        {
                            float* p = (float*)(tb + off[0]), q = (float*)(tb + off[1]);
                            a = TV.Add(a, TV.Load(p));
                            b = TV.Add(b, TV.Load(p + lanes));
                            a2 = TV.Add(a2, TV.Load(q));
                            b2 = TV.Add(b2, TV.Load(q + lanes));
                        }
                        if ((groups & 1) != 0)
                        {
                            float* p = (float*)(tb + off[0]);
                            a = TV.Add(a, TV.Load(p));
                            b = TV.Add(b, TV.Load(p + lanes));
                        }
                        float* o = outputs[i] + c;
                        if (stream)
                        {
                            TV.StoreNonTemporal(TV.Add(a, a2), o);
                            TV.StoreNonTemporal(TV.Add(b, b2), o + lanes);
                        }
                        else
                        {
                            TV.Store(TV.Add(a, a2), o);
                            TV.Store(TV.Add(b, b2), o + lanes);
                        }
                    }
                }
            }
        }
        finally
        {
            ScratchPool<float>.Return(tableArray);
            ScratchPool<nint>.Return(byteOffsets);
        }
        if (Sse.IsSupported) Sse.StoreFence(); // streaming stores become visible to other threads
        GroupedTail(rows, offsets, groups, count, scale, c, d, outputs);
    }

    /// <summary>The grouped subset means of coordinates [from, d) (fewer than one step), scalar.</summary>
    private static void GroupedTail(float** rows, int* offsets, int groups, int count, float scale, int from, int d, float** outputs)
    {
        for (int c = from; c < d; c++)
            for (int i = 0; i < count; i++)
            {
                float sum = 0;
                for (int g = 0; g < groups; g++)
                {
                    int mask = offsets[i * groups + g] & 15;
                    for (int b = 0; b < 4; b++)
                        if ((mask & (1 << b)) != 0) sum = MathF.FusedMultiplyAdd(rows[4 * g + b][c], scale, sum);
                }
                outputs[i][c] = sum;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadScaled<TV>(float** rows, int n, int j, int c, int lanes, TV s, bool ahead, int step, ref TV a, ref TV b)
        where TV : unmanaged, IVec<TV>
    {
        if (j >= n) return;
        float* r = rows[j] + c;
        a = TV.Mul(TV.Load(r), s);
        b = TV.Mul(TV.Load(r + lanes), s);
        if (ahead) Prefetch.Lines(r + Prefetch.Distance * step, step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TV>(float* e, int entry, int step, int lanes, TV a, TV b) where TV : unmanaged, IVec<TV>
    {
        TV.Store(a, e + entry * step);
        TV.Store(b, e + entry * step + lanes);
    }
}
