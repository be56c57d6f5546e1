using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersA;

public class LayerNormTests
{
    private static LayerHarness WithRandomAffine(LayerNorm ln, TensorShape shape, int batch)
    {
        var h = new LayerHarness(ln, shape, batch);
        var w = ln.Weight!.Slice(h.Parameters.AsSpan());
        var b = ln.Bias!.Slice(h.Parameters.AsSpan());
        new Rng(77).FillGaussian(w, 1f, 0.5f);
        new Rng(78).FillGaussian(b, 0f, 0.5f);
        return h;
    }

    [Theory]
    [InlineData(0)]   // all of [4, 6]
    [InlineData(1)]   // per row of 6
    [InlineData(2)]   // all, explicitly
    public void Gradients_match_finite_differences(int rank)
    {
        var h = WithRandomAffine(new LayerNorm(rank), new TensorShape(4, 6), 3);
        var x = LayerHarness.Random(h.InputLength, 5, scale: 2f);
        var g = LayerHarness.Random(h.OutputLength, 6);
        double ei = h.MaxInputGradientError(x, g, eps: 1e-2f);
        double ep = h.MaxParameterGradientError(x, g, eps: 1e-2f);
        Assert.True(ei < 5e-3, $"input gradient relative error {ei}");
        Assert.True(ep < 5e-3, $"parameter gradient relative error {ep}");
    }

    [Fact]
    public void Gradients_without_affine_parameters()
    {
        var h = new LayerHarness(new LayerNorm(affine: false), new TensorShape(17), 4);
        Assert.Equal(0, h.Layout.Length);
        var x = LayerHarness.Random(h.InputLength, 5, scale: 2f);
        var g = LayerHarness.Random(h.OutputLength, 6);
        Assert.True(h.MaxInputGradientError(x, g) < 5e-3);
    }

    [Fact]
    public void Output_has_mean_zero_and_variance_one_per_group()
    {
        var ln = new LayerNorm(normalizedRank: 1);
        var h = new LayerHarness(ln, new TensorShape(5, 40), 3);
        Assert.Equal(new TensorShape(40), ln.Weight!.Shape);
        Assert.True(h.Parameters.AsSpan(ln.Weight.Offset, 40).ToArray().All(v => v == 1f));
        Assert.True(h.Parameters.AsSpan(ln.Bias!.Offset, 40).ToArray().All(v => v == 0f));
        var x = LayerHarness.Random(h.InputLength, 2, scale: 4f);
        for (int i = 0; i < x.Length; i++) x[i] += 10f;
        var y = h.Forward(x);
        for (int r = 0; r < 15; r++)
        {
            var row = y.AsSpan(r * 40, 40).ToArray();
            double mean = row.Average(v => (double)v);
            double variance = row.Average(v => (v - mean) * (v - mean));
            Assert.True(Math.Abs(mean) < 1e-5, $"row {r} mean {mean}");
            // var(y) = var/(var + ε) ≈ 1 − ε/16 for input variance 16
            Assert.True(Math.Abs(variance - 1) < 1e-5, $"row {r} variance {variance}");
        }
    }

    [Fact]
    public void Hand_computed_example()
    {
        // x = [1, 2, 3, 4]: mean 2.5, var 1.25, x̂ = (x − 2.5)/√1.25001; γ = [1, 2, 1, 1], β = [0, 0, 0, 1].
        var ln = new LayerNorm();
        var h = new LayerHarness(ln, new TensorShape(4), 1);
        h.Parameters[ln.Weight!.Offset + 1] = 2f;
        h.Parameters[ln.Bias!.Offset + 3] = 1f;
        var y = h.Forward([1f, 2f, 3f, 4f]);
        double s = Math.Sqrt(1.25 + 1e-5);
        Assert.Equal(-1.5 / s, y[0], 5);
        Assert.Equal(2 * -0.5 / s, y[1], 5);
        Assert.Equal(0.5 / s, y[2], 5);
        Assert.Equal(1.5 / s + 1, y[3], 5);
    }

    [Fact]
    public void Constant_input_gives_beta_without_nan()
    {
        var ln = new LayerNorm();
        var h = new LayerHarness(ln, new TensorShape(6), 2);
        for (int i = 0; i < 6; i++) h.Parameters[ln.Bias!.Offset + i] = i;
        var x = Enumerable.Repeat(3.5f, 12).ToArray();
        var (y, dx, dp) = h.ForwardBackward(x, LayerHarness.Random(12, 1));
        for (int i = 0; i < 12; i++) Assert.Equal(i % 6, y[i]);
        Assert.All(dx!, v => Assert.True(float.IsFinite(v)));
        Assert.All(dp, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Validation()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNorm(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNorm(epsilon: 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNorm(epsilon: float.NaN));
        var e = Assert.Throws<ArgumentException>(() => new LayerNorm(3).Build(new TensorShape(4, 6), new ParameterLayoutBuilder()));
        Assert.Contains("3", e.Message);
    }
}
