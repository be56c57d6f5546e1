using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Flock.Tensors;

/// <summary>
/// A register-blocked GEMM micro-kernel: computes one MR×NR tile of C from an A strip (kc steps of
/// MR consecutive values, <c>aStep</c> floats apart) and a B strip (kc steps of NR consecutive
/// values, <c>bStep</c> floats apart), then stores <c>C ← α·tile + β·C</c> for the first
/// <c>rows</c> rows (β = 0: C is not read). A packed strip has aStep = MR and bStep = NR; an
/// unpacked one has the matrix's row stride. Kernels that cannot store a partial width cheaply
/// (<c>StoresPartialTiles</c> false) always store the full width, and the driver sends narrower
/// tiles to a scratch tile and copies the valid columns itself.
/// </summary>
internal interface IGemmKernel
{
    /// <summary>Rows of the register tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the register tile (the vector direction).</summary>
    static abstract int NR { get; }

    /// <summary>Columns of the narrow tile used for a last strip of at most this many columns (NR if none).</summary>
    static abstract int NRHalf { get; }

    /// <summary>Rows of the short variants used for strips of at most this many rows (MR if none).</summary>
    static abstract int MRShort { get; }

    /// <summary>Whether the kernel stores only the first <c>cols</c> columns itself (else the driver uses a scratch tile).</summary>
    static abstract bool StoresPartialTiles { get; }

    /// <summary>Full-width tile; reads NR values of B per step.</summary>
    static abstract unsafe void Full(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta);

    /// <summary>Narrow tile; reads NRHalf values of B per step.</summary>
    static abstract unsafe void Half(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta);

    /// <summary>Full-width tile reading only the first <c>cols</c> values of B per step (unpacked edge strip; B lanes past it count as 0).</summary>
    static abstract unsafe void FullMasked(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta);

    /// <summary>Narrow tile reading only the first <c>cols</c> values of B per step (unpacked edge strip; B lanes past it count as 0).</summary>
    static abstract unsafe void HalfMasked(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta);

    /// <summary><see cref="Full"/> computing only MRShort rows (A is still read MR-strided by aStep).</summary>
    static abstract unsafe void FullShort(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta);

    /// <summary><see cref="Half"/> computing only MRShort rows.</summary>
    static abstract unsafe void HalfShort(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta);

    /// <summary><see cref="FullMasked"/> computing only MRShort rows.</summary>
    static abstract unsafe void FullMaskedShort(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta);

    /// <summary><see cref="HalfMasked"/> computing only MRShort rows.</summary>
    static abstract unsafe void HalfMaskedShort(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta);
}

/// <summary>A kernel for C = A·Bᵀ from dot products of rows of A and rows of B (both read in place).</summary>
internal interface IGemmDot
{
    /// <summary>C[0..rows, 0..cols] ← α·A·Bᵀ + β·C for up to 4 rows of A and 4 rows of B of length k.</summary>
    static abstract unsafe void Tile(int k, float* a, int lda, float* b, int ldb, float* c, int ldc, int rows, int cols, float alpha, float beta);
}

/// <summary>
/// The cache-blocked GEMM loop nest (Goto and van de Geijn, 2008): for each block of columns and
/// each block of the inner dimension, op(B) is packed into NR-wide strips that stay in L2; for each
/// MR-row strip of op(A), the packed strip (a few KB, kept in L1) is multiplied against every B
/// strip by the micro-kernel. When few A strips would reuse a packed B block and B is not
/// transposed, the kernel reads B in place instead (packing would cost as much as it saves).
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>Largest inner block: kc·MR floats of A stay in L1, kc·NR floats of B per strip stream from L2.</summary>
    internal const int KcMax = 384;

    /// <summary>Budget for the packed B block, in floats (512 KB: half of a 1 MB L2).</summary>
    internal const int BBlockFloats = 128 * 1024;

    /// <summary>Read B in place (no packing) when op(A) has at most this many MR-row strips.</summary>
    internal const int DirectBMaxStrips = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TK>(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc) where TK : IGemmKernel
    {
        int mr = TK.MR, nr = TK.NR, nh = TK.NRHalf;
        // Even splits, so no block is a tiny remainder.
        int kBlocks = (k + KcMax - 1) / KcMax;
        int kcNom = (k + kBlocks - 1) / kBlocks;
        int ncMax = Math.Max(nr, BBlockFloats / kcNom / nr * nr);
        int nBlocks = (n + ncMax - 1) / ncMax;
        int ncNom = RoundUp((n + nBlocks - 1) / nBlocks, nr);
        bool directB = !transB && (m + mr - 1) / mr <= DirectBMaxStrips;

        GemmBuffers.Get(mr * kcNom, directB ? 0 : ncNom * kcNom, out float* pa, out float* pb);

        float* scratch = stackalloc float[TK.MR * TK.NR];

        for (int jc = 0; jc < n; jc += ncNom)
        {
            int nc = Math.Min(ncNom, n - jc);
            for (int pc = 0; pc < k; pc += kcNom)
            {
                int kc = Math.Min(kcNom, k - pc);
                float betaEff = pc == 0 ? beta : 1f;
                if (!directB) GemmPack.B<TK>(transB, b, ldb, pc, kc, jc, nc, pb);
                for (int ir = 0; ir < m; ir += mr)
                {
                    int rows = Math.Min(mr, m - ir);
                    GemmPack.A(transA, a, lda, ir, rows, pc, kc, mr, pa);
                    float* cTile = c + (long)ir * ldc + jc;
                    float* bStrip = directB ? b + (long)pc * ldb + jc : pb;
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int rem = nc - jr;
                        bool half = nh < nr && rem <= nh;
                        int width = half ? nh : nr, cols = Math.Min(width, rem);
                        int bStep = directB ? ldb : width;
                        // Unpacked B has no zero padding: an edge strip must not read past its columns.
                        bool masked = directB && cols < width;
                        bool direct = cols == width || TK.StoresPartialTiles;
                        float* target = direct ? cTile + jr : scratch;
                        int ldt = direct ? ldc : width;
                        float alphaT = direct ? alpha : 1f, betaT = direct ? betaEff : 0f;
                        if (rows <= TK.MRShort && TK.MRShort < mr)
                        {
                            if (half)
                            {
                                if (masked) TK.HalfMaskedShort(kc, pa, mr, bStrip, bStep, target, ldt, rows, cols, alphaT, betaT);
                                else TK.HalfShort(kc, pa, mr, bStrip, bStep, target, ldt, rows, cols, alphaT, betaT);
                            }
                            else
                            {
                                if (masked) TK.FullMaskedShort(kc, pa, mr, bStrip, bStep, target, ldt, rows, cols, alphaT, betaT);
                                else TK.FullShort(kc, pa, mr, bStrip, bStep, target, ldt, rows, cols, alphaT, betaT);
                            }
                        }
                        else if (half)
                        {
                            if (masked) TK.HalfMasked(kc, pa, mr, bStrip, bStep, target, ldt, rows, cols, alphaT, betaT);
                            else TK.Half(kc, pa, mr, bStrip, bStep, target, ldt, rows, cols, alphaT, betaT);
                        }
                        else
                        {
                            if (masked) TK.FullMasked(kc, pa, mr, bStrip, bStep, target, ldt, rows, cols, alphaT, betaT);
                            else TK.Full(kc, pa, mr, bStrip, bStep, target, ldt, rows, cols, alphaT, betaT);
                        }
                        if (!direct) WriteBack(scratch, width, cTile + jr, ldc, rows, cols, alpha, betaEff);
                        bStrip += directB ? nr : nr * kc;
                    }
                }
            }
        }
    }

    /// <summary>C[r, j] ← α·tile[r, j] + β·C[r, j] for the valid corner of a scratch tile (β = 0: C is not read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteBack(float* tile, int ldt, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        var a8 = Vector256.Create(alpha);
        var b8 = Vector256.Create(beta);
        for (int r = 0; r < rows; r++, tile += ldt, c += ldc)
        {
            int j = 0;
            if (beta == 0)
            {
                for (; j + 8 <= cols; j += 8) Vector256.Store(Vector256.Load(tile + j) * a8, c + j);
                if (j + 4 <= cols) { Vector128.Store(Vector128.Load(tile + j) * a8.GetLower(), c + j); j += 4; }
                for (; j < cols; j++) c[j] = alpha * tile[j];
            }
            else
            {
                for (; j + 8 <= cols; j += 8) Vector256.Store(Vector256.Load(tile + j) * a8 + Vector256.Load(c + j) * b8, c + j);
                for (; j < cols; j++) c[j] = alpha * tile[j] + beta * c[j];
            }
        }
    }

    /// <summary>Inner block of the dot-product path: 4 rows of A (4·KDot floats) stay in L1.</summary>
    internal const int KDot = 2048;

    /// <summary>
    /// Whether C = A·Bᵀ (A not transposed, B transposed) should use dot products of rows instead of
    /// packing: both operands are read in place, which wins when k is long and C small, so that
    /// transposing B into packed strips would not be amortised.
    /// </summary>
    internal static bool PreferDot(int m, int n, int k) =>
        // Packing costs ~(m + n)·k, the dot tiles' reductions ~m·n: measured crossover near m·n/(m + n) = k/8.
        k >= 64 && (long)m * n * 8 <= (long)(m + n) * k;

    /// <summary>C ← α·A·Bᵀ + β·C by 4×4 tiles of dot products (A is m×k, B is n×k, both row-major).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunDot<TD>(int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        where TD : IGemmDot
    {
        for (int pc = 0; pc < k; pc += KDot)
        {
            int kc = Math.Min(KDot, k - pc);
            float betaEff = pc == 0 ? beta : 1f;
            for (int i = 0; i < m; i += 4)
            {
                int rows = Math.Min(4, m - i);
                float* ai = a + (long)i * lda + pc;
                float* ci = c + (long)i * ldc;
                for (int j = 0; j < n; j += 4)
                    TD.Tile(kc, ai, lda, b + (long)j * ldb + pc, ldb, ci + j, ldc, rows, Math.Min(4, n - j), alpha, betaEff);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
