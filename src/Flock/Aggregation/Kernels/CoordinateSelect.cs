using System.Runtime.CompilerServices;

namespace Flock.Aggregation.Kernels;

/// <summary>Turns the (partially) sorted values of one block of coordinates into the output.</summary>
internal interface IColumnReducer
{
    /// <summary>
    /// The result vector for chunk <paramref name="k"/>: the value of rank p of that chunk's
    /// coordinates is <c>buf[p * CoordinateSelect.K + k]</c> (exact for live ranks).
    /// </summary>
    unsafe TV Reduce<TV>(TV* buf, int k) where TV : unmanaged, IVec<TV>;
}

/// <summary>Median: the middle value, or the mean of the two middle values for even n.</summary>
internal readonly struct MedianReducer(int n) : IColumnReducer
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe TV Reduce<TV>(TV* buf, int k) where TV : unmanaged, IVec<TV> => Median(buf, n, k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe TV Median<TV>(TV* buf, int n, int k) where TV : unmanaged, IVec<TV>
    {
        const int K = CoordinateSelect.K;
        int m = n / 2;
        return n % 2 == 1 ? buf[m * K + k] : TV.Mul(TV.Add(buf[(m - 1) * K + k], buf[m * K + k]), TV.Broadcast(0.5f));
    }
}

/// <summary>Trimmed mean: the mean of ranks f … n−f−1.</summary>
internal readonly struct TrimmedMeanReducer(int n, int f) : IColumnReducer
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe TV Reduce<TV>(TV* buf, int k) where TV : unmanaged, IVec<TV>
    {
        const int K = CoordinateSelect.K;
        TV sum = TV.Zero;
        for (int p = f; p < n - f; p++) sum = TV.Add(sum, buf[p * K + k]);
        return TV.Mul(sum, TV.Broadcast(1f / (n - 2 * f)));
    }
}

/// <summary>
/// Mean around the median: the mean of the n−f values closest to the median. In sorted order they
/// are a window of n−f consecutive ranks starting at s ∈ [0, f]; s is the number of q &lt; f with
/// median &gt; (v[q] + v[q+n−f]) / 2 (that predicate is monotone in q, so the count is the first
/// window whose left end is at least as close as the value after its right end). Ties go to the
/// lower window. The midpoint is computed as v/2 + w/2 so it never overflows.
/// </summary>
internal readonly struct MeamedReducer(int n, int f) : IColumnReducer
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe TV Reduce<TV>(TV* buf, int k) where TV : unmanaged, IVec<TV>
    {
        const int K = CoordinateSelect.K;
        int keep = n - f;
        TV sum = TV.Zero;
        if (f == 0)
        {
            for (int p = 0; p < n; p++) sum = TV.Add(sum, buf[p * K + k]);
            return TV.Mul(sum, TV.Broadcast(1f / n));
        }
        TV median = MedianReducer.Median(buf, n, k);
        TV half = TV.Broadcast(0.5f), one = TV.Broadcast(1f);
        TV s = TV.Zero;
        for (int q = 0; q < f; q++)
        {
            TV mid = TV.MulAdd(buf[q * K + k], half, TV.Mul(buf[(q + keep) * K + k], half));
            s = TV.Add(s, TV.And(TV.GreaterThan(median, mid), one));
        }
        TV end = TV.Add(s, TV.Broadcast(keep));
        for (int p = 0; p < n; p++)
        {
            TV v = buf[p * K + k];
            if (p >= f && p < keep) { sum = TV.Add(sum, v); continue; }
            TV pos = TV.Broadcast(p);
            TV inWindow = TV.AndMask(TV.GreaterThanOrEqual(pos, s), TV.LessThan(pos, end));
            sum = TV.Add(sum, TV.And(inWindow, v));
        }
        return TV.Mul(sum, TV.Broadcast(1f / keep));
    }
}

/// <summary>
/// Coordinate-wise order statistics without sorting each coordinate: the coordinates are
/// vectorised ACROSS inputs. For each chunk of <see cref="K"/> vectors of consecutive coordinates
/// (64 coordinates at AVX-512) the n inputs' chunks are loaded into a small buffer (L1-resident),
/// a pruned comparator network (<see cref="ComparatorNetwork"/>) runs min/max over whole vectors,
/// and a reducer forms the output, while the chunks a few steps ahead are prefetched (n concurrent
/// streams are more than hardware prefetchers follow). The tail (d not a multiple of the chunk)
/// goes through the same path on zero-padded copies. No allocation beyond per-thread scratch.
/// </summary>
internal static unsafe class CoordinateSelect
{
    /// <summary>Vectors per chunk: four independent min/max chains per comparator.</summary>
    public const int K = 4;

    /// <summary>Coordinate-wise median.</summary>
    public static void Median(float** rows, int n, int d, float* output, SimdWidth width) =>
        Run(rows, n, d, output, ComparatorNetwork.ForMedian(n), new MedianReducer(n), width);

    /// <summary>Coordinate-wise mean of ranks f … n−f−1 (requires 2f &lt; n).</summary>
    public static void TrimmedMean(float** rows, int n, int d, int f, float* output, SimdWidth width) =>
        Run(rows, n, d, output, ComparatorNetwork.ForTrimmedMean(n, f), new TrimmedMeanReducer(n, f), width);

    /// <summary>Coordinate-wise mean of the n−f values closest to the median (requires f &lt; n).</summary>
    public static void Meamed(float** rows, int n, int d, int f, float* output, SimdWidth width) =>
        Run(rows, n, d, output, ComparatorNetwork.ForMeamed(n, f), new MeamedReducer(n, f), width);

    private static void Run<TR>(float** rows, int n, int d, float* output, ComparatorNetwork net, TR reducer, SimdWidth width)
        where TR : struct, IColumnReducer
    {
        if (CoordinateChunks.Worth(n, d))
        {
            RunChunked(rows, n, d, output, net, reducer, width);
            return;
        }
        switch (width)
        {
            case SimdWidth.V512: Run<V512, TR>(rows, n, d, output, net, reducer); break;
            case SimdWidth.V256: Run<V256, TR>(rows, n, d, output, net, reducer); break;
            default: Run<V1, TR>(rows, n, d, output, net, reducer); break;
        }
    }

    /// <summary>The chunked (threaded) path, in its own method so the closure is only created here.</summary>
    private static void RunChunked<TR>(float** rows, int n, int d, float* output, ComparatorNetwork net, TR reducer, SimdWidth width)
        where TR : struct, IColumnReducer
    {
        nint o = (nint)output;
        CoordinateChunks.Run(rows, n, d, (r, start, len) => Run(r, n, len, (float*)o + start, net, reducer, width));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TV, TR>(float** rows, int n, int d, float* output, ComparatorNetwork net, TR reducer)
        where TV : unmanaged, IVec<TV> where TR : struct, IColumnReducer
    {
        int lanes = TV.Count, step = lanes * K;
        // Buffer of n·K vectors, 64-byte aligned; then a padded copy of the tail (n·step floats) and one output chunk.
        int bufFloats = n * step;
        var scratch = ScratchPool<float>.Rent(bufFloats + 16 + n * step + step);
        try
        {
            fixed (float* s0 = scratch)
            fixed (int* pairs = net.Pairs)
            {
                float* aligned = (float*)(((nint)s0 + 63) & ~(nint)63);
                TV* buf = (TV*)aligned;
                float* pad = aligned + bufFloats;
                float* tailOut = pad + n * step;
                int count = net.Count;
                int c = 0;
                for (; c + step <= d; c += step)
                {
                    bool ahead = c + (Prefetch.Distance + 1) * step <= d;
                    for (int p = 0; p < n; p++)
                    {
                        float* src = rows[p] + c;
                        if (ahead) Prefetch.Lines(src + Prefetch.Distance * step, step);
                        TV* dst = buf + p * K;
                        dst[0] = TV.Load(src);
                        dst[1] = TV.Load(src + lanes);
                        dst[2] = TV.Load(src + 2 * lanes);
                        dst[3] = TV.Load(src + 3 * lanes);
                    }
                    Sort(buf, pairs, count);
                    float* o = output + c;
                    TV.Store(reducer.Reduce(buf, 0), o);
                    TV.Store(reducer.Reduce(buf, 1), o + lanes);
                    TV.Store(reducer.Reduce(buf, 2), o + 2 * lanes);
                    TV.Store(reducer.Reduce(buf, 3), o + 3 * lanes);
                }
                int rem = d - c;
                if (rem > 0)
                {
                    for (int p = 0; p < n; p++)
                    {
                        var row = new Span<float>(pad + p * step, step);
                        row.Clear();
                        new ReadOnlySpan<float>(rows[p] + c, rem).CopyTo(row);
                        TV* dst = buf + p * K;
                        for (int k = 0; k < K; k++) dst[k] = TV.Load(pad + p * step + k * lanes);
                    }
                    Sort(buf, pairs, count);
                    for (int k = 0; k < K; k++) TV.Store(reducer.Reduce(buf, k), tailOut + k * lanes);
                    new ReadOnlySpan<float>(tailOut, rem).CopyTo(new Span<float>(output + c, rem));
                }
            }
        }
        finally
        {
            ScratchPool<float>.Return(scratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sort<TV>(TV* buf, int* pairs, int count) where TV : unmanaged, IVec<TV>
    {
        for (int q = 0; q < count; q++)
        {
            TV* a = buf + pairs[2 * q] * K;
            TV* b = buf + pairs[2 * q + 1] * K;
            TV a0 = a[0], b0 = b[0], a1 = a[1], b1 = b[1], a2 = a[2], b2 = b[2], a3 = a[3], b3 = b[3];
            a[0] = TV.Min(a0, b0); b[0] = TV.Max(a0, b0);
            a[1] = TV.Min(a1, b1); b[1] = TV.Max(a1, b1);
            a[2] = TV.Min(a2, b2); b[2] = TV.Max(a2, b2);
            a[3] = TV.Min(a3, b3); b[3] = TV.Max(a3, b3);
        }
    }
}
