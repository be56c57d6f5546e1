using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Tensors;

/// <summary>
/// AVX-512 path for C with at most 8 columns and many rows (im2col convolutions with few output
/// channels, e.g. 18432×6×25). The usual kernel vectorises along the columns of C, so with n = 6 it
/// would waste 10 of 16 lanes; this one vectorises along the rows instead: a 32×8 tile of C lives
/// transposed in 16 zmm accumulators (two per column), each inner step loads 32 packed values of a
/// column of op(A) and broadcasts the 8 values of a row of op(B) into 16 FMAs, and the tile is
/// transposed with in-register 8×8 transposes before it is stored. A last strip of at most 16 rows
/// uses a 16×8 tile.
/// </summary>
internal static unsafe class GemmSkinny512
{
    /// <summary>Rows per tile (the vector direction: two zmm).</summary>
    internal const int MR = 32;

    /// <summary>Rows of the tile for a last strip of at most this many rows (one zmm).</summary>
    internal const int MRHalf = 16;

    /// <summary>Columns per tile; C may have at most this many.</summary>
    internal const int NW = 8;

    /// <summary>Whether a product should take this path: few columns and enough rows to fill tiles.</summary>
    internal static bool Prefer(int m, int n) => n <= NW && m >= 2 * MR;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        int kBlocks = (k + GemmDriver.KcMax - 1) / GemmDriver.KcMax;
        int kcNom = (k + kBlocks - 1) / kBlocks;
        GemmBuffers.Get(MR * kcNom, NW * kcNom, out float* pa, out float* pb);
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();
        for (int pc = 0; pc < k; pc += kcNom)
        {
            int kc = Math.Min(kcNom, k - pc);
            float betaEff = pc == 0 ? beta : 1f;
            PackB(transB, b, ldb, pc, kc, n, pb);
            for (int ir = 0; ir < m; ir += MR)
            {
                int rows = Math.Min(MR, m - ir);
                if (rows <= MRHalf)
                {
                    GemmPack.A(transA, a, lda, ir, rows, pc, kc, MRHalf, pa);
                    Tile16(kc, pa, pb, c + (long)ir * ldc, ldc, rows, mask, alpha, betaEff);
                }
                else if (transA && rows == MR)
                {
                    // A stored k×m: a column strip of op(A) is already 32 contiguous floats per step.
                    Tile32(kc, a + (long)pc * lda + ir, lda, pb, c + (long)ir * ldc, ldc, rows, mask, alpha, betaEff);
                }
                else
                {
                    GemmPack.A(transA, a, lda, ir, rows, pc, kc, MR, pa);
                    Tile32(kc, pa, MR, pb, c + (long)ir * ldc, ldc, rows, mask, alpha, betaEff);
                }
            }
        }
    }

    /// <summary>Packs op(B)[pc..pc+kc, 0..n] as kc rows of 8 (zero past n).</summary>
    private static void PackB(bool transB, float* b, int ldb, int pc, int kc, int n, float* dst)
    {
        for (int p = 0; p < kc; p++, dst += NW)
        {
            int j = 0;
            for (; j < n; j++) dst[j] = transB ? b[(long)j * ldb + pc + p] : b[(long)(pc + p) * ldb + j];
            for (; j < NW; j++) dst[j] = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile32(int kc, float* a, int aStep, float* b, float* c, int ldc, int rows, Vector512<float> mask, float alpha, float beta)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
        Vector512<float> d4 = default, d5 = default, d6 = default, d7 = default;
        for (int p = 0; p < kc; p++)
        {
            var x = Vector512.Load(a);
            var y = Vector512.Load(a + 16);
            var w = Vector512.Create(b[0]); c0 = Vector512.FusedMultiplyAdd(x, w, c0); d0 = Vector512.FusedMultiplyAdd(y, w, d0);
            w = Vector512.Create(b[1]); c1 = Vector512.FusedMultiplyAdd(x, w, c1); d1 = Vector512.FusedMultiplyAdd(y, w, d1);
            w = Vector512.Create(b[2]); c2 = Vector512.FusedMultiplyAdd(x, w, c2); d2 = Vector512.FusedMultiplyAdd(y, w, d2);
            w = Vector512.Create(b[3]); c3 = Vector512.FusedMultiplyAdd(x, w, c3); d3 = Vector512.FusedMultiplyAdd(y, w, d3);
            w = Vector512.Create(b[4]); c4 = Vector512.FusedMultiplyAdd(x, w, c4); d4 = Vector512.FusedMultiplyAdd(y, w, d4);
            w = Vector512.Create(b[5]); c5 = Vector512.FusedMultiplyAdd(x, w, c5); d5 = Vector512.FusedMultiplyAdd(y, w, d5);
            w = Vector512.Create(b[6]); c6 = Vector512.FusedMultiplyAdd(x, w, c6); d6 = Vector512.FusedMultiplyAdd(y, w, d6);
            w = Vector512.Create(b[7]); c7 = Vector512.FusedMultiplyAdd(x, w, c7); d7 = Vector512.FusedMultiplyAdd(y, w, d7);
            a += aStep;
            b += NW;
        }
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        bool overwrite = beta == 0;
        StoreRows(c, ldc, 8, mask, va, vb, overwrite,
            c0.GetLower(), c1.GetLower(), c2.GetLower(), c3.GetLower(), c4.GetLower(), c5.GetLower(), c6.GetLower(), c7.GetLower());
        StoreRows(c + 8L * ldc, ldc, 8, mask, va, vb, overwrite,
            c0.GetUpper(), c1.GetUpper(), c2.GetUpper(), c3.GetUpper(), c4.GetUpper(), c5.GetUpper(), c6.GetUpper(), c7.GetUpper());
        StoreRows(c + 16L * ldc, ldc, Math.Min(rows - 16, 8), mask, va, vb, overwrite,
            d0.GetLower(), d1.GetLower(), d2.GetLower(), d3.GetLower(), d4.GetLower(), d5.GetLower(), d6.GetLower(), d7.GetLower());
        if (rows > 24)
            StoreRows(c + 24L * ldc, ldc, rows - 24, mask, va, vb, overwrite,
                d0.GetUpper(), d1.GetUpper(), d2.GetUpper(), d3.GetUpper(), d4.GetUpper(), d5.GetUpper(), d6.GetUpper(), d7.GetUpper());
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile16(int kc, float* a, float* b, float* c, int ldc, int rows, Vector512<float> mask, float alpha, float beta)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < kc; p++)
        {
            var x = Vector512.Load(a);
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.Create(b[0]), c0);
            c1 = Vector512.FusedMultiplyAdd(x, Vector512.Create(b[1]), c1);
            c2 = Vector512.FusedMultiplyAdd(x, Vector512.Create(b[2]), c2);
            c3 = Vector512.FusedMultiplyAdd(x, Vector512.Create(b[3]), c3);
            c4 = Vector512.FusedMultiplyAdd(x, Vector512.Create(b[4]), c4);
            c5 = Vector512.FusedMultiplyAdd(x, Vector512.Create(b[5]), c5);
            c6 = Vector512.FusedMultiplyAdd(x, Vector512.Create(b[6]), c6);
            c7 = Vector512.FusedMultiplyAdd(x, Vector512.Create(b[7]), c7);
            a += MRHalf;
            b += NW;
        }
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        bool overwrite = beta == 0;
        StoreRows(c, ldc, Math.Min(rows, 8), mask, va, vb, overwrite,
            c0.GetLower(), c1.GetLower(), c2.GetLower(), c3.GetLower(), c4.GetLower(), c5.GetLower(), c6.GetLower(), c7.GetLower());
        if (rows > 8)
            StoreRows(c + 8L * ldc, ldc, rows - 8, mask, va, vb, overwrite,
                c0.GetUpper(), c1.GetUpper(), c2.GetUpper(), c3.GetUpper(), c4.GetUpper(), c5.GetUpper(), c6.GetUpper(), c7.GetUpper());
    }

    /// <summary>
    /// Transposes 8 column vectors (8 rows each) into rows and stores the first
    /// <paramref name="rows"/> of them, masked to the valid columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows(float* c, int ldc, int rows, Vector512<float> mask, Vector512<float> va, Vector512<float> vb, bool overwrite,
        Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Row(c, Avx.Permute2x128(u0, u4, 0x20), mask, va, vb, overwrite);
        if (rows == 1) return;
        Row(c + ldc, Avx.Permute2x128(u1, u5, 0x20), mask, va, vb, overwrite);
        if (rows == 2) return;
        Row(c + 2L * ldc, Avx.Permute2x128(u2, u6, 0x20), mask, va, vb, overwrite);
        if (rows == 3) return;
        Row(c + 3L * ldc, Avx.Permute2x128(u3, u7, 0x20), mask, va, vb, overwrite);
        if (rows == 4) return;
        Row(c + 4L * ldc, Avx.Permute2x128(u0, u4, 0x31), mask, va, vb, overwrite);
        if (rows == 5) return;
        Row(c + 5L * ldc, Avx.Permute2x128(u1, u5, 0x31), mask, va, vb, overwrite);
        if (rows == 6) return;
        Row(c + 6L * ldc, Avx.Permute2x128(u2, u6, 0x31), mask, va, vb, overwrite);
        if (rows == 7) return;
        Row(c + 7L * ldc, Avx.Permute2x128(u3, u7, 0x31), mask, va, vb, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float* c, Vector256<float> row, Vector512<float> mask, Vector512<float> va, Vector512<float> vb, bool overwrite)
    {
        var v = row.ToVector512Unsafe() * va;
        if (!overwrite) v = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(c, mask, Vector512<float>.Zero), vb, v);
        Avx512F.MaskStore(c, mask, v);
    }
}
