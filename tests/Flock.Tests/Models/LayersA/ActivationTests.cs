using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersA;

public class ActivationTests
{
    public static TheoryData<string> Activations => new() { "gelu", "tanh", "sigmoid", "leaky_relu", "leaky_relu_neg", "flatten" };

    private static Layer Create(string name) => name switch
    {
        "gelu" => new GELU(),
        "tanh" => new Tanh(),
        "sigmoid" => new Sigmoid(),
        "leaky_relu" => new LeakyReLU(),
        "leaky_relu_neg" => new LeakyReLU(-0.3f),
        "flatten" => new Flatten(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Activations))]
    public void Input_gradient_matches_finite_differences(string name)
    {
        // 5 × [3, 7] = 105 elements: exercises the SIMD loops and the scalar tail.
        var h = new LayerHarness(Create(name), new TensorShape(3, 7), 5);
        var x = LayerHarness.Random(h.InputLength, 3, scale: 2f, minAbs: 0.05f);
        var g = LayerHarness.Random(h.OutputLength, 4);
        double err = h.MaxInputGradientError(x, g, eps: 1e-2f);
        Assert.True(err < 2e-3, $"{name}: relative error {err}");
    }

    [Fact]
    public void Harness_detects_a_wrong_gradient()
    {
        var h = new LayerHarness(new WrongTanh(), new TensorShape(9), 3);
        var x = LayerHarness.Random(h.InputLength, 3, scale: 2f);
        var g = LayerHarness.Random(h.OutputLength, 4);
        Assert.True(h.MaxInputGradientError(x, g) > 0.1);
    }

    private sealed class WrongTanh() : Layer("wrong")
    {
        protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout) => input;
        public override void Forward(in ForwardArgs a) => System.Numerics.Tensors.TensorPrimitives.Tanh(a.Input, a.Output);
        public override void Backward(in BackwardArgs a)
        {
            for (int i = 0; i < a.InputGradient.Length; i++) a.InputGradient[i] = a.OutputGradient[i] * (1 - a.Output[i]);
        }
    }

    [Fact]
    public void Known_values()
    {
        Assert.Equal(0.5204999, ActivationKernels.Erf(0.5), 7);
        Assert.Equal(-0.5204999, ActivationKernels.Erf(-0.5), 7);
        Assert.Equal(0.8427007929497149, ActivationKernels.Erf(1.0), 9);
        Assert.Equal(0.0, ActivationKernels.Erf(0.0));
        Assert.Equal(1.0, ActivationKernels.Erf(30.0), 9);
        Assert.True(double.IsNaN(ActivationKernels.Erf(double.NaN)));

        float[] x = [1f, 0f, -1f, 2f, -3f, 40f, -40f];
        var y = new float[x.Length];
        ActivationKernels.Gelu(x, y);
        Assert.Equal(0.8413447f, y[0], 6);
        Assert.Equal(0f, y[1]);
        Assert.Equal(-0.1586553f, y[2], 6);   // GELU(−1) = −1·Φ(−1)
        Assert.Equal(1.9544997f, y[3], 6);
        Assert.Equal(-0.0040496f, y[4], 6);
        Assert.Equal(40f, y[5]);
        Assert.Equal(0f, y[6]);

        var s = new float[1];
        new Sigmoid().Forward(new ForwardArgs(default, new float[] { 0f }, s, default, 1, new LayerContext()));
        Assert.Equal(0.5f, s[0]);

        var l = new float[4];
        ActivationKernels.LeakyRelu([2f, -2f, 0f, -0.5f], 0.1f, l);
        Assert.Equal([2f, -0.2f, 0f, -0.05f], l);
        var dl = new float[4];
        ActivationKernels.LeakyReluBackward([2f, -2f, 0f, -0.5f], [1f, 1f, 1f, 3f], 0.1f, dl);
        Assert.Equal([1f, 0.1f, 0.1f, 0.3f], dl);   // slope at exactly 0, as PyTorch
    }

    [Fact]
    public void Erf_is_accurate_on_a_dense_grid()
    {
        // Compare with a high-order Taylor series (|x| ≤ 2) and the continued-fraction erfc (|x| ≥ 2), both in double.
        double worst = 0;
        for (int i = -6000; i <= 6000; i++)
        {
            double x = i * 1e-3;
            worst = Math.Max(worst, Math.Abs(ActivationKernels.Erf(x) - ReferenceErf(x)));
        }
        Assert.True(worst < 1e-9, $"max |erf error| {worst}");
    }

    private static double ReferenceErf(double x)
    {
        double a = Math.Abs(x);
        double r;
        if (a <= 2)
        {
            // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n!(2n+1))
            double term = a, sum = a;
            for (int n = 1; n < 60; n++)
            {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(x) = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) (Lentz-free backward evaluation)
            double f = a;
            for (int k = 80; k >= 1; k--) f = a + k / 2.0 / f;
            r = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    [Fact]
    public void Simd_and_scalar_paths_agree()
    {
        // Lengths 1..40 cover a partial vector, whole vectors and tails; element j of any length must match a length-1 call.
        var src = LayerHarness.Random(40, 8, scale: 3f);
        var dy = LayerHarness.Random(40, 9);
        for (int n = 1; n <= 40; n++)
        {
            var y = new float[n]; var dx = new float[n];
            ActivationKernels.Gelu(src.AsSpan(0, n), y);
            ActivationKernels.GeluBackward(src.AsSpan(0, n), dy.AsSpan(0, n), dx);
            for (int j = 0; j < n; j++)
            {
                var one = new float[1]; var dOne = new float[1];
                ActivationKernels.Gelu(src.AsSpan(j, 1), one);
                ActivationKernels.GeluBackward(src.AsSpan(j, 1), dy.AsSpan(j, 1), dOne);
                Assert.Equal(one[0], y[j], 6);
                Assert.Equal(dOne[0], dx[j], 5);
            }
        }
    }

    [Fact]
    public void Shapes_and_validation()
    {
        var f = new Flatten();
        f.Build(new TensorShape(2, 3, 4), new ParameterLayoutBuilder());
        Assert.Equal(new TensorShape(24), f.OutputShape);
        var t = new Tanh();
        t.Build(new TensorShape(2, 3), new ParameterLayoutBuilder());
        Assert.Equal(new TensorShape(2, 3), t.OutputShape);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyReLU(float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyReLU(float.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => ActivationKernels.Gelu(new float[3], new float[2]));
    }

    [Fact]
    public void Input_gradient_is_skipped_when_not_requested()
    {
        foreach (var name in new[] { "gelu", "tanh", "sigmoid", "leaky_relu", "flatten" })
        {
            var h = new LayerHarness(Create(name), new TensorShape(5), 2);
            var (_, dx, dp) = h.ForwardBackward(LayerHarness.Random(10, 1), LayerHarness.Random(10, 2), inputGradient: false);
            Assert.Null(dx);
            Assert.Empty(dp);
        }
    }
}
