using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Tensors;

/// <summary>
/// Packing of GEMM operands into the micro-kernel layouts. Transposing copies go through 8×8
/// (AVX) and 4×4 (SSE) in-register transposes, so packing a transposed operand costs about as much
/// as copying it.
/// </summary>
internal static unsafe class GemmPack
{
    /// <summary>
    /// Packs op(A)[ir..ir+rows, pc..pc+kc] as kc groups of <paramref name="mr"/> values (row index
    /// fastest); rows past <paramref name="rows"/> are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void A(bool transA, float* a, int lda, int ir, int rows, int pc, int kc, int mr, float* dst)
    {
        if (transA)
        {
            // A stored k×m: op(A)[i, p] = A[p, i], so each step copies a contiguous run of rows.
            float* src = a + (long)pc * lda + ir;
            if (Avx512F.IsSupported && mr <= 16)
            {
                // One masked load (zero past the valid rows) and one masked store per step.
                var idx = Vector512<int>.Indices;
                var load = Vector512.LessThan(idx, Vector512.Create(rows)).AsSingle();
                var store = Vector512.LessThan(idx, Vector512.Create(mr)).AsSingle();
                for (int p = 0; p < kc; p++, src += lda, dst += mr)
                    Avx512F.MaskStore(dst, store, Avx512F.MaskLoad(src, load, Vector512<float>.Zero));
            }
            else if (rows == mr) CopyRows(src, lda, dst, mr, kc);
            else
            {
                for (int p = 0; p < kc; p++, src += lda)
                {
                    float* d = dst + p * mr;
                    int r = 0;
                    for (; r < rows; r++) d[r] = src[r];
                    for (; r < mr; r++) d[r] = 0;
                }
            }
            return;
        }

        // A stored m×k: dst[p·mr + r] = A[ir + r, pc + p], a transpose of a rows×kc block.
        Transpose(a + (long)ir * lda + pc, lda, rows, kc, dst, mr);
        for (int r = rows; r < mr; r++)
            for (int p = 0; p < kc; p++) dst[p * mr + r] = 0;
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] as consecutive strips: NR wide, except a last strip of at
    /// most NRHalf columns which is packed NRHalf wide; each strip is kc rows, columns past the
    /// matrix are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void B<TK>(bool transB, float* b, int ldb, int pc, int kc, int jc, int nc, float* dst) where TK : IGemmKernel
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
                // B stored n×k: dst[p·w + j] = B[jc + jr + j, pc + p].
                Transpose(b + (long)(jc + jr) * ldb + pc, ldb, cols, kc, dst, w);
                for (int p = 0; p < kc; p++)
                    for (int j = cols; j < w; j++) dst[p * w + j] = 0;
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
        else if (Vector128.IsHardwareAccelerated && w % 4 == 0)
        {
            for (int p = 0; p < kc; p++, src += ld, dst += w)
                for (int j = 0; j < w; j += 4) Vector128.Store(Vector128.Load(src + j), dst + j);
        }
        else
        {
            for (int p = 0; p < kc; p++, src += ld, dst += w)
                for (int j = 0; j < w; j++) dst[j] = src[j];
        }
    }

    /// <summary>
    /// Transposes a rows×cols block (source row stride <paramref name="ls"/>) into
    /// <c>dst[c·ld + r]</c> (destination row stride <paramref name="ld"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose(float* src, int ls, int rows, int cols, float* dst, int ld)
    {
        int r = 0;
        if (Avx.IsSupported)
        {
            for (; r + 8 <= rows; r += 8)
            {
                int c = 0;
                for (; c + 8 <= cols; c += 8) Transpose8x8(src + (long)r * ls + c, ls, dst + (long)c * ld + r, ld);
                if (c < cols) TransposeScalar(src + (long)r * ls + c, ls, 8, cols - c, dst + (long)c * ld + r, ld);
            }
        }
        if (Sse.IsSupported)
        {
            for (; r + 4 <= rows; r += 4)
            {
                int c = 0;
                for (; c + 4 <= cols; c += 4) Transpose4x4(src + (long)r * ls + c, ls, dst + (long)c * ld + r, ld);
                if (c < cols) TransposeScalar(src + (long)r * ls + c, ls, 4, cols - c, dst + (long)c * ld + r, ld);
            }
        }
        if (r < rows) TransposeScalar(src + (long)r * ls, ls, rows - r, cols, dst + r, ld);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeScalar(float* src, int ls, int rows, int cols, float* dst, int ld)
    {
        // Column chunks of 16 keep the destination lines being written in L1.
        for (int c0 = 0; c0 < cols; c0 += 16)
        {
            int cn = Math.Min(16, cols - c0);
            for (int r = 0; r < rows; r++)
            {
                float* s = src + (long)r * ls + c0;
                float* d = dst + (long)c0 * ld + r;
                for (int c = 0; c < cn; c++) d[(long)c * ld] = s[c];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* s, int ls, float* d, int ld)
    {
        Vector256<float> r0 = Avx.LoadVector256(s), r1 = Avx.LoadVector256(s + ls);
        Vector256<float> r2 = Avx.LoadVector256(s + 2 * ls), r3 = Avx.LoadVector256(s + 3 * ls);
        Vector256<float> r4 = Avx.LoadVector256(s + 4 * ls), r5 = Avx.LoadVector256(s + 5 * ls);
        Vector256<float> r6 = Avx.LoadVector256(s + 6 * ls), r7 = Avx.LoadVector256(s + 7 * ls);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + ld, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * ld, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * ld, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * ld, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * ld, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * ld, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * ld, Avx.Permute2x128(u3, u7, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(float* s, int ls, float* d, int ld)
    {
        Vector128<float> r0 = Sse.LoadVector128(s), r1 = Sse.LoadVector128(s + ls);
        Vector128<float> r2 = Sse.LoadVector128(s + 2 * ls), r3 = Sse.LoadVector128(s + 3 * ls);
        Vector128<float> t0 = Sse.UnpackLow(r0, r1), t1 = Sse.UnpackHigh(r0, r1);
        Vector128<float> t2 = Sse.UnpackLow(r2, r3), t3 = Sse.UnpackHigh(r2, r3);
        Sse.Store(d, Sse.MoveLowToHigh(t0, t2));
        Sse.Store(d + ld, Sse.MoveHighToLow(t2, t0));
        Sse.Store(d + 2 * ld, Sse.MoveLowToHigh(t1, t3));
        Sse.Store(d + 3 * ld, Sse.MoveHighToLow(t3, t1));
    }
}
