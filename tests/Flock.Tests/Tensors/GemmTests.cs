using Flock.Tensors;

namespace Flock.Tests.Tensors;

public class GemmTests
{
    /// <summary>Every path this machine can run (the scalar path always).</summary>
    public static TheoryData<GemmPath, bool, bool> PathsAndTransposes()
    {
        var d = new TheoryData<GemmPath, bool, bool>();
        foreach (var path in Enum.GetValues<GemmPath>())
        {
            if (!Gemm.IsSupported(path)) continue;
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    d.Add(path, ta, tb);
        }
        return d;
    }

    public static TheoryData<GemmPath> Paths()
    {
        var d = new TheoryData<GemmPath>();
        foreach (var path in Enum.GetValues<GemmPath>())
            if (Gemm.IsSupported(path)) d.Add(path);
        return d;
    }

    private sealed class Problem
    {
        public required bool TransA, TransB;
        public required int M, N, K, Lda, Ldb, Ldc;
        public required float[] A, B, C0;

        public static Problem Create(bool ta, bool tb, int m, int n, int k, ulong seed, int padA = 0, int padB = 0, int padC = 0)
        {
            var rng = new Rng(seed);
            int lda = (ta ? m : k) + padA, ldb = (tb ? k : n) + padB, ldc = n + padC;
            var a = new float[(ta ? k : m) * lda];
            var b = new float[(tb ? n : k) * ldb];
            var c = new float[m * ldc];
            rng.FillUniform(a, -1f, 1f);
            rng.FillUniform(b, -1f, 1f);
            rng.FillUniform(c, -1f, 1f);
            return new Problem { TransA = ta, TransB = tb, M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc, A = a, B = b, C0 = c };
        }

        public float OpA(int i, int p) => TransA ? A[p * Lda + i] : A[i * Lda + p];
        public float OpB(int p, int j) => TransB ? B[j * Ldb + p] : B[p * Ldb + j];

        public float[] Run(GemmPath? path, float alpha, float beta, float[]? c0 = null)
        {
            var c = (float[])(c0 ?? C0).Clone();
            if (path is null) Gemm.Reference(TransA, TransB, M, N, K, alpha, A, Lda, B, Ldb, beta, c, Ldc);
            else Gemm.MultiplyOn(path.Value, TransA, TransB, M, N, K, alpha, A, Lda, B, Ldb, beta, c, Ldc);
            return c;
        }

        /// <summary>
        /// Asserts <paramref name="got"/> matches the reference: each element within a float
        /// summation bound of the magnitude |α|·Σ|a||b| + |β·c|, and padding past n untouched.
        /// </summary>
        public void AssertClose(float[] got, float[] expected, float alpha, float beta, float[]? c0 = null, string what = "")
        {
            c0 ??= C0;
            double tol = 2e-7 * (K + 8);
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double scale = 0;
                    for (int p = 0; p < K; p++) scale += Math.Abs((double)OpA(i, p) * OpB(p, j));
                    scale = Math.Abs(alpha) * scale + (beta == 0 ? 0 : Math.Abs(beta * c0[i * Ldc + j]));
                    double e = expected[i * Ldc + j], g = got[i * Ldc + j];
                    if (!(Math.Abs(g - e) <= tol * scale + 1e-30))
                        Assert.Fail($"{what} {M}×{N}×{K} ta={TransA} tb={TransB} α={alpha} β={beta}: C[{i},{j}] = {g}, expected {e} (scale {scale})");
                }
                for (int j = N; j < Ldc; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(got[i * Ldc + j]) == BitConverter.SingleToInt32Bits(c0[i * Ldc + j]),
                        $"{what} {M}×{N}×{K}: padding C[{i},{j}] was overwritten");
            }
        }
    }

    private static readonly int[] Small = { 1, 2, 7, 12, 13, 17, 33 };

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void Small_awkward_shapes_match_reference(GemmPath path, bool ta, bool tb)
    {
        ulong seed = 1;
        foreach (int m in Small)
        foreach (int n in Small)
        foreach (int k in Small)
        {
            var pr = Problem.Create(ta, tb, m, n, k, seed++);
            pr.AssertClose(pr.Run(path, 1f, 0f), pr.Run(null, 1f, 0f), 1f, 0f);
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void Larger_shapes_cross_block_boundaries(GemmPath path, bool ta, bool tb)
    {
        // k = 400 and 800 split into several inner blocks (KcMax = 384); n = 700 with k = 400 spans two
        // column blocks; 257 and 33 leave partial register tiles on both edges; k = 2100 splits the
        // dot-product path's inner dimension (KDot = 2048); the last four have at most 8 columns and
        // many rows (the AVX-512 skinny path: strips of 32 rows, a last strip of ≤ 16 or of 17..31 rows).
        var shapes = new (int M, int N, int K)[]
        {
            (257, 33, 65), (33, 257, 7), (65, 100, 400), (13, 700, 400), (7, 45, 800), (130, 70, 257), (100, 90, 64), (5, 6, 2100),
            (100, 6, 25), (90, 8, 40), (64, 1, 7), (200, 5, 400),
        };
        ulong seed = 100;
        foreach (var (m, n, k) in shapes)
        {
            var pr = Problem.Create(ta, tb, m, n, k, seed++);
            pr.AssertClose(pr.Run(path, 1f, 0f), pr.Run(null, 1f, 0f), 1f, 0f);
            pr.AssertClose(pr.Run(path, 0.5f, -2f), pr.Run(null, 0.5f, -2f), 0.5f, -2f);
        }
    }

    [Fact]
    public void Test_shapes_cover_both_strategies_for_transposed_B()
    {
        // Without transposed A, a transposed B goes to dot products for long k and small C, else to packing.
        Assert.True(GemmDriver.PreferDot(13, 700, 400));
        Assert.True(GemmDriver.PreferDot(7, 45, 800));
        Assert.True(GemmDriver.PreferDot(5, 6, 2100));
        Assert.True(GemmDriver.PreferDot(9, 7, 70));
        Assert.False(GemmDriver.PreferDot(130, 70, 257));
        Assert.False(GemmDriver.PreferDot(100, 90, 64));
        Assert.False(GemmDriver.PreferDot(33, 33, 33));
        // Few columns and many rows: the skinny AVX-512 path.
        Assert.True(GemmSkinny512.Prefer(100, 6) && GemmSkinny512.Prefer(90, 8) && GemmSkinny512.Prefer(64, 1) && GemmSkinny512.Prefer(70, 7));
        Assert.False(GemmSkinny512.Prefer(33, 6) || GemmSkinny512.Prefer(100, 9));
        // Unpacked B (no transpose) when op(A) has few row strips; the larger shapes pack it.
        Assert.True((65 + GemmKernel512.MR - 1) / GemmKernel512.MR > GemmDriver.DirectBMaxStrips);
        Assert.True((33 + GemmKernel512.MR - 1) / GemmKernel512.MR <= GemmDriver.DirectBMaxStrips);
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void Alpha_beta_combinations_match_reference(GemmPath path, bool ta, bool tb)
    {
        // 9×7×70 takes the dot-product path when only B is transposed.
        foreach (var pr in new[] { Problem.Create(ta, tb, 29, 37, 41, 7), Problem.Create(ta, tb, 9, 7, 70, 8) })
            foreach (var (alpha, beta) in new[] { (1f, 0f), (1f, 1f), (0.5f, -2f), (-1.5f, 0.25f), (2f, 1f), (1f, -1f) })
                pr.AssertClose(pr.Run(path, alpha, beta), pr.Run(null, alpha, beta), alpha, beta);
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void Strides_larger_than_width_leave_padding_alone(GemmPath path, bool ta, bool tb)
    {
        ulong seed = 300;
        foreach (var (m, n, k) in new[] { (5, 9, 3), (13, 33, 17), (40, 70, 50), (13, 29, 17), (6, 50, 9), (9, 13, 5), (25, 18, 4), (70, 7, 9), (96, 3, 33) })
        {
            var pr = Problem.Create(ta, tb, m, n, k, seed++, padA: 3, padB: 5, padC: 7);
            pr.AssertClose(pr.Run(path, 1f, 0f), pr.Run(null, 1f, 0f), 1f, 0f, what: "padded");
            pr.AssertClose(pr.Run(path, 1.25f, 0.5f), pr.Run(null, 1.25f, 0.5f), 1.25f, 0.5f, what: "padded");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Beta_zero_ignores_NaN_and_infinity_in_C(GemmPath path)
    {
        foreach (var (ta, tb) in new[] { (false, false), (true, true) })
        {
            var pr = Problem.Create(ta, tb, 19, 35, 23, 11);
            var dirty = (float[])pr.C0.Clone();
            for (int i = 0; i < dirty.Length; i++) dirty[i] = i % 3 == 0 ? float.NaN : i % 3 == 1 ? float.PositiveInfinity : float.NegativeInfinity;
            var got = pr.Run(path, 1f, 0f, dirty);
            Assert.All(got, v => Assert.True(float.IsFinite(v)));
            pr.AssertClose(got, pr.Run(null, 1f, 0f), 1f, 0f);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Hand_computed_2x2_product(GemmPath path)
    {
        // [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50]; with α = 2, β = -1 and C = [1 1; 1 1]: [37 43; 85 99].
        float[] a = { 1, 2, 3, 4 }, b = { 5, 6, 7, 8 };
        var c = new float[] { 1, 1, 1, 1 };
        Gemm.MultiplyOn(path, false, false, 2, 2, 2, 2f, a, 2, b, 2, -1f, c, 2);
        Assert.Equal(new float[] { 37, 43, 85, 99 }, c);
        // Aᵀ·Bᵀ = [1 3; 2 4]·[5 7; 6 8] = [23 31; 34 46].
        Gemm.MultiplyOn(path, true, true, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        Assert.Equal(new float[] { 23, 31, 34, 46 }, c);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Alpha_zero_or_empty_inner_dimension_only_scales_C(GemmPath path)
    {
        var a = new float[] { float.NaN, float.NaN, float.NaN, float.NaN };
        var c = new float[] { 1, 2, 3, 4 };
        Gemm.MultiplyOn(path, false, false, 2, 2, 2, 0f, a, 2, a, 2, 3f, c, 2);
        Assert.Equal(new float[] { 3, 6, 9, 12 }, c);
        Gemm.MultiplyOn(path, false, false, 2, 2, 0, 1f, ReadOnlySpan<float>.Empty, 0, ReadOnlySpan<float>.Empty, 2, 0.5f, c, 2);
        Assert.Equal(new float[] { 1.5f, 3, 4.5f, 6 }, c);
        c[0] = float.NaN;
        Gemm.MultiplyOn(path, false, false, 2, 2, 0, 1f, ReadOnlySpan<float>.Empty, 0, ReadOnlySpan<float>.Empty, 2, 0f, c, 2);
        Assert.Equal(new float[] { 0, 0, 0, 0 }, c);
    }

    [Fact]
    public void Multiply_uses_the_active_path_and_reused_buffers_do_not_leak_between_calls()
    {
        var big = Problem.Create(false, true, 300, 200, 500, 21);
        var small = Problem.Create(true, false, 9, 5, 3, 22);
        var first = (float[])big.C0.Clone();
        Gemm.Multiply(false, true, 300, 200, 500, 1f, big.A, big.Lda, big.B, big.Ldb, 0f, first, big.Ldc);
        var smallOut = (float[])small.C0.Clone();
        Gemm.Multiply(true, false, 9, 5, 3, 1f, small.A, small.Lda, small.B, small.Ldb, 0f, smallOut, small.Ldc);
        small.AssertClose(smallOut, small.Run(null, 1f, 0f), 1f, 0f);
        var second = big.Run(Gemm.ActivePath, 1f, 0f);
        Assert.Equal(first, second);
        big.AssertClose(first, big.Run(null, 1f, 0f), 1f, 0f);
    }

    [Fact]
    public void Steady_state_calls_allocate_nothing()
    {
        var shapes = new[] { (false, true, 32, 128, 784), (false, false, 32, 784, 128), (true, false, 128, 784, 32), (false, true, 200, 6, 25), (false, true, 300, 200, 50) };
        var problems = shapes.Select((s, i) => Problem.Create(s.Item1, s.Item2, s.Item3, s.Item4, s.Item5, (ulong)i)).ToArray();
        var outputs = problems.Select(p => (float[])p.C0.Clone()).ToArray();
        var paths = Enum.GetValues<GemmPath>().Where(Gemm.IsSupported).ToArray();
        void RunAll()
        {
            foreach (var path in paths)
                for (int i = 0; i < problems.Length; i++)
                {
                    var p = problems[i];
                    Gemm.MultiplyOn(path, p.TransA, p.TransB, p.M, p.N, p.K, 1f, p.A, p.Lda, p.B, p.Ldb, 0.5f, outputs[i], p.Ldc);
                }
        }
        Assert.Equal(0, Allocations.SteadyState(RunAll));
    }

    [Fact]
    public void Scalar_path_is_always_supported_and_unsupported_paths_throw()
    {
        Assert.True(Gemm.IsSupported(GemmPath.Scalar));
        Assert.True(Gemm.IsSupported(Gemm.ActivePath));
        var c = new float[1];
        foreach (var path in Enum.GetValues<GemmPath>().Where(p => !Gemm.IsSupported(p)))
            Assert.Throws<NotSupportedException>(() => Gemm.MultiplyOn(path, false, false, 1, 1, 1, 1f, new float[1], 1, new float[1], 1, 0f, c, 1));
    }

    [Fact]
    public void Invalid_arguments_throw_with_the_bad_value()
    {
        var x = new float[16];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, -1, 2, 2, 1f, x, 2, x, 2, 0f, x, 2));
        Assert.Contains("m", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, 2, -2, 2, 1f, x, 2, x, 2, 0f, x, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, 2, 2, -3, 1f, x, 2, x, 2, 0f, x, 2));
        var lda = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, 2, 2, 3, 1f, x, 2, x, 2, 0f, x, 2));
        Assert.Equal("lda", lda.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(true, false, 4, 2, 3, 1f, x, 3, x, 2, 0f, x, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, true, 2, 2, 3, 1f, x, 3, x, 2, 0f, x, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, 2, 4, 2, 1f, x, 2, x, 4, 0f, x, 3));
        var shortB = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 3, 1f, x, 3, new float[5], 2, 0f, x, 2));
        Assert.Equal("b", shortB.ParamName);
        Assert.Contains("6", shortB.Message);
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, 1f, new float[15], 4, x, 4, 0f, x, 4));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, 1f, x, 4, x, 4, 0f, new float[15], 4));
    }
}
