using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Tensors;

/// <summary>
/// Single-precision general matrix multiply on row-major matrices, BLAS <c>sgemm</c> semantics:
/// <c>C ← α·op(A)·op(B) + β·C</c> where op(A) is m×k, op(B) is k×n and C is m×n.
/// </summary>
/// <remarks>
/// The fast paths follow the GotoBLAS / BLIS design ("Anatomy of High-Performance Matrix
/// Multiplication", Goto and van de Geijn, 2008; "BLIS: A Framework for Rapidly Instantiating BLAS
/// Functionality", Van Zee and van de Geijn, 2015): op(A) is packed into MR-row strips, op(B) into
/// cache-sized blocks of NR-column strips, and a register-blocked micro-kernel (12×32 with AVX-512,
/// 6×16 with AVX2, 4×4 scalar) computes one tile of C at a time. Three shortcuts matter for the
/// small products of training: when op(A) has few row strips and B is not transposed, the kernel
/// reads B in place instead of packing it; <c>A·Bᵀ</c> with a long inner dimension and a small C is
/// computed from dot products of rows, with no packing at all; and with AVX-512, a C of at most 8
/// columns and many rows is computed with vectors along its rows (the "skinny" path). Packing buffers are per thread and
/// grow on demand, so steady-state calls allocate nothing. It never starts threads: the simulator
/// already runs one node per core. Results are deterministic for a given path and shape.
/// </remarks>
public static partial class Gemm
{
    /// <summary>The path <see cref="Multiply"/> uses on this machine (the widest one the CPU accelerates).</summary>
    public static GemmPath ActivePath { get; } =
        IsSupported(GemmPath.Vector512) ? GemmPath.Vector512
        : IsSupported(GemmPath.Vector256) ? GemmPath.Vector256
        : GemmPath.Scalar;

    /// <summary>Whether a path can run on this machine.</summary>
    /// <param name="path">The path.</param>
    public static bool IsSupported(GemmPath path) => path switch
    {
        GemmPath.Scalar => true,
        GemmPath.Vector256 => Avx2.IsSupported && Fma.IsSupported,
        GemmPath.Vector512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        _ => false,
    };

    /// <summary>Computes <c>C ← α·op(A)·op(B) + β·C</c> (row-major; <c>lda</c>, <c>ldb</c>, <c>ldc</c> are row strides).</summary>
    /// <param name="transA">Use Aᵀ: A is stored k×m.</param>
    /// <param name="transB">Use Bᵀ: B is stored n×k.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="alpha">Scale of the product; when 0, A and B are not read.</param>
    /// <param name="a">Matrix A.</param>
    /// <param name="lda">Row stride of A as stored.</param>
    /// <param name="b">Matrix B.</param>
    /// <param name="ldb">Row stride of B as stored.</param>
    /// <param name="beta">Scale of the old C; when 0, C is overwritten (NaNs in it are ignored).</param>
    /// <param name="c">Matrix C; it must not overlap A or B.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or a stride is smaller than the stored row width.</exception>
    /// <exception cref="ArgumentException">A span is too short for its matrix.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        MultiplyOn(ActivePath, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// <see cref="Multiply(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/>
    /// on a chosen path (tests and benchmarks use it to exercise every path on one machine).
    /// </summary>
    /// <exception cref="NotSupportedException">The path cannot run on this machine.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void MultiplyOn(GemmPath path, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        if (!IsSupported(path))
            throw new NotSupportedException($"GEMM path {path} is not supported on this CPU (active path: {ActivePath}).");
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            bool dot = !transA && transB && GemmDriver.PreferDot(m, n, k);
            bool skinny = !dot && GemmSkinny512.Prefer(m, n);
            switch (path)
            {
                case GemmPath.Vector512 when skinny:
                    GemmSkinny512.Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                    break;
                case GemmPath.Vector512 when dot:
                    GemmDotWide512.Run(m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                    break;
                case GemmPath.Vector256 when dot:
                    GemmDriver.RunDot<GemmDot256>(m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                    break;
                case GemmPath.Vector512:
                    GemmDriver.Run<GemmKernel512>(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                    break;
                case GemmPath.Vector256:
                    GemmDriver.Run<GemmKernel256>(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                    break;
                default:
                    GemmDriver.Run<GemmKernelScalar>(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                    break;
            }
        }
    }

    /// <summary>The naive triple loop (double accumulation): the reference every fast path is tested against.</summary>
    /// <param name="transA">Use Aᵀ: A is stored k×m.</param>
    /// <param name="transB">Use Bᵀ: B is stored n×k.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Matrix A.</param>
    /// <param name="lda">Row stride of A as stored.</param>
    /// <param name="b">Matrix B.</param>
    /// <param name="ldb">Row stride of B as stored.</param>
    /// <param name="beta">Scale of the old C; when 0, C is overwritten (NaNs in it are ignored).</param>
    /// <param name="c">Matrix C.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or a stride is smaller than the stored row width.</exception>
    /// <exception cref="ArgumentException">A span is too short for its matrix.</exception>
    public static void Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int p = 0; p < k; p++)
            {
                float av = transA ? a[p * lda + i] : a[i * lda + p];
                float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                s += (double)av * bv;
            }
            float old = beta == 0 ? 0 : beta * c[i * ldc + j];
            c[i * ldc + j] = (float)(alpha * s) + old;
        }
    }

    private static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0) row.Clear();
            else if (beta != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Validate(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> c, int ldc)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "Invalid GEMM dimension m: must be ≥ 0.");
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Invalid GEMM dimension n: must be ≥ 0.");
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "Invalid GEMM dimension k: must be ≥ 0.");
        CheckMatrix(nameof(a), nameof(lda), a.Length, lda, transA ? k : m, transA ? m : k);
        CheckMatrix(nameof(b), nameof(ldb), b.Length, ldb, transB ? n : k, transB ? k : n);
        CheckMatrix(nameof(c), nameof(ldc), c.Length, ldc, m, n);
    }

    /// <summary>Checks a stored rows×cols matrix with row stride ld (nothing is checked for an empty matrix).</summary>
    private static void CheckMatrix(string name, string ldName, int length, int ld, int rows, int cols)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols)
            throw new ArgumentOutOfRangeException(ldName, ld, $"Invalid row stride {ldName}: {ld}; matrix {name} is stored {rows}×{cols}, so it must be ≥ {cols}.");
        long need = (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"Matrix {name} ({rows}×{cols}, row stride {ld}) needs {need} elements but the span has {length}.", name);
    }
}

/// <summary>Per-thread, 64-byte aligned, pinned scratch for packed panels; grows and never shrinks.</summary>
internal static unsafe class GemmBuffers
{
    [ThreadStatic] private static float[]? t_buffer;

    /// <summary>
    /// Scratch for a packed A strip of <paramref name="aFloats"/> and a packed B block of
    /// <paramref name="bFloats"/>, both 64-byte aligned, in one allocation (B right after A). The
    /// buffer grows by at least half each time, so a thread allocates it only a few times.
    /// </summary>
    public static void Get(int aFloats, int bFloats, out float* a, out float* b)
    {
        int aPadded = (aFloats + 15) & ~15;
        int need = aPadded + bFloats + 32;
        var buffer = t_buffer;
        if (buffer is null || buffer.Length < need)
            t_buffer = buffer = GC.AllocateUninitializedArray<float>(Math.Max(need, buffer is null ? 0 : buffer.Length * 3 / 2), pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        a = (float*)(((nint)p + 63) & ~(nint)63);
        b = a + aPadded;
    }
}
