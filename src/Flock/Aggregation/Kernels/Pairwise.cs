using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// memory once and then from cache for all pairs. Sums are accumulated in float within a block
/// (at most 64 terms per lane at AVX-512) and in double across blocks.
/// <para>
/// Distances are computed directly as Σ(a − b)² rather than with the Gram identity
/// ‖a‖² + ‖b‖² − 2a·b: the cost is the same here (one subtraction per FMA, on another port), and it
/// has no cancellation at all, so nearby vectors with large norms (models near consensus) keep
/// their exact distances. A block whose float sum overflows (huge but finite inputs) is recomputed
/// in double for that pair, so results are finite for finite inputs.
/// </para>
/// </summary>
internal static unsafe class Pairwise
{
    /// <summary>Coordinates per cache block (4 KiB per input).</summary>
    public const int Block = 1024;

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
        var table = ScratchPool<nint>.Rent(n);
        float[]? pad = null;
        try
        {
            fixed (nint* tp = table)
            {
                float** p = (float**)tp;
                for (int start = 0; start < full; start += Block)
                {
                    int len = Math.Min(Block, full - start);
                    for (int i = 0; i < n; i++) p[i] = rows[i] + start;
                    Tiles<TOp, TV>(p, n, len, result);
                }
                if (full < d)
                {
                    // Tail shorter than one vector: zero-padded copies (zeros add nothing to any term).
                    pad = ScratchPool<float>.Rent(n * lanes);
                    fixed (float* pp = pad)
                    {
                        for (int i = 0; i < n; i++)
                        {
                            var dst = new Span<float>(pp + i * lanes, lanes);
                            dst.Clear();
                            new ReadOnlySpan<float>(rows[i] + full, d - full).CopyTo(dst);
                            p[i] = pp + i * lanes;
                        }
                        Tiles<TOp, TV>(p, n, lanes, result);
                    }
                }
            }
        }
        finally
        {
            ScratchPool<nint>.Return(table);
            if (pad is not null) ScratchPool<float>.Return(pad);
        }
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) result[j * n + i] = result[i * n + j];
    }

    private static void Tiles<TOp, TV>(float** p, int n, int len, double* r)
        where TOp : struct, IPairOp where TV : unmanaged, IVec<TV>
    {
        float* sums = stackalloc float[16];
        for (int i0 = 0; i0 < n; i0 += 4)
        {
            float* a0 = p[i0], a1 = p[Math.Min(i0 + 1, n - 1)], a2 = p[Math.Min(i0 + 2, n - 1)], a3 = p[Math.Min(i0 + 3, n - 1)];
            for (int j0 = i0; j0 < n; j0 += 4)
            {
                float* b0 = p[j0], b1 = p[Math.Min(j0 + 1, n - 1)], b2 = p[Math.Min(j0 + 2, n - 1)], b3 = p[Math.Min(j0 + 3, n - 1)];
                if (typeof(TOp) == typeof(SquaredDifference) && typeof(TV) == typeof(V512))
                {
                    // Only the pairs needed: the upper triangle of a diagonal tile (its diagonal is 0),
                    // and two columns when only two are left.
                    if (j0 == i0) SquaredDiagonal512(a0, a1, a2, a3, len, sums);
                    else if (n - j0 <= 2) SquaredTile512x2(a0, a1, a2, a3, b0, b1, len, sums);
                    else SquaredTile512(a0, a1, a2, a3, b0, b1, b2, b3, len, sums);
                }
                else
                    Tile<TOp, TV>(a0, a1, a2, a3, b0, b1, b2, b3, len, sums);
                Flush<TOp>(r, p, n, len, i0, j0, sums);
            }
        }
    }

    /// <summary>One 4×4 tile of pairs over <paramref name="len"/> coordinates; its own method so the 16
    /// accumulators get the register allocator's full attention (no calls, nothing else live).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TOp, TV>(float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, float* b2, float* b3, int len, float* sums)
        where TOp : struct, IPairOp where TV : unmanaged, IVec<TV>
    {
        int step = TV.Count;
        TV c00 = TV.Zero, c01 = TV.Zero, c02 = TV.Zero, c03 = TV.Zero;
        TV c10 = TV.Zero, c11 = TV.Zero, c12 = TV.Zero, c13 = TV.Zero;
        TV c20 = TV.Zero, c21 = TV.Zero, c22 = TV.Zero, c23 = TV.Zero;
        TV c30 = TV.Zero, c31 = TV.Zero, c32 = TV.Zero, c33 = TV.Zero;
        for (int c = 0; c < len; c += step)
        {
            TV x0 = TV.Load(a0 + c), x1 = TV.Load(a1 + c), x2 = TV.Load(a2 + c), x3 = TV.Load(a3 + c);
            TV y0 = TV.Load(b0 + c), y1 = TV.Load(b1 + c), y2 = TV.Load(b2 + c), y3 = TV.Load(b3 + c);
            c00 = TOp.Apply(x0, y0, c00); c01 = TOp.Apply(x0, y1, c01); c02 = TOp.Apply(x0, y2, c02); c03 = TOp.Apply(x0, y3, c03);
            c10 = TOp.Apply(x1, y0, c10); c11 = TOp.Apply(x1, y1, c11); c12 = TOp.Apply(x1, y2, c12); c13 = TOp.Apply(x1, y3, c13);
            c20 = TOp.Apply(x2, y0, c20); c21 = TOp.Apply(x2, y1, c21); c22 = TOp.Apply(x2, y2, c22); c23 = TOp.Apply(x2, y3, c23);
            c30 = TOp.Apply(x3, y0, c30); c31 = TOp.Apply(x3, y1, c31); c32 = TOp.Apply(x3, y2, c32); c33 = TOp.Apply(x3, y3, c33);
        }
        sums[0] = TV.Sum(c00); sums[1] = TV.Sum(c01); sums[2] = TV.Sum(c02); sums[3] = TV.Sum(c03);
        sums[4] = TV.Sum(c10); sums[5] = TV.Sum(c11); sums[6] = TV.Sum(c12); sums[7] = TV.Sum(c13);
        sums[8] = TV.Sum(c20); sums[9] = TV.Sum(c21); sums[10] = TV.Sum(c22); sums[11] = TV.Sum(c23);
        sums[12] = TV.Sum(c30); sums[13] = TV.Sum(c31); sums[14] = TV.Sum(c32); sums[15] = TV.Sum(c33);
    }

    /// <summary>
    /// <see cref="Tile{TOp, TV}"/> for squared differences at AVX-512, written on raw vectors so the
    /// JIT accumulates in place (fused multiply-add into the accumulator, no register copy per term).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SquaredTile512(float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, float* b2, float* b3, int len, float* sums)
    {
        var c00 = Vector512<float>.Zero; var c01 = c00; var c02 = c00; var c03 = c00;
        var c10 = c00; var c11 = c00; var c12 = c00; var c13 = c00;
        var c20 = c00; var c21 = c00; var c22 = c00; var c23 = c00;
        var c30 = c00; var c31 = c00; var c32 = c00; var c33 = c00;
        for (int c = 0; c < len; c += 16)
        {
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
        sums[0] = Vector512.Sum(c00); sums[1] = Vector512.Sum(c01); sums[2] = Vector512.Sum(c02); sums[3] = Vector512.Sum(c03);
        sums[4] = Vector512.Sum(c10); sums[5] = Vector512.Sum(c11); sums[6] = Vector512.Sum(c12); sums[7] = Vector512.Sum(c13);
        sums[8] = Vector512.Sum(c20); sums[9] = Vector512.Sum(c21); sums[10] = Vector512.Sum(c22); sums[11] = Vector512.Sum(c23);
        sums[12] = Vector512.Sum(c30); sums[13] = Vector512.Sum(c31); sums[14] = Vector512.Sum(c32); sums[15] = Vector512.Sum(c33);
    }

    /// <summary>
    /// The six pairs i &lt; j within rows a0..a3 (a diagonal tile of squared differences), in the same
    /// layout and order of operations as <see cref="SquaredTile512"/>; the diagonal entries are 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SquaredDiagonal512(float* a0, float* a1, float* a2, float* a3, int len, float* sums)
    {
        var c01 = Vector512<float>.Zero; var c02 = c01; var c03 = c01; var c12 = c01; var c13 = c01; var c23 = c01;
        for (int c = 0; c < len; c += 16)
        {
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
        sums[0] = 0; sums[5] = 0; sums[10] = 0; sums[15] = 0;
        sums[1] = Vector512.Sum(c01); sums[2] = Vector512.Sum(c02); sums[3] = Vector512.Sum(c03);
        sums[6] = Vector512.Sum(c12); sums[7] = Vector512.Sum(c13); sums[11] = Vector512.Sum(c23);
    }

    /// <summary>A 4×2 tile of squared differences (the last two columns), same layout as <see cref="SquaredTile512"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SquaredTile512x2(float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, int len, float* sums)
    {
        var c00 = Vector512<float>.Zero; var c01 = c00; var c10 = c00; var c11 = c00;
        var c20 = c00; var c21 = c00; var c30 = c00; var c31 = c00;
        for (int c = 0; c < len; c += 16)
        {
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
        sums[0] = Vector512.Sum(c00); sums[1] = Vector512.Sum(c01);
        sums[4] = Vector512.Sum(c10); sums[5] = Vector512.Sum(c11);
        sums[8] = Vector512.Sum(c20); sums[9] = Vector512.Sum(c21);
        sums[12] = Vector512.Sum(c30); sums[13] = Vector512.Sum(c31);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Flush<TOp>(double* r, float** p, int n, int len, int i0, int j0, float* sums) where TOp : struct, IPairOp
    {
        for (int x = 0; x < 4; x++)
            for (int y = 0; y < 4; y++)
            {
                int i = i0 + x, j = j0 + y;
                if (i > j || j >= n) continue;
                float s = sums[x * 4 + y];
                r[i * n + j] += float.IsFinite(s) ? s : TOp.Exact(p[i], p[j], len);
            }
    }
}
