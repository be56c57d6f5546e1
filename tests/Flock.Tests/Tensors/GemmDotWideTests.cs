using Flock.Tensors;

namespace Flock.Tests.Tensors;

/// <summary>The AVX-512 dot-product path with 8×3 tiles (C = α·A·Bᵀ + β·C).</summary>
public class GemmDotWideTests
{
    [Theory]
    [InlineData(32, 128, 784)]   // the MLP's first layer: 8-row blocks, 42 triples + 2 columns, no k tail
    [InlineData(16, 10, 2100)]   // k split by KDot = 2048, with a masked tail in both blocks
    [InlineData(19, 7, 100)]     // 2 full row blocks + 3 rows, 2 triples + 1 column, k tail 4
    [InlineData(8, 3, 17)]       // one tile, k tail 1
    [InlineData(5, 40, 300)]     // fewer than 8 rows: all 4×4 tiles
    public unsafe void Matches_reference(int m, int n, int k)
    {
        if (!Gemm.IsSupported(GemmPath.Vector512)) return;
        var rng = new Rng((ulong)(m * 1_000_000 + n * 1000 + k));
        int lda = k + 3, ldb = k + 1, ldc = n + 2;
        var a = new float[m * lda];
        var b = new float[n * ldb];
        var c0 = new float[m * ldc];
        rng.FillUniform(a, -1f, 1f);
        rng.FillUniform(b, -1f, 1f);
        rng.FillUniform(c0, -1f, 1f);
        foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, -2f) })
        {
            var expected = (float[])c0.Clone();
            Gemm.Reference(false, true, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
            var got = (float[])c0.Clone();
            fixed (float* pa = a, pb = b, pc = got)
                GemmDotWide512.Run(m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            var viaGemm = (float[])c0.Clone();
            Gemm.MultiplyOn(GemmPath.Vector512, false, true, m, n, k, alpha, a, lda, b, ldb, beta, viaGemm, ldc);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double scale = 0;
                    for (int p = 0; p < k; p++) scale += Math.Abs((double)a[i * lda + p] * b[j * ldb + p]);
                    double tol = 2e-7 * (k + 8) * (Math.Abs(alpha) * scale + Math.Abs(beta * c0[i * ldc + j])) + 1e-30;
                    Assert.True(Math.Abs(got[i * ldc + j] - expected[i * ldc + j]) <= tol, $"{m}×{n}×{k} α={alpha} β={beta}: C[{i},{j}] = {got[i * ldc + j]}, expected {expected[i * ldc + j]}");
                    Assert.True(Math.Abs(viaGemm[i * ldc + j] - expected[i * ldc + j]) <= tol, $"Gemm {m}×{n}×{k}: C[{i},{j}]");
                }
                for (int j = n; j < ldc; j++) Assert.Equal(c0[i * ldc + j], got[i * ldc + j]);   // padding untouched
            }
        }
    }

    [Fact]
    public unsafe void Beta_zero_ignores_nan_in_c()
    {
        if (!Gemm.IsSupported(GemmPath.Vector512)) return;
        const int m = 8, n = 3, k = 20;
        var a = new float[m * k];
        var b = new float[n * k];
        new Rng(1).FillUniform(a, -1f, 1f);
        new Rng(2).FillUniform(b, -1f, 1f);
        var c = new float[m * n];
        c.AsSpan().Fill(float.NaN);
        fixed (float* pa = a, pb = b, pc = c) GemmDotWide512.Run(m, n, k, 1f, pa, k, pb, k, 0f, pc, n);
        Assert.All(c, v => Assert.True(float.IsFinite(v)));
    }
}
