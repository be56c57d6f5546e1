using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersA;

public class DropoutTests
{
    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    public void Rejects_invalid_probability(float p)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(p));
        Assert.Contains(p.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void Identity_in_evaluation()
    {
        var h = new LayerHarness(new Dropout(0.7f), new TensorShape(13), 4);
        h.Context.Training = false;
        var x = LayerHarness.Random(h.InputLength, 1);
        var g = LayerHarness.Random(h.OutputLength, 2);
        var (y, dx, _) = h.ForwardBackward(x, g);
        Assert.Equal(x, y);
        Assert.Equal(g, dx);
    }

    [Fact]
    public void Mask_values_drop_rate_and_determinism()
    {
        const float p = 0.3f;
        var h = new LayerHarness(new Dropout(p), new TensorShape(1001), 50);   // odd size: exercises the last unpaired draw
        var x = new float[h.InputLength];
        Array.Fill(x, 1f);
        h.RandomSeed = 5;
        var y = h.Forward(x);
        float keep = 1f / (1f - p);
        int dropped = 0;
        foreach (float v in y)
        {
            Assert.True(v == 0f || v == keep, $"unexpected mask value {v}");
            if (v == 0f) dropped++;
        }
        double n = y.Length, rate = dropped / n, sigma = Math.Sqrt(p * (1 - p) / n);
        Assert.True(Math.Abs(rate - p) < 5 * sigma, $"drop rate {rate} vs {p}");

        Assert.Equal(y, h.Forward(x));   // same generator state ⇒ same mask
        h.RandomSeed = 6;
        Assert.NotEqual(y, h.Forward(x));
    }

    [Fact]
    public void Keeps_the_expectation()
    {
        var h = new LayerHarness(new Dropout(0.5f), new TensorShape(64), 1);
        var x = LayerHarness.Random(64, 3, minAbs: 0.1f);
        var mean = new double[64];
        const int draws = 4000;
        for (int k = 0; k < draws; k++)
        {
            h.RandomSeed = (ulong)k + 1;
            var y = h.Forward(x);
            for (int i = 0; i < 64; i++) mean[i] += y[i] / (double)draws;
        }
        // Each ratio mean/x has standard deviation √(p/(1−p)/draws) ≈ 0.016.
        double worst = 0, overall = 0;
        for (int i = 0; i < 64; i++) { double r = mean[i] / x[i]; worst = Math.Max(worst, Math.Abs(r - 1)); overall += r / 64; }
        Assert.True(worst < 0.08, $"worst per-element ratio deviation {worst}");
        Assert.True(Math.Abs(overall - 1) < 0.01, $"mean ratio {overall}");
    }

    [Fact]
    public void Backward_uses_the_forward_mask_and_matches_finite_differences()
    {
        var h = new LayerHarness(new Dropout(0.4f), new TensorShape(3, 5), 6);
        var x = LayerHarness.Random(h.InputLength, 1, minAbs: 0.1f);
        var g = LayerHarness.Random(h.OutputLength, 2);
        var (y, dx, _) = h.ForwardBackward(x, g);
        for (int i = 0; i < x.Length; i++)
        {
            float m = y[i] / x[i];
            Assert.Equal(g[i] * m, dx![i], 5);
        }
        Assert.True(h.MaxInputGradientError(x, g) < 1e-3);
    }

    [Fact]
    public void Extreme_probabilities()
    {
        var x = LayerHarness.Random(2000, 1, minAbs: 0.1f);
        var tiny = new LayerHarness(new Dropout(1e-30f), new TensorShape(1000), 2);   // threshold rounds to 0: keep all
        Assert.Equal(x, tiny.Forward(x));
        var high = new LayerHarness(new Dropout(0.99f), new TensorShape(1000), 2);
        var y = high.Forward(x);
        int kept = y.Count(v => v != 0f);
        Assert.InRange(kept, 5, 40);   // mean 20
        for (int i = 0; i < y.Length; i++) if (y[i] != 0f) Assert.Equal(x[i] * 100f, y[i], 2);
    }

    [Fact]
    public void Zero_probability_is_identity_in_training_without_scratch()
    {
        var layer = new Dropout(0f);
        var h = new LayerHarness(layer, new TensorShape(7), 3);
        Assert.Equal(0, layer.ScratchLength(3));
        var x = LayerHarness.Random(21, 1);
        Assert.Equal(x, h.Forward(x));
    }

    [Fact]
    public void Network_training_pass_is_reproducible_from_the_rng()
    {
        var net = new Network(new TensorShape(6), new Linear(8, name: "fc"), new Dropout(0.5f), new Linear(3, name: "out"));
        var learner = new Flock.Models.NetworkLearner(net, Flock.Models.Losses.SoftmaxCrossEntropy.Instance);
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 1);
        var data = Flock.Tests.Support.GradientCheck.RandomClassification(new TensorShape(6), 16, 3, 2);
        var pos = Enumerable.Range(0, 16).ToArray();
        var g1 = new float[p.Length]; var g2 = new float[p.Length]; var g3 = new float[p.Length];
        float l1 = learner.LossAndGradient(p, data, pos, g1, new Rng(7));
        float l2 = learner.LossAndGradient(p, data, pos, g2, new Rng(7));
        float l3 = learner.LossAndGradient(p, data, pos, g3, new Rng(8));
        Assert.Equal(l1, l2);
        Assert.Equal(g1, g2);
        Assert.NotEqual(g1, g3);
        Assert.NotEqual(l1, learner.Loss(p, data, pos));   // evaluation has no dropout
    }
}
