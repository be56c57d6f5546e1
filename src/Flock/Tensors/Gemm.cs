namespace Flock.Tensors;

/// <summary>
/// Single-precision general matrix multiply on row-major matrices, BLAS <c>sgemm</c> semantics:
/// <c>C ← α·op(A)·op(B) + β·C</c> where op(A) is m×k, op(B) is k×n and C is m×n.
/// </summary>
public static partial class Gemm
{
    /// <summary>Computes <c>C ← α·op(A)·op(B) + β·C</c> (row-major; <c>lda</c>, <c>ldb</c>, <c>ldc</c> are row strides).</summary>
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
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>The naive triple loop (double accumulation): the reference every fast path is tested against.</summary>
    public static void Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
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
}
