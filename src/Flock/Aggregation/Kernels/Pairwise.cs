using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flock.Tensors;

namespace Flock.Aggregation.Kernels;

/// <summary>A per-coordinate term summed over coordinates for every pair of vectors.</summary>
internal interface IPairOp
{
    /// <summary>Returns <c>acc + term(a, b)</c> lane-wise.</summary>
    static abstract TV Apply<TV>(TV a, TV b, TV acc) where TV : unmanaged, IVec<TV>;

    /// <summary>The same sum over <paramref name="length"/> coordinates in double (the overflow fallback).</summary>
    static abstract unsafe double Exact(float* a, float* b, int length);
}

/// <summary>(a − b)²: squared Euclidean distance.</summary>
internal readonly struct SquaredDifference : IPairOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV a, TV b, TV acc) where TV : unmanaged, IVec<TV>
    {
        TV t = TV.Sub(a, b);
        return TV.MulAdd(t, t, acc);
    }

    public static unsafe double Exact(float* a, float* b, int length)
    {
        double s = 0;
        for (int i = 0; i < length; i++) { double t = (double)a[i] - b[i]; s += t * t; }
        return s;
    }
}

/// <summary>|a − b|: Manhattan (L1) distance.</summary>
internal readonly struct AbsoluteDifference : IPairOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV a, TV b, TV acc) where TV : unmanaged, IVec<TV> => TV.Add(TV.Abs(TV.Sub(a, b)), acc);

    public static unsafe double Exact(float* a, float* b, int length)
    {
        double s = 0;
        for (int i = 0; i < length; i++) s += Math.Abs((double)a[i] - b[i]);
        return s;
    }
}

/// <summary>a·b: inner products (the Gram matrix; its diagonal holds squared norms).</summary>
internal readonly struct DotProduct : IPairOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV a, TV b, TV acc) where TV : unmanaged, IVec<TV> => TV.MulAdd(a, b, acc);

    public static unsafe double Exact(float* a, float* b, int length)
    {
        double s = 0;
        for (int i = 0; i < length; i++) s += (double)a[i] * b[i];
        return s;
    }
}

/// <summary>
/// All-pairs reductions <c>R[i,j] = Σ_c term(x_i[c], x_j[c])</c> over n vectors, computed blockwise:
/// the coordinates are cut into blocks of <see cref="Block"/> floats, and within a block every 4×4
/// tile of pairs is accumulated in 16 vector registers, so each block of all n inputs is read from
/// memory once and then from cache for all pairs. A tile's accumulators are kept in memory between
/// blocks; they sum in float over windows of 256 vectors of coordinates (256 terms per lane), then
/// lane by lane in double across windows, and the lanes are added once at the end. Windows are
/// grouped into segments of about 64K coordinates (whole windows; fewer, longer segments when the
/// n² partials would pass 16 MiB, a single one from n ≈ 1,450) with their own double partials,
/// added in segment order; segments run on several threads for large inputs
/// (<see cref="KernelParallelism"/>) with the same result as on one.
/// <para>
/// Distances are computed directly as Σ(a − b)² rather than with the Gram identity
/// ‖a‖² + ‖b‖² − 2a·b: the cost is the same here (one subtraction per FMA, on another port), and it
/// has no cancellation at all, so nearby vectors with large norms (models near consensus) keep
/// their exact distances. A window whose float sum overflows (huge but finite inputs) is recomputed
/// in double for that pair, so results are finite for finite inputs.
/// </para>
/// </summary>
internal static unsafe class Pairwise
{
    /// <summary>Coordinates per segment: the unit of work of one thread, with its own double partial sums.</summary>
    private const int SegmentLength = 1 << 16;

    /// <summary>
    /// Coordinates per pass over the tiles (4 KiB per input; at scalar width a window, 256): a
    /// tile's four row slices stay in L1 while it meets every other row's slice, and all n slices
    /// stay in L2.
    /// </summary>
    public const int Block = 1024;

    /// <summary>Terms per lane summed in float before the sum goes to double: windows of 256 vectors of coordinates.</summary>
    private const int TermsPerLane = 256;

    /// <summary>Fills the symmetric n×n matrix <paramref name="result"/> (row-major) for all pairs, diagonal included.</summary>
    public static void Compute<TOp>(float** rows, int n, int d, double* result, SimdWidth width) where TOp : struct, IPairOp
    {
        switch (width)
        {
            case SimdWidth.V512: Compute<TOp, V512>(rows, n, d, result); break;
            case SimdWidth.V256: Compute<TOp, V256>(rows, n, d, result); break;
            default: Compute<TOp, V1>(rows, n, d, result); break;
        }
    }

    private static void Compute<TOp, TV>(float** rows, int n, int d, double* result)
        where TOp : struct, IPairOp where TV : unmanaged, IVec<TV>
    {
        new Span<double>(result, n * n).Clear();
        int lanes = TV.Count;
        int full = d - d % lanes;
        int window = TermsPerLane * lanes;
        int segments = SegmentCount(n, full);
        int perSegment = segments == 0 ? 0 : (full + segments - 1) / segments;
        perSegment = (perSegment + window - 1) / window * window;
        segments = perSegment == 0 ? 0 : (full + perSegment - 1) / perSegment;
        var partials = ScratchPool<double>.Rent(Math.Max(1, segments) * n * n);
        try
        {
            fixed (double* pp = partials)
            {
                if (KernelParallelism.UseThreads(4L * n * d, segments))
                    Parallel<TOp, TV>(rows, n, full, perSegment, segments, pp);
                else
                    for (int s = 0; s < segments; s++) Segment<TOp, TV>(rows, n, s * perSegment, Math.Min(full, (s + 1) * perSegment), pp + (long)s * n * n);
                // Segment sums in segment order: the same result on any number of threads.
                for (int s = 0; s < segments; s++)
                {
                    double* part = pp + (long)s * n * n;
                    for (int i = 0; i < n; i++)
                        for (int j = i; j < n; j++) result[i * n + j] += part[i * n + j];
                }
            }
        }
        finally
        {
            ScratchPool<double>.Return(partials);
        }
        if (full < d) Tail<TOp, TV>(rows, n, full, d, result);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) result[j * n + i] = result[i * n + j];
    }

    /// <summary>
    /// Number of coordinate segments (each summed into its own n×n partial, then reduced in order):
    /// one per <see cref="SegmentLength"/> coordinates, fewer when the partials would pass 16 MiB.
    /// Depends on n and d only, so results do not depend on the thread count.
    /// </summary>
    private static int SegmentCount(int n, int full)
    {
        if (full == 0) return 0;
        int byMemory = (int)Math.Max(1, (2L << 20) / ((long)n * n));
        return Math.Min((full + SegmentLength - 1) / SegmentLength, byMemory);
    }

    private static void Parallel<TOp, TV>(float** rows, int n, int full, int perSegment, int segments, double* partials)
        where TOp : struct, IPairOp where TV : unmanaged, IVec<TV>
    {
        nint r = (nint)rows, pp = (nint)partials;
        KernelParallelism.For(segments, 4L * n * full, s =>
            Segment<TOp, TV>((float**)r, n, s * perSegment, Math.Min(full, (s + 1) * perSegment), (double*)pp + (long)s * n * n));
    }

    /// <summary>Number of 4×4 tiles in the upper triangle of n×n pairs.</summary>
    private static int TileCount(int n)
    {
        int g = (n + 3) / 4;
        return g * (g + 1) / 2;
    }

    /// <summary>
    /// Upper triangle (i ≤ j) of the sums over coordinates [start, end) into <paramref name="part"/>
    /// (overwritten). Window by window (<see cref="TermsPerLane"/> vectors of coordinates), every
    /// tile's 16 vector accumulators live in a scratch array across the window's blocks, and are
    /// summed into double at the window's end.
    /// </summary>
    private static void Segment<TOp, TV>(float** rows, int n, int start, int end, double* part)
        where TOp : struct, IPairOp where TV : unmanaged, IVec<TV>
    {
        new Span<double>(part, n * n).Clear();
        int lanes = TV.Count, window = TermsPerLane * lanes, block = Math.Min(Block, window);
        int accFloats = TileCount(n) * 16 * lanes;
        var table = ScratchPool<nint>.Rent(2 * n);
        var accArray = ScratchPool<float>.Rent(accFloats + 16);
        var wideArray = ScratchPool<double>.Rent(accFloats + 8);
        try
        {
            fixed (nint* tp = table)
            fixed (float* a0 = accArray)
            fixed (double* w0 = wideArray)
            {
                float** p = (float**)tp, q = p + n;
                float* acc = (float*)(((nint)a0 + 63) & ~(nint)63);
                double* wide = (double*)(((nint)w0 + 63) & ~(nint)63);
                new Span<double>(wide, accFloats).Clear();
                for (int w = start; w < end; w += window)
                {
                    int wEnd = Math.Min(end, w + window);
                    new Span<float>(acc, accFloats).Clear();
                    for (int c = w; c < wEnd; c += block)
                    {
                        for (int i = 0; i < n; i++) p[i] = rows[i] + c;
                        int len = Math.Min(block, wEnd - c);
                        bool more = c + len + block <= end;
                        for (int i = 0; i < n && more; i++) q[i] = rows[i] + c + len;
                        Tiles<TOp, TV>(p, n, len, acc, more ? q : null);
                    }
                    for (int i = 0; i < n; i++) p[i] = rows[i] + w;
                    Fold<TOp>(acc, wide, accFloats, lanes, p, n, wEnd - w, part);
                }
                Reduce(wide, lanes, n, part);
            }
        }
        finally
        {
            ScratchPool<nint>.Return(table);
            ScratchPool<float>.Return(accArray);
            ScratchPool<double>.Return(wideArray);
        }
    }

    /// <summary>The last d − full coordinates (fewer than one vector), from zero-padded copies (zeros add nothing to any term).</summary>
    private static void Tail<TOp, TV>(float** rows, int n, int full, int d, double* result)
        where TOp : struct, IPairOp where TV : unmanaged, IVec<TV>
    {
        int lanes = TV.Count, accFloats = TileCount(n) * 16 * lanes;
        var table = ScratchPool<nint>.Rent(n);
        var pad = ScratchPool<float>.Rent(n * lanes);
        var accArray = ScratchPool<float>.Rent(accFloats + 16);
        var wideArray = ScratchPool<double>.Rent(accFloats + 8);
        try
        {
            fixed (nint* tp = table)
            fixed (float* pp = pad)
            fixed (float* a0 = accArray)
            fixed (double* w0 = wideArray)
            {
                float** p = (float**)tp;
                float* acc = (float*)(((nint)a0 + 63) & ~(nint)63);
                double* wide = (double*)(((nint)w0 + 63) & ~(nint)63);
                for (int i = 0; i < n; i++)
                {
                    var dst = new Span<float>(pp + i * lanes, lanes);
                    dst.Clear();
                    new ReadOnlySpan<float>(rows[i] + full, d - full).CopyTo(dst);
                    p[i] = pp + i * lanes;
                }
                new Span<float>(acc, accFloats).Clear();
                new Span<double>(wide, accFloats).Clear();
                Tiles<TOp, TV>(p, n, lanes, acc);
                Fold<TOp>(acc, wide, accFloats, lanes, p, n, lanes, result);
                Reduce(wide, lanes, n, result);
            }
        }
        finally
        {
            ScratchPool<nint>.Return(table);
            ScratchPool<float>.Return(pad);
            ScratchPool<float>.Return(accArray);
            ScratchPool<double>.Return(wideArray);
        }
    }

    /// <summary>
    /// One pass of every tile over <paramref name="len"/> coordinates, adding into the tiles'
    /// accumulators (16 vectors each, in tile order). <paramref name="next"/>: the rows at the next
    /// block (null when there is none), prefetched on the way.
    /// </summary>
    private static void Tiles<TOp, TV>(float** p, int n, int len, float* acc, float** next = null)
        where TOp : struct, IPairOp where TV : unmanaged, IVec<TV>
    {
        int stride = 16 * TV.Count, tile = 0;
        for (int i0 = 0; i0 < n; i0 += 4)
        {
            float* a0 = p[i0], a1 = p[Math.Min(i0 + 1, n - 1)], a2 = p[Math.Min(i0 + 2, n - 1)], a3 = p[Math.Min(i0 + 3, n - 1)];
            for (int j0 = i0; j0 < n; j0 += 4, acc += stride)
            {
                float* b0 = p[j0], b1 = p[Math.Min(j0 + 1, n - 1)], b2 = p[Math.Min(j0 + 2, n - 1)], b3 = p[Math.Min(j0 + 3, n - 1)];
                // Tile t (t < n) prefetches row t's slice of the next block into L2, one line per step,
                // so the next block arrives while this one computes (a row's own tile re-reads its slice: a no-op).
                float* pf = next is not null && tile < n ? next[tile] : a0;
                tile++;
                if (typeof(TOp) == typeof(SquaredDifference) && typeof(TV) == typeof(V512))
                {
                    // Only the pairs needed: the upper triangle of a diagonal tile (its diagonal is 0),
                    // and two columns when only two are left.
                    if (j0 == i0) SquaredDiagonal512(a0, a1, a2, a3, len, acc, pf);
                    else if (n - j0 <= 2) SquaredTile512x2(a0, a1, a2, a3, b0, b1, len, acc, pf);
                    else SquaredTile512(a0, a1, a2, a3, b0, b1, b2, b3, len, acc, pf);
                }
                else
                    Tile<TOp, TV>(a0, a1, a2, a3, b0, b1, b2, b3, len, acc, pf);
            }
        }
        // With fewer tiles than rows (n < 25), the rows no tile prefetched, in one burst.
        if (next is not null && Sse.IsSupported)
            for (int r = tile; r < n; r++)
                for (int c = 0; c < len; c += 16) Sse.Prefetch1(next[r] + c);
    }

    /// <summary>
    /// Adds a window's float accumulators lane by lane into the double accumulators
    /// <paramref name="wide"/> (same layout). When an accumulator overflowed (huge but finite
    /// inputs), that pair's window is recomputed in double from <paramref name="p"/> (the rows at the
    /// window's start) and added to <paramref name="r"/> instead.
    /// </summary>
    private static void Fold<TOp>(float* acc, double* wide, int count, int lanes, float** p, int n, int len, double* r)
        where TOp : struct, IPairOp
    {
        if (AllFinite(acc, count))
        {
            WidenAdd(acc, wide, count);
            return;
        }
        for (int i0 = 0, slot = 0; i0 < n; i0 += 4)
            for (int j0 = i0; j0 < n; j0 += 4)
                for (int x = 0; x < 4; x++)
                    for (int y = 0; y < 4; y++, slot += lanes)
                    {
                        int i = i0 + x, j = j0 + y;
                        if (i > j || j >= n) continue;
                        if (AllFinite(acc + slot, lanes))
                            for (int l = 0; l < lanes; l++) wide[slot + l] += acc[slot + l];
                        else
                            r[i * n + j] += TOp.Exact(p[i], p[j], len);
                    }
    }

    private static bool AllFinite(float* x, int count)
    {
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var bad = Vector512<float>.Zero;
            for (; k + 16 <= count; k += 16)
            {
                var v = Vector512.Load(x + k);
                bad |= ~Vector512.Equals(v - v, Vector512<float>.Zero);   // x − x is 0 exactly when x is finite
            }
            if (bad != Vector512<float>.Zero) return false;
        }
        for (; k < count; k++) if (!float.IsFinite(x[k])) return false;
        return true;
    }

    private static void WidenAdd(float* acc, double* wide, int count)
    {
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; k + 16 <= count; k += 16)
            {
                var v = Vector512.Load(acc + k);
                Vector512.Store(Vector512.Load(wide + k) + Vector512.WidenLower(v), wide + k);
                Vector512.Store(Vector512.Load(wide + k + 8) + Vector512.WidenUpper(v), wide + k + 8);
            }
        for (; k < count; k++) wide[k] += acc[k];
    }

    /// <summary>Adds every pair's double accumulator (the sum of its lanes, in lane order) to <paramref name="r"/>.</summary>
    private static void Reduce(double* wide, int lanes, int n, double* r)
    {
        for (int i0 = 0; i0 < n; i0 += 4)
            for (int j0 = i0; j0 < n; j0 += 4, wide += 16 * lanes)
                for (int x = 0; x < 4; x++)
                    for (int y = 0; y < 4; y++)
                    {
                        int i = i0 + x, j = j0 + y;
                        if (i > j || j >= n) continue;
                        double* w = wide + (4 * x + y) * lanes;
                        double s = 0;
                        for (int l = 0; l < lanes; l++) s += w[l];
                        r[i * n + j] += s;
                    }
    }

    /// <summary>One 4×4 tile of pairs over <paramref name="len"/> coordinates, added to its 16 accumulators
    /// (pair (x, y) at vector 4x + y); its own method so the accumulators get the register allocator's
    /// full attention (no calls, nothing else live).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TOp, TV>(float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, float* b2, float* b3, int len, float* acc, float* pf)
        where TOp : struct, IPairOp where TV : unmanaged, IVec<TV>
    {
        int step = TV.Count;
        TV c00 = TV.Load(acc), c01 = TV.Load(acc + step), c02 = TV.Load(acc + 2 * step), c03 = TV.Load(acc + 3 * step);
        TV c10 = TV.Load(acc + 4 * step), c11 = TV.Load(acc + 5 * step), c12 = TV.Load(acc + 6 * step), c13 = TV.Load(acc + 7 * step);
        TV c20 = TV.Load(acc + 8 * step), c21 = TV.Load(acc + 9 * step), c22 = TV.Load(acc + 10 * step), c23 = TV.Load(acc + 11 * step);
        TV c30 = TV.Load(acc + 12 * step), c31 = TV.Load(acc + 13 * step), c32 = TV.Load(acc + 14 * step), c33 = TV.Load(acc + 15 * step);
        for (int c = 0; c < len; c += step)
        {
            if (step >= 8 && Sse.IsSupported) Sse.Prefetch1(pf + c);
            TV x0 = TV.Load(a0 + c), x1 = TV.Load(a1 + c), x2 = TV.Load(a2 + c), x3 = TV.Load(a3 + c);
            TV y0 = TV.Load(b0 + c), y1 = TV.Load(b1 + c), y2 = TV.Load(b2 + c), y3 = TV.Load(b3 + c);
            c00 = TOp.Apply(x0, y0, c00); c01 = TOp.Apply(x0, y1, c01); c02 = TOp.Apply(x0, y2, c02); c03 = TOp.Apply(x0, y3, c03);
            c10 = TOp.Apply(x1, y0, c10); c11 = TOp.Apply(x1, y1, c11); c12 = TOp.Apply(x1, y2, c12); c13 = TOp.Apply(x1, y3, c13);
            c20 = TOp.Apply(x2, y0, c20); c21 = TOp.Apply(x2, y1, c21); c22 = TOp.Apply(x2, y2, c22); c23 = TOp.Apply(x2, y3, c23);
            c30 = TOp.Apply(x3, y0, c30); c31 = TOp.Apply(x3, y1, c31); c32 = TOp.Apply(x3, y2, c32); c33 = TOp.Apply(x3, y3, c33);
        }
        TV.Store(c00, acc); TV.Store(c01, acc + step); TV.Store(c02, acc + 2 * step); TV.Store(c03, acc + 3 * step);
        TV.Store(c10, acc + 4 * step); TV.Store(c11, acc + 5 * step); TV.Store(c12, acc + 6 * step); TV.Store(c13, acc + 7 * step);
        TV.Store(c20, acc + 8 * step); TV.Store(c21, acc + 9 * step); TV.Store(c22, acc + 10 * step); TV.Store(c23, acc + 11 * step);
        TV.Store(c30, acc + 12 * step); TV.Store(c31, acc + 13 * step); TV.Store(c32, acc + 14 * step); TV.Store(c33, acc + 15 * step);
    }

    /// <summary>
    /// <see cref="Tile{TOp, TV}"/> for squared differences at AVX-512, written on raw vectors so the
    /// JIT accumulates in place (fused multiply-add into the accumulator, no register copy per term).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SquaredTile512(float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, float* b2, float* b3, int len, float* acc, float* pf)
    {
        var c00 = Avx512F.LoadAlignedVector512(acc); var c01 = Avx512F.LoadAlignedVector512(acc + 16); var c02 = Avx512F.LoadAlignedVector512(acc + 32); var c03 = Avx512F.LoadAlignedVector512(acc + 48);
        var c10 = Avx512F.LoadAlignedVector512(acc + 64); var c11 = Avx512F.LoadAlignedVector512(acc + 80); var c12 = Avx512F.LoadAlignedVector512(acc + 96); var c13 = Avx512F.LoadAlignedVector512(acc + 112);
        var c20 = Avx512F.LoadAlignedVector512(acc + 128); var c21 = Avx512F.LoadAlignedVector512(acc + 144); var c22 = Avx512F.LoadAlignedVector512(acc + 160); var c23 = Avx512F.LoadAlignedVector512(acc + 176);
        var c30 = Avx512F.LoadAlignedVector512(acc + 192); var c31 = Avx512F.LoadAlignedVector512(acc + 208); var c32 = Avx512F.LoadAlignedVector512(acc + 224); var c33 = Avx512F.LoadAlignedVector512(acc + 240);
        for (int c = 0; c < len; c += 16)
        {
            Sse.Prefetch1(pf + c);
            var y0 = Avx512F.LoadVector512(b0 + c);
            var y1 = Avx512F.LoadVector512(b1 + c);
            var y2 = Avx512F.LoadVector512(b2 + c);
            var y3 = Avx512F.LoadVector512(b3 + c);
            var x = Avx512F.LoadVector512(a0 + c);
            var t = Avx512F.Subtract(x, y0); c00 = Avx512F.FusedMultiplyAdd(t, t, c00);
            t = Avx512F.Subtract(x, y1); c01 = Avx512F.FusedMultiplyAdd(t, t, c01);
            t = Avx512F.Subtract(x, y2); c02 = Avx512F.FusedMultiplyAdd(t, t, c02);
            t = Avx512F.Subtract(x, y3); c03 = Avx512F.FusedMultiplyAdd(t, t, c03);
            x = Avx512F.LoadVector512(a1 + c);
            t = Avx512F.Subtract(x, y0); c10 = Avx512F.FusedMultiplyAdd(t, t, c10);
            t = Avx512F.Subtract(x, y1); c11 = Avx512F.FusedMultiplyAdd(t, t, c11);
            t = Avx512F.Subtract(x, y2); c12 = Avx512F.FusedMultiplyAdd(t, t, c12);
            t = Avx512F.Subtract(x, y3); c13 = Avx512F.FusedMultiplyAdd(t, t, c13);
            x = Avx512F.LoadVector512(a2 + c);
            t = Avx512F.Subtract(x, y0); c20 = Avx512F.FusedMultiplyAdd(t, t, c20);
            t = Avx512F.Subtract(x, y1); c21 = Avx512F.FusedMultiplyAdd(t, t, c21);
            t = Avx512F.Subtract(x, y2); c22 = Avx512F.FusedMultiplyAdd(t, t, c22);
            t = Avx512F.Subtract(x, y3); c23 = Avx512F.FusedMultiplyAdd(t, t, c23);
            x = Avx512F.LoadVector512(a3 + c);
            t = Avx512F.Subtract(x, y0); c30 = Avx512F.FusedMultiplyAdd(t, t, c30);
            t = Avx512F.Subtract(x, y1); c31 = Avx512F.FusedMultiplyAdd(t, t, c31);
            t = Avx512F.Subtract(x, y2); c32 = Avx512F.FusedMultiplyAdd(t, t, c32);
            t = Avx512F.Subtract(x, y3); c33 = Avx512F.FusedMultiplyAdd(t, t, c33);
        }
        Avx512F.StoreAligned(acc, c00); Avx512F.StoreAligned(acc + 16, c01); Avx512F.StoreAligned(acc + 32, c02); Avx512F.StoreAligned(acc + 48, c03);
        Avx512F.StoreAligned(acc + 64, c10); Avx512F.StoreAligned(acc + 80, c11); Avx512F.StoreAligned(acc + 96, c12); Avx512F.StoreAligned(acc + 112, c13);
        Avx512F.StoreAligned(acc + 128, c20); Avx512F.StoreAligned(acc + 144, c21); Avx512F.StoreAligned(acc + 160, c22); Avx512F.StoreAligned(acc + 176, c23);
        Avx512F.StoreAligned(acc + 192, c30); Avx512F.StoreAligned(acc + 208, c31); Avx512F.StoreAligned(acc + 224, c32); Avx512F.StoreAligned(acc + 240, c33);
    }

    /// <summary>
    /// The six pairs i &lt; j within rows a0..a3 (a diagonal tile of squared differences), in the same
    /// layout and order of operations as <see cref="SquaredTile512"/>; the diagonal accumulators stay 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SquaredDiagonal512(float* a0, float* a1, float* a2, float* a3, int len, float* acc, float* pf)
    {
        var c01 = Avx512F.LoadAlignedVector512(acc + 16); var c02 = Avx512F.LoadAlignedVector512(acc + 32); var c03 = Avx512F.LoadAlignedVector512(acc + 48);
        var c12 = Avx512F.LoadAlignedVector512(acc + 96); var c13 = Avx512F.LoadAlignedVector512(acc + 112); var c23 = Avx512F.LoadAlignedVector512(acc + 176);
        for (int c = 0; c < len; c += 16)
        {
            Sse.Prefetch1(pf + c);
            var x0 = Avx512F.LoadVector512(a0 + c);
            var x1 = Avx512F.LoadVector512(a1 + c);
            var x2 = Avx512F.LoadVector512(a2 + c);
            var x3 = Avx512F.LoadVector512(a3 + c);
            var t = Avx512F.Subtract(x0, x1); c01 = Avx512F.FusedMultiplyAdd(t, t, c01);
            t = Avx512F.Subtract(x0, x2); c02 = Avx512F.FusedMultiplyAdd(t, t, c02);
            t = Avx512F.Subtract(x0, x3); c03 = Avx512F.FusedMultiplyAdd(t, t, c03);
            t = Avx512F.Subtract(x1, x2); c12 = Avx512F.FusedMultiplyAdd(t, t, c12);
            t = Avx512F.Subtract(x1, x3); c13 = Avx512F.FusedMultiplyAdd(t, t, c13);
            t = Avx512F.Subtract(x2, x3); c23 = Avx512F.FusedMultiplyAdd(t, t, c23);
        }
        Avx512F.StoreAligned(acc + 16, c01); Avx512F.StoreAligned(acc + 32, c02); Avx512F.StoreAligned(acc + 48, c03);
        Avx512F.StoreAligned(acc + 96, c12); Avx512F.StoreAligned(acc + 112, c13); Avx512F.StoreAligned(acc + 176, c23);
    }

    /// <summary>A 4×2 tile of squared differences (the last two columns), same layout as <see cref="SquaredTile512"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SquaredTile512x2(float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, int len, float* acc, float* pf)
    {
        var c00 = Avx512F.LoadAlignedVector512(acc); var c01 = Avx512F.LoadAlignedVector512(acc + 16);
        var c10 = Avx512F.LoadAlignedVector512(acc + 64); var c11 = Avx512F.LoadAlignedVector512(acc + 80);
        var c20 = Avx512F.LoadAlignedVector512(acc + 128); var c21 = Avx512F.LoadAlignedVector512(acc + 144);
        var c30 = Avx512F.LoadAlignedVector512(acc + 192); var c31 = Avx512F.LoadAlignedVector512(acc + 208);
        for (int c = 0; c < len; c += 16)
        {
            Sse.Prefetch1(pf + c);
            var y0 = Avx512F.LoadVector512(b0 + c);
            var y1 = Avx512F.LoadVector512(b1 + c);
            var x = Avx512F.LoadVector512(a0 + c);
            var t = Avx512F.Subtract(x, y0); c00 = Avx512F.FusedMultiplyAdd(t, t, c00);
            t = Avx512F.Subtract(x, y1); c01 = Avx512F.FusedMultiplyAdd(t, t, c01);
            x = Avx512F.LoadVector512(a1 + c);
            t = Avx512F.Subtract(x, y0); c10 = Avx512F.FusedMultiplyAdd(t, t, c10);
            t = Avx512F.Subtract(x, y1); c11 = Avx512F.FusedMultiplyAdd(t, t, c11);
            x = Avx512F.LoadVector512(a2 + c);
            t = Avx512F.Subtract(x, y0); c20 = Avx512F.FusedMultiplyAdd(t, t, c20);
            t = Avx512F.Subtract(x, y1); c21 = Avx512F.FusedMultiplyAdd(t, t, c21);
            x = Avx512F.LoadVector512(a3 + c);
            t = Avx512F.Subtract(x, y0); c30 = Avx512F.FusedMultiplyAdd(t, t, c30);
            t = Avx512F.Subtract(x, y1); c31 = Avx512F.FusedMultiplyAdd(t, t, c31);
        }
        Avx512F.StoreAligned(acc, c00); Avx512F.StoreAligned(acc + 16, c01);
        Avx512F.StoreAligned(acc + 64, c10); Avx512F.StoreAligned(acc + 80, c11);
        Avx512F.StoreAligned(acc + 128, c20); Avx512F.StoreAligned(acc + 144, c21);
        Avx512F.StoreAligned(acc + 192, c30); Avx512F.StoreAligned(acc + 208, c31);
    }
}
