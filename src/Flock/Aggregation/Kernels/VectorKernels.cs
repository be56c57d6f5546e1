using System.Runtime.CompilerServices;

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
        switch (width)
        {
            case SimdWidth.V512: SubsetMeans<V512>(rows, n, index, terms, count, scale, d, outputs); break;
            case SimdWidth.V256: SubsetMeans<V256>(rows, n, index, terms, count, scale, d, outputs); break;
            default: SubsetMeans<V1>(rows, n, index, terms, count, scale, d, outputs); break;
        }
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
}
