using Flock.Models.Losses;

namespace Flock.Tests.Models.LayersA;

public class MeanSquaredErrorTests
{
    [Fact]
    public void Hand_computed_mean_over_batch_and_outputs()
    {
        float[] y = [1f, 2f, 3f, 4f];
        float[] t = [0f, 2f, 1f, 1f];
        var g = new float[4];
        float loss = MeanSquaredError.Instance.LossAndGradient(y, 2, 2, default, t, g);
        Assert.Equal(3.5f, loss);   // (1 + 0 + 4 + 9) / 4
        Assert.Equal([0.5f, 0f, 1f, 1.5f], g);   // 2(y − t)/4
        Assert.Equal(3.5f, MeanSquaredError.Instance.Loss(y, 2, 2, default, t));
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        const int b = 5, d = 3;
        var y = LayerHarness.Random(b * d, 1);
        var t = LayerHarness.Random(b * d, 2);
        var g = new float[b * d];
        float loss = MeanSquaredError.Instance.LossAndGradient(y, b, d, default, t, g);
        Assert.Equal(loss, MeanSquaredError.Instance.Loss(y, b, d, default, t), 5);
        const float eps = 1e-2f;
        for (int i = 0; i < y.Length; i++)
        {
            float orig = y[i];
            y[i] = orig + eps; double lp = MeanSquaredError.Instance.Loss(y, b, d, default, t);
            y[i] = orig - eps; double lm = MeanSquaredError.Instance.Loss(y, b, d, default, t);
            y[i] = orig;
            Assert.True(LayerHarness.RelativeError((lp - lm) / (2 * eps), g[i], 1e-3) < 1e-3, $"coordinate {i}");
        }
    }

    [Fact]
    public void Missing_targets_are_reported()
    {
        var e = Assert.Throws<ArgumentException>(() => MeanSquaredError.Instance.Loss(new float[6], 2, 3, new int[2], ReadOnlySpan<float>.Empty));
        Assert.Contains("exactly 2 × 3 = 6 regression targets but got 0", e.Message);
        Assert.Throws<ArgumentException>(() => MeanSquaredError.Instance.Loss(new float[6], 2, 3, default, new float[8]));   // target dimension 4 ≠ 3 outputs
        Assert.Throws<ArgumentException>(() => MeanSquaredError.Instance.LossAndGradient(new float[6], 2, 3, default, new float[6], new float[5]));
    }
}
