using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Flock.Tensors;

/// <summary>
/// A register-blocked GEMM micro-kernel: computes one MR×NR tile of C from a packed A strip
/// (kc steps of MR values) and a packed B strip (kc steps of NR values), then stores
/// <c>C ← α·tile + β·C</c> for the valid <c>rows</c>×<c>cols</c> corner (β = 0: C is not read).
/// </summary>
internal interface IGemmKernel
{
    /// <summary>Rows of the register tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the register tile (the vector direction).</summary>
    static abstract int NR { get; }

    /// <summary>Columns of the narrow tile used for a last strip of at most this many columns (NR if none).</summary>
    static abstract int NRHalf { get; }

    /// <summary>Full-width tile (B strip packed NR wide).</summary>
    static abstract unsafe void Full(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta);

    /// <summary>Narrow tile (B strip packed NRHalf wide).</summary>
    static abstract unsafe void Half(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta);
}

/// <summary>
/// The cache-blocked GEMM loop nest (Goto and van de Geijn, 2008): for each block of columns and
/// each block of the inner dimension, op(B) is packed into NR-wide strips that stay in L2; for each
/// MR-row strip of op(A), the packed strip (a few KB, kept in L1) is multiplied against every B
/// strip by the micro-kernel.
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>Largest inner block: kc·MR floats of A stay in L1, kc·NR floats of B per strip stream from L2.</summary>
    internal const int KcMax = 384;

    /// <summary>Budget for the packed B block, in floats (512 KB: half of a 1 MB L2).</summary>
    internal const int BBlockFloats = 128 * 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TK>(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc) where TK : IGemmKernel
    {
        int mr = TK.MR, nr = TK.NR;
        // Even splits, so no block is a tiny remainder.
        int kBlocks = (k + KcMax - 1) / KcMax;
        int kcNom = (k + kBlocks - 1) / kBlocks;
        int ncMax = Math.Max(nr, BBlockFloats / kcNom / nr * nr);
        int nBlocks = (n + ncMax - 1) / ncMax;
        int ncNom = RoundUp((n + nBlocks - 1) / nBlocks, nr);

        float* pa = GemmBuffers.A(mr * kcNom);
        float* pb = GemmBuffers.B(ncNom * kcNom);

        for (int jc = 0; jc < n; jc += ncNom)
        {
            int nc = Math.Min(ncNom, n - jc);
            for (int pc = 0; pc < k; pc += kcNom)
            {
                int kc = Math.Min(kcNom, k - pc);
                float betaEff = pc == 0 ? beta : 1f;
                PackB<TK>(transB, b, ldb, pc, kc, jc, nc, pb);
                for (int ir = 0; ir < m; ir += mr)
                {
                    int rows = Math.Min(mr, m - ir);
                    PackA(transA, a, lda, ir, rows, pc, kc, mr, pa);
                    float* cTile = c + (long)ir * ldc + jc;
                    float* bStrip = pb;
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int rem = nc - jr;
                        if (TK.NRHalf < nr && rem <= TK.NRHalf)
                        {
                            TK.Half(kc, pa, bStrip, cTile + jr, ldc, rows, rem, alpha, betaEff);
                            break;
                        }
                        TK.Full(kc, pa, bStrip, cTile + jr, ldc, rows, Math.Min(nr, rem), alpha, betaEff);
                        bStrip += nr * kc;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    /// <summary>
    /// Packs op(A)[ir..ir+rows, pc..pc+kc] as kc groups of MR values (row index fastest); rows past
    /// <paramref name="rows"/> are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool transA, float* a, int lda, int ir, int rows, int pc, int kc, int mr, float* dst)
    {
        if (transA)
        {
            // A stored k×m: op(A)[i, p] = A[p, i], so each step copies a contiguous run of rows.
            float* src = a + (long)pc * lda + ir;
            for (int p = 0; p < kc; p++, src += lda, dst += mr)
            {
                int r = 0;
                for (; r < rows; r++) dst[r] = src[r];
                for (; r < mr; r++) dst[r] = 0;
            }
            return;
        }

        // A stored m×k: transpose the rows×kc block into the strip.
        for (int r = 0; r < rows; r++)
        {
            float* src = a + (long)(ir + r) * lda + pc;
            float* d = dst + r;
            for (int p = 0; p < kc; p++) d[p * mr] = src[p];
        }
        for (int r = rows; r < mr; r++)
            for (int p = 0; p < kc; p++) dst[p * mr + r] = 0;
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] as consecutive strips: NR wide, except a last strip of at
    /// most NRHalf columns which is packed NRHalf wide; each strip is kc rows, columns past the
    /// matrix are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB<TK>(bool transB, float* b, int ldb, int pc, int kc, int jc, int nc, float* dst) where TK : IGemmKernel
    {
        int nr = TK.NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int rem = nc - jr;
            int w = TK.NRHalf < nr && rem <= TK.NRHalf ? TK.NRHalf : nr;
            int cols = Math.Min(w, rem);
            if (!transB)
            {
                float* src = b + (long)pc * ldb + jc + jr;
                if (cols == w) CopyRows(src, ldb, dst, w, kc);
                else
                {
                    for (int p = 0; p < kc; p++, src += ldb)
                    {
                        float* d = dst + p * w;
                        int j = 0;
                        for (; j < cols; j++) d[j] = src[j];
                        for (; j < w; j++) d[j] = 0;
                    }
                }
            }
            else
            {
                // B stored n×k: op(B)[p, j] = B[j, p]. Transpose in chunks of 16 steps so the
                // destination lines being written stay in L1.
                float* src = b + (long)(jc + jr) * ldb + pc;
                for (int p0 = 0; p0 < kc; p0 += 16)
                {
                    int pn = Math.Min(16, kc - p0);
                    for (int j = 0; j < cols; j++)
                    {
                        float* s = src + (long)j * ldb + p0;
                        float* d = dst + p0 * w + j;
                        for (int p = 0; p < pn; p++) d[p * w] = s[p];
                    }
                    for (int j = cols; j < w; j++)
                    {
                        float* d = dst + p0 * w + j;
                        for (int p = 0; p < pn; p++) d[p * w] = 0;
                    }
                }
            }
            dst += w * kc;
        }
    }

    /// <summary>Copies kc rows of w contiguous floats (source stride ld) into a dense kc×w block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRows(float* src, int ld, float* dst, int w, int kc)
    {
        if (Vector512.IsHardwareAccelerated && w % 16 == 0)
        {
            for (int p = 0; p < kc; p++, src += ld, dst += w)
                for (int j = 0; j < w; j += 16) Vector512.Store(Vector512.Load(src + j), dst + j);
        }
        else if (Vector256.IsHardwareAccelerated && w % 8 == 0)
        {
            for (int p = 0; p < kc; p++, src += ld, dst += w)
                for (int j = 0; j < w; j += 8) Vector256.Store(Vector256.Load(src + j), dst + j);
        }
        else
        {
            for (int p = 0; p < kc; p++, src += ld, dst += w)
                for (int j = 0; j < w; j++) dst[j] = src[j];
        }
    }
}
