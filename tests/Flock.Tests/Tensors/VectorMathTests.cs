using Flock.Tensors;

namespace Flock.Tests.Tensors;

public class VectorMathTests
{
    private static float[][] RandomVectors(int k, int n, ulong seed)
    {
        var rng = new Rng(seed);
        var xs = new float[k][];
        for (int i = 0; i < k; i++)
        {
            xs[i] = new float[n];
            rng.FillUniform(xs[i], -2f, 2f);
        }
        return xs;
    }

    private static ReadOnlyMemory<float>[] AsMemory(float[][] xs) => xs.Select(x => (ReadOnlyMemory<float>)x).ToArray();

    private static double[] NaiveWeighted(float[][] xs, float[]? w, bool normalise)
    {
        int n = xs[0].Length;
        double total = w is null ? xs.Length : w.Sum(v => (double)v);
        var r = new double[n];
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int i = 0; i < xs.Length; i++) s += (w is null ? 1.0 : w[i]) * xs[i][j];
            r[j] = normalise ? s / total : s;
        }
        return r;
    }

    private static void AssertClose(double[] expected, float[] got, double tol)
    {
        Assert.Equal(expected.Length, got.Length);
        for (int j = 0; j < got.Length; j++)
            if (!(Math.Abs(got[j] - expected[j]) <= tol * (1 + Math.Abs(expected[j]))))
                Assert.Fail($"element {j}: got {got[j]}, expected {expected[j]}");
    }

    // Lengths around the SIMD widths and the block length; input counts around the groups of eight.
    public static TheoryData<int, int> Shapes()
    {
        var d = new TheoryData<int, int>();
        foreach (int k in new[] { 1, 2, 3, 5, 7, 8, 9, 17 })
            foreach (int n in new[] { 0, 1, 15, 17, 100, VectorMath.BlockLength + 33 })
                d.Add(k, n);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Mean_matches_naive_loop(int k, int n)
    {
        var xs = RandomVectors(k, n, (ulong)(k * 1000 + n));
        var dst = new float[n];
        VectorMath.Mean(AsMemory(xs), dst);
        AssertClose(NaiveWeighted(xs, null, true), dst, 1e-6);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Weighted_mean_and_sum_match_naive_loop(int k, int n)
    {
        var xs = RandomVectors(k, n, (ulong)(k * 7000 + n));
        var w = new float[k];
        for (int i = 0; i < k; i++) w[i] = 0.5f + 1.5f * i;
        var dst = new float[n];
        VectorMath.WeightedMean(AsMemory(xs), w, dst);
        AssertClose(NaiveWeighted(xs, w, true), dst, 1e-6);
        for (int i = 0; i < k; i++) w[i] = i % 2 == 0 ? -0.75f * (i + 1) : 0.25f * i;
        VectorMath.WeightedSum(AsMemory(xs), w, dst);
        AssertClose(NaiveWeighted(xs, w, false), dst, 1e-5);
    }

    [Fact]
    public void Hand_computed_means()
    {
        var a = new float[] { 1, 2, 3 };
        var b = new float[] { 3, 6, -3 };
        var dst = new float[3];
        VectorMath.Mean(new ReadOnlyMemory<float>[] { a, b }, dst);
        Assert.Equal(new float[] { 2, 4, 0 }, dst);
        // Weights 1 and 3, normalised: (1·a + 3·b) / 4.
        VectorMath.WeightedMean(new ReadOnlyMemory<float>[] { a, b }, new float[] { 1, 3 }, dst);
        Assert.Equal(new float[] { 2.5f, 5, -1.5f }, dst);
        // Only the ratio of the weights matters, and a zero weight drops its input.
        VectorMath.WeightedMean(new ReadOnlyMemory<float>[] { a, b }, new float[] { 0, 5 }, dst);
        Assert.Equal(b, dst);
    }

    [Fact]
    public void Large_destination_with_streaming_stores_and_unaligned_start()
    {
        // Above the non-temporal threshold, starting one float into an array so the head is unaligned.
        int n = VectorMath.NonTemporalThreshold + 37;
        var xs = RandomVectors(3, n + 1, 5);
        var inputs = xs.Select(x => (ReadOnlyMemory<float>)x.AsMemory(1, n)).ToArray();
        var dstArray = new float[n + 1];
        dstArray[0] = 12345f;
        VectorMath.Mean(inputs, dstArray.AsSpan(1, n));
        Assert.Equal(12345f, dstArray[0]);
        for (int j = 0; j < n; j += 997)
        {
            double e = (xs[0][j + 1] + (double)xs[1][j + 1] + xs[2][j + 1]) / 3;
            Assert.True(Math.Abs(dstArray[j + 1] - e) <= 1e-6 * (1 + Math.Abs(e)), $"element {j}");
        }
        double last = (xs[0][n] + (double)xs[1][n] + xs[2][n]) / 3;
        Assert.True(Math.Abs(dstArray[n] - last) <= 1e-6 * (1 + Math.Abs(last)));
    }

    [Fact]
    public void Destination_may_be_one_of_the_inputs()
    {
        var xs = RandomVectors(6, 5000, 9);
        var expected = NaiveWeighted(xs, null, true);
        var inputs = AsMemory(xs);
        VectorMath.Mean(inputs, xs[0]);
        AssertClose(expected, xs[0], 1e-6);
        xs = RandomVectors(6, 5000, 10);
        var w = new float[] { 1, 2, 3, 4, 5, 6 };
        expected = NaiveWeighted(xs, w, true);
        VectorMath.WeightedMean(AsMemory(xs), w, xs[5]);
        AssertClose(expected, xs[5], 1e-6);
        xs = RandomVectors(9, 300, 11);
        expected = NaiveWeighted(xs, null, true);
        VectorMath.Mean(AsMemory(xs), xs[4]);
        AssertClose(expected, xs[4], 1e-6);
    }

    [Fact]
    public void Partial_or_repeated_overlap_with_the_destination_throws()
    {
        var x = new float[10];
        var partial = Assert.Throws<ArgumentException>(() =>
            VectorMath.Mean(new ReadOnlyMemory<float>[] { new float[8], x.AsMemory(1, 8) }, x.AsSpan(0, 8)));
        Assert.Contains("partially overlaps", partial.Message);
        var twice = Assert.Throws<ArgumentException>(() =>
            VectorMath.Mean(new ReadOnlyMemory<float>[] { x, new float[10], x }, x));
        Assert.Contains("Inputs 0 and 2", twice.Message);
    }

    [Fact]
    public void Infinity_in_an_input_propagates_without_spurious_NaN()
    {
        // A partial group must not multiply unused slots by zero (0·∞ = NaN).
        var a = new float[] { float.PositiveInfinity, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
        var b = new float[a.Length];
        var dst = new float[a.Length];
        VectorMath.Mean(new ReadOnlyMemory<float>[] { a, b }, dst);
        Assert.Equal(float.PositiveInfinity, dst[0]);
        VectorMath.WeightedMean(new ReadOnlyMemory<float>[] { a, b }, new float[] { 1, 1 }, dst);
        Assert.Equal(float.PositiveInfinity, dst[0]);
        Assert.Equal(8f, dst[16]);
    }

    [Fact]
    public void Invalid_arguments_throw_clear_errors()
    {
        var dst = new float[3];
        var ok = new ReadOnlyMemory<float>[] { new float[3], new float[3] };
        Assert.Throws<ArgumentNullException>(() => VectorMath.Mean(null!, dst));
        var empty = Assert.Throws<ArgumentException>(() => VectorMath.Mean(Array.Empty<ReadOnlyMemory<float>>(), dst));
        Assert.Contains("zero vectors", empty.Message);
        var len = Assert.Throws<ArgumentException>(() => VectorMath.Mean(new ReadOnlyMemory<float>[] { new float[3], new float[4] }, dst));
        Assert.Contains("Input 1 has 4 elements", len.Message);
        var count = Assert.Throws<ArgumentException>(() => VectorMath.WeightedMean(ok, new float[] { 1 }, dst));
        Assert.Contains("1 weights for 2 inputs", count.Message);
        var zero = Assert.Throws<ArgumentException>(() => VectorMath.WeightedMean(ok, new float[] { 0, 0 }, dst));
        Assert.Contains("sum to 0", zero.Message);
        var neg = Assert.Throws<ArgumentException>(() => VectorMath.WeightedMean(ok, new float[] { 2, -1 }, dst));
        Assert.Contains("-1", neg.Message);
        Assert.Throws<ArgumentException>(() => VectorMath.WeightedMean(ok, new float[] { 1, float.NaN }, dst));
        Assert.Throws<ArgumentException>(() => VectorMath.WeightedSum(ok, new float[] { 1, float.PositiveInfinity }, dst));
        Assert.Throws<ArgumentException>(() => VectorMath.Dot(new float[2], new float[3]));
        Assert.Throws<ArgumentException>(() => VectorMath.SquaredDistance(new float[2], new float[3]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(1001)]
    public void Dot_norm_and_squared_distance_match_naive_loops(int n)
    {
        var xs = RandomVectors(2, n, (ulong)n + 77);
        double dot = 0, nn = 0, sd = 0;
        for (int j = 0; j < n; j++)
        {
            dot += (double)xs[0][j] * xs[1][j];
            nn += (double)xs[0][j] * xs[0][j];
            sd += ((double)xs[0][j] - xs[1][j]) * ((double)xs[0][j] - xs[1][j]);
        }
        double tol = 1e-5 * (1 + n);
        Assert.InRange(VectorMath.Dot(xs[0], xs[1]), dot - tol, dot + tol);
        Assert.InRange(VectorMath.Norm2(xs[0]), Math.Sqrt(nn) - tol, Math.Sqrt(nn) + tol);
        Assert.InRange(VectorMath.SquaredDistance(xs[0], xs[1]), sd - tol, sd + tol);
        Assert.Equal(0f, VectorMath.SquaredDistance(xs[0], xs[0]));
    }

    [Fact]
    public void Steady_state_calls_allocate_nothing()
    {
        var inputs = AsMemory(RandomVectors(7, 20000, 4));
        var w = new float[] { 1, 2, 3, 4, 5, 6, 7 };
        var dst = new float[20000];
        void RunAll()
        {
            VectorMath.Mean(inputs, dst);
            VectorMath.WeightedMean(inputs, w, dst);
            VectorMath.WeightedSum(inputs, w, dst);
            VectorMath.SquaredDistance(inputs[0].Span, inputs[1].Span);
        }
        Assert.Equal(0, Allocations.SteadyState(RunAll));
    }

    [Fact]
    public void Hand_computed_distance_and_norm()
    {
        Assert.Equal(25f, VectorMath.SquaredDistance(new float[] { 1, 2 }, new float[] { 4, 6 }));
        Assert.Equal(5f, VectorMath.Norm2(new float[] { 3, 4 }));
        Assert.Equal(11f, VectorMath.Dot(new float[] { 1, 2 }, new float[] { 3, 4 }));
    }
}
