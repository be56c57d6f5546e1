using Flock.Models.Engine;
using Flock.Models.Losses;
using Flock.Tensors;

namespace Flock.Tests.Models.Perf;

public class FastKernelTests
{
    [Fact]
    public void Relu_matches_definition_including_nan_and_signed_zero()
    {
        var x = new float[37];
        new Rng(3).FillUniform(x, -1f, 1f);
        x[5] = float.NaN; x[20] = -0f; x[36] = float.NaN; x[35] = -3f;
        var y = new float[37];
        ElementwiseKernels.Relu(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i])) Assert.True(float.IsNaN(y[i]), $"y[{i}]");
            else Assert.Equal(BitConverter.SingleToInt32Bits(x[i] > 0 ? x[i] : 0f), BitConverter.SingleToInt32Bits(y[i]));
        }
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.Relu(x, new float[36]));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 10)]
    [InlineData(5, 128)]
    [InlineData(4, 37)]
    public void AddToRows_and_SumRows_match_loops(int rows, int n)
    {
        var rng = new Rng((ulong)(rows * 1000 + n));
        var m = new float[rows * n];
        var b = new float[n];
        rng.FillUniform(m, -1f, 1f);
        rng.FillUniform(b, -1f, 1f);
        var expected = (float[])m.Clone();
        for (int i = 0; i < rows; i++) for (int j = 0; j < n; j++) expected[i * n + j] += b[j];
        var got = (float[])m.Clone();
        ElementwiseKernels.AddToRows(got, b);
        Assert.Equal(expected, got);

        var sum = new float[n];
        sum.AsSpan().Fill(float.NaN); // overwritten, not accumulated
        ElementwiseKernels.SumRows(m, sum);
        for (int j = 0; j < n; j++)
        {
            float s = 0;
            for (int i = 0; i < rows; i++) s += m[i * n + j];
            Assert.Equal(s, sum[j]);
        }
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.AddToRows(new float[7], new float[2]));
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.SumRows(new float[7], Span<float>.Empty));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(16)]
    [InlineData(17)]
    public void Softmax_cross_entropy_matches_double_precision_formula(int c)
    {
        // Covers the one-register path (c ≤ 16) and the general one (c = 17) against a direct evaluation.
        const int batch = 7;
        var rng = new Rng((ulong)c);
        var z = new float[batch * c];
        rng.FillUniform(z, -8f, 8f);
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = (i * 5 + 1) % c;
        var grad = new float[batch * c];
        float loss = SoftmaxCrossEntropy.Instance.LossAndGradient(z, batch, c, labels, ReadOnlySpan<float>.Empty, grad);
        double total = 0;
        for (int i = 0; i < batch; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < c; j++) max = Math.Max(max, z[i * c + j]);
            double s = 0;
            for (int j = 0; j < c; j++) s += Math.Exp(z[i * c + j] - max);
            total += Math.Log(s) + max - z[i * c + labels[i]];
            for (int j = 0; j < c; j++)
            {
                double g = (Math.Exp(z[i * c + j] - max) / s - (j == labels[i] ? 1 : 0)) / batch;
                Assert.True(Math.Abs(g - grad[i * c + j]) <= 1e-6, $"c={c} grad[{i},{j}] = {grad[i * c + j]}, expected {g}");
            }
        }
        Assert.Equal(total / batch, loss, 1e-5);
        Assert.Equal(total / batch, SoftmaxCrossEntropy.Instance.Loss(z, batch, c, labels, ReadOnlySpan<float>.Empty), 1e-5);
    }
}
