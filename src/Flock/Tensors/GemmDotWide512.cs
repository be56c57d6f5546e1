using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Tensors;

/// <summary>
/// The AVX-512 dot-product path (C = α·A·Bᵀ + β·C, both operands read in place) with 8×3 tiles:
/// 8 rows of A against 3 rows of B in 24 zmm accumulators. Each inner step loads 3 vectors of B
/// and 8 of A for 24 FMAs; the 8 rows of A (8·k floats) stay in L1 while the rows of B stream past
/// them, so B — usually the larger operand, e.g. a layer's weights — is read from L2 a third as
/// often as with 4×4 tiles. Row blocks of fewer than 8 rows and the last 1–2 columns go to the
/// 4×4 tiles of <see cref="GemmDot512"/>. Inner blocks of <see cref="GemmDriver.KDot"/> as there.
/// </summary>
internal static unsafe class GemmDotWide512
{
    /// <summary>Rows of A per tile.</summary>
    internal const int Rows = 8;

    /// <summary>Rows of B (columns of C) per tile.</summary>
    internal const int Cols = 3;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        int mFull = m / Rows * Rows, nFull = n / Cols * Cols;
        if (mFull == 0 || nFull == 0)
        {
            GemmDriver.RunDot<GemmDot512>(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        for (int pc = 0; pc < k; pc += GemmDriver.KDot)
        {
            int kc = Math.Min(GemmDriver.KDot, k - pc);
            float betaEff = pc == 0 ? beta : 1f;
            for (int i = 0; i < mFull; i += Rows)
            {
                float* ai = a + (long)i * lda + pc;
                float* ci = c + (long)i * ldc;
                for (int j = 0; j < nFull; j += Cols)
                    Tile(kc, ai, lda, b + (long)j * ldb + pc, ldb, ci + j, ldc, alpha, betaEff);
                if (nFull < n)
                    GemmDriver.RunDot<GemmDot512>(Rows, n - nFull, kc, alpha, ai, lda, b + (long)nFull * ldb + pc, ldb, betaEff, ci + nFull, ldc);
            }
        }
        if (mFull < m)
            GemmDriver.RunDot<GemmDot512>(m - mFull, n, k, alpha, a + (long)mFull * lda, lda, b, ldb, beta, c + (long)mFull * ldc, ldc);
    }

    /// <summary>C[0..8, 0..3] ← α·A·Bᵀ + β·C for 8 rows of A and 3 rows of B of length k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(int k, float* a, int lda, float* b, int ldb, float* c, int ldc, float alpha, float beta)
    {
        Vector512<float> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s30 = default, s31 = default, s32 = default;
        Vector512<float> s40 = default, s41 = default, s42 = default, s50 = default, s51 = default, s52 = default;
        Vector512<float> s60 = default, s61 = default, s62 = default, s70 = default, s71 = default, s72 = default;
        float* b1 = b + ldb, b2 = b + 2L * ldb;
        long l = lda;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var y0 = Vector512.Load(b + p);
            var y1 = Vector512.Load(b1 + p);
            var y2 = Vector512.Load(b2 + p);
            float* ap = a + p;
            var x = Vector512.Load(ap);
            s00 = Vector512.FusedMultiplyAdd(x, y0, s00); s01 = Vector512.FusedMultiplyAdd(x, y1, s01); s02 = Vector512.FusedMultiplyAdd(x, y2, s02);
            x = Vector512.Load(ap + l);
            s10 = Vector512.FusedMultiplyAdd(x, y0, s10); s11 = Vector512.FusedMultiplyAdd(x, y1, s11); s12 = Vector512.FusedMultiplyAdd(x, y2, s12);
            x = Vector512.Load(ap + 2 * l);
            s20 = Vector512.FusedMultiplyAdd(x, y0, s20); s21 = Vector512.FusedMultiplyAdd(x, y1, s21); s22 = Vector512.FusedMultiplyAdd(x, y2, s22);
            x = Vector512.Load(ap + 3 * l);
            s30 = Vector512.FusedMultiplyAdd(x, y0, s30); s31 = Vector512.FusedMultiplyAdd(x, y1, s31); s32 = Vector512.FusedMultiplyAdd(x, y2, s32);
            x = Vector512.Load(ap + 4 * l);
            s40 = Vector512.FusedMultiplyAdd(x, y0, s40); s41 = Vector512.FusedMultiplyAdd(x, y1, s41); s42 = Vector512.FusedMultiplyAdd(x, y2, s42);
            x = Vector512.Load(ap + 5 * l);
            s50 = Vector512.FusedMultiplyAdd(x, y0, s50); s51 = Vector512.FusedMultiplyAdd(x, y1, s51); s52 = Vector512.FusedMultiplyAdd(x, y2, s52);
            x = Vector512.Load(ap + 6 * l);
            s60 = Vector512.FusedMultiplyAdd(x, y0, s60); s61 = Vector512.FusedMultiplyAdd(x, y1, s61); s62 = Vector512.FusedMultiplyAdd(x, y2, s62);
            x = Vector512.Load(ap + 7 * l);
            s70 = Vector512.FusedMultiplyAdd(x, y0, s70); s71 = Vector512.FusedMultiplyAdd(x, y1, s71); s72 = Vector512.FusedMultiplyAdd(x, y2, s72);
        }
        if (p < k)
        {
            // Last partial vector: lanes past k read as zero.
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(k - p)).AsSingle();
            var z = Vector512<float>.Zero;
            var y0 = Avx512F.MaskLoad(b + p, mask, z);
            var y1 = Avx512F.MaskLoad(b1 + p, mask, z);
            var y2 = Avx512F.MaskLoad(b2 + p, mask, z);
            float* ap = a + p;
            var x = Avx512F.MaskLoad(ap, mask, z);
            s00 = Vector512.FusedMultiplyAdd(x, y0, s00); s01 = Vector512.FusedMultiplyAdd(x, y1, s01); s02 = Vector512.FusedMultiplyAdd(x, y2, s02);
            x = Avx512F.MaskLoad(ap + l, mask, z);
            s10 = Vector512.FusedMultiplyAdd(x, y0, s10); s11 = Vector512.FusedMultiplyAdd(x, y1, s11); s12 = Vector512.FusedMultiplyAdd(x, y2, s12);
            x = Avx512F.MaskLoad(ap + 2 * l, mask, z);
            s20 = Vector512.FusedMultiplyAdd(x, y0, s20); s21 = Vector512.FusedMultiplyAdd(x, y1, s21); s22 = Vector512.FusedMultiplyAdd(x, y2, s22);
            x = Avx512F.MaskLoad(ap + 3 * l, mask, z);
            s30 = Vector512.FusedMultiplyAdd(x, y0, s30); s31 = Vector512.FusedMultiplyAdd(x, y1, s31); s32 = Vector512.FusedMultiplyAdd(x, y2, s32);
            x = Avx512F.MaskLoad(ap + 4 * l, mask, z);
            s40 = Vector512.FusedMultiplyAdd(x, y0, s40); s41 = Vector512.FusedMultiplyAdd(x, y1, s41); s42 = Vector512.FusedMultiplyAdd(x, y2, s42);
            x = Avx512F.MaskLoad(ap + 5 * l, mask, z);
            s50 = Vector512.FusedMultiplyAdd(x, y0, s50); s51 = Vector512.FusedMultiplyAdd(x, y1, s51); s52 = Vector512.FusedMultiplyAdd(x, y2, s52);
            x = Avx512F.MaskLoad(ap + 6 * l, mask, z);
            s60 = Vector512.FusedMultiplyAdd(x, y0, s60); s61 = Vector512.FusedMultiplyAdd(x, y1, s61); s62 = Vector512.FusedMultiplyAdd(x, y2, s62);
            x = Avx512F.MaskLoad(ap + 7 * l, mask, z);
            s70 = Vector512.FusedMultiplyAdd(x, y0, s70); s71 = Vector512.FusedMultiplyAdd(x, y1, s71); s72 = Vector512.FusedMultiplyAdd(x, y2, s72);
        }
        Store(c, s00, s01, s02, alpha, beta);
        Store(c + ldc, s10, s11, s12, alpha, beta);
        Store(c + 2L * ldc, s20, s21, s22, alpha, beta);
        Store(c + 3L * ldc, s30, s31, s32, alpha, beta);
        Store(c + 4L * ldc, s40, s41, s42, alpha, beta);
        Store(c + 5L * ldc, s50, s51, s52, alpha, beta);
        Store(c + 6L * ldc, s60, s61, s62, alpha, beta);
        Store(c + 7L * ldc, s70, s71, s72, alpha, beta);
    }

    /// <summary>Three horizontal sums into C[0..3] (β = 0: C is not read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, float alpha, float beta)
    {
        float r0 = alpha * Vector512.Sum(v0), r1 = alpha * Vector512.Sum(v1), r2 = alpha * Vector512.Sum(v2);
        if (beta == 0) { c[0] = r0; c[1] = r1; c[2] = r2; }
        else { c[0] = r0 + beta * c[0]; c[1] = r1 + beta * c[1]; c[2] = r2 + beta * c[2]; }
    }
}
