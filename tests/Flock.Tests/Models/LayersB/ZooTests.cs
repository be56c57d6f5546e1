using Flock.Data;
using Flock.Models;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Tensors;
using Flock.Tests.Support;

namespace Flock.Tests.Models.LayersB;

public class ZooTests
{
    [Theory]
    [InlineData(1, 28, 28, 61706)]
    [InlineData(3, 32, 32, 62006)]
    public void LeNet5_shapes_and_parameter_count(int c, int h, int w, int expected)
    {
        var net = LeNet5.CreateNetwork(new TensorShape(c, h, w));
        Assert.Equal(expected, net.Layout.Length);
        Assert.Equal(new TensorShape(10), net.OutputShape);
        Assert.Equal(new TensorShape(16, 10, 10), net.Root.Layers[3].OutputShape);
        // conv1 + conv2 + fc1 + fc2 + fc3 multiply-adds ×2, plus pooling comparisons.
        long convFc = 2L * (6 * 25 * c * 28 * 28 + 16 * 150 * 100 + 400 * 120 + 120 * 84 + 84 * 10);
        long pool = 6 * 14 * 14 * 4 + 16 * 5 * 5 * 4;
        Assert.Equal(convFc + pool, net.FlopsPerExample);
    }

    [Theory]
    [InlineData(3, 32, 32, 1, 78042)]
    [InlineData(3, 32, 32, 3, 272474)]
    [InlineData(1, 28, 28, 1, 77754)]
    public void ResNet_parameter_counts(int c, int h, int w, int blocks, int expected)
    {
        var net = ResNet.CreateNetwork(new TensorShape(c, h, w), 10, blocks);
        Assert.Equal(expected, net.Layout.Length);
        Assert.Equal(new TensorShape(10), net.OutputShape);
    }

    [Fact]
    public void LeNet5_gradient_matches_finite_differences()
    {
        var learner = LeNet5.CreateClassifier(new TensorShape(1, 28, 28));
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 3);
        var data = GradientCheck.RandomClassification(new TensorShape(1, 28, 28), 3, 10, 4);
        double err = MaxRelativeErrorAcrossSteps(learner, p, data, new[] { 0, 1, 2 }, maxChecks: 12);
        Assert.True(err < 2e-2, $"relative error {err}");
    }

    [Fact]
    public void ResNet_gradient_matches_finite_differences()
    {
        var learner = ResNet.CreateClassifier(new TensorShape(3, 8, 8), 4, blocksPerStage: 1, width: 4, groups: 2);
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 3);
        var data = GradientCheck.RandomClassification(new TensorShape(3, 8, 8), 3, 4, 4);
        double err = MaxRelativeErrorAcrossSteps(learner, p, data, new[] { 0, 1, 2 }, maxChecks: 10, floor: 5e-2);
        Assert.True(err < 5e-2, $"relative error {err}");
    }

    /// <summary>
    /// Like <see cref="GradientCheck.MaxRelativeError"/>, but a coordinate's error is the smallest over
    /// four step sizes: whole networks are only piecewise smooth (ReLU, max pool), and a step that
    /// crosses a kink spoils one difference while a wrong gradient spoils all of them. Gradients
    /// smaller than <paramref name="floor"/> are compared absolutely (float rounding in a deep
    /// network's loss makes their differences noisy).
    /// </summary>
    private static double MaxRelativeErrorAcrossSteps(NetworkLearner learner, float[] p, DatasetView data, int[] positions, int maxChecks, double floor = 1e-2)
    {
        var grad = new float[p.Length];
        learner.LossAndGradient(p, data, positions, grad);
        var rng = new Rng(1);
        double worst = 0;
        foreach (var t in learner.Layout.Tensors)
        {
            int checks = Math.Min(maxChecks, t.Length);
            for (int c = 0; c < checks; c++)
            {
                int idx = t.Offset + (checks == t.Length ? c : rng.NextInt(t.Length));
                double best = double.MaxValue;
                foreach (float eps in new[] { 1e-2f, 3e-3f, 1e-3f, 3e-4f })
                {
                    float orig = p[idx];
                    p[idx] = orig + eps; double lp = learner.Loss(p, data, positions);
                    p[idx] = orig - eps; double lm = learner.Loss(p, data, positions);
                    p[idx] = orig;
                    double fd = (lp - lm) / (2 * eps);
                    best = Math.Min(best, Math.Abs(fd - grad[idx]) / Math.Max(floor, Math.Abs(fd) + Math.Abs(grad[idx])));
                }
                worst = Math.Max(worst, best);
            }
        }
        return worst;
    }

    [Theory]
    [InlineData("lenet5_28")]
    [InlineData("lenet5_32")]
    [InlineData("resnet_tiny")]
    [InlineData("resnet_n2")]
    public void Matches_pytorch(string name)
    {
        var c = Golden.Case("models", name);
        var s = Golden.Ints(c.GetProperty("input"));
        var shape = new TensorShape(s[1], s[2], s[3]);
        var labels = Golden.Ints(c.GetProperty("labels"));
        NetworkLearner learner = c.GetProperty("kind").GetString() == "lenet5"
            ? LeNet5.CreateClassifier(shape)
            : ResNet.CreateClassifier(shape, c.GetProperty("classes").GetInt32(), c.GetProperty("blocks").GetInt32(), c.GetProperty("width").GetInt32(), c.GetProperty("groups").GetInt32());
        var p = new float[learner.Layout.Length];
        Golden.InitializeParameters(learner.Layout, p);
        int classes = learner.Network.OutputShape.Size;
        var data = Dataset.Classification(name, Golden.Val(s[0] * shape.Size, 1000, 2.0), shape, labels, classes).All();
        var g = new float[p.Length];
        float loss = learner.LossAndGradient(p, data, Enumerable.Range(0, s[0]).ToArray(), g);
        Golden.AssertClose(Golden.Floats(c.GetProperty("logits")), learner.CurrentWorkspace.Output.AsSpan(0, s[0] * classes), name + " logits");
        Assert.Equal(c.GetProperty("loss").GetDouble(), loss, 1e-4 * Math.Max(1, Math.Abs(loss)));
        var grads = c.GetProperty("gradients").EnumerateArray().ToArray();
        Assert.Equal(grads.Length, learner.Layout.Tensors.Count);
        for (int t = 0; t < grads.Length; t++)
        {
            var d = learner.Layout.Tensors[t];
            var e = grads[t];
            string what = $"{name} d{d.Name} (torch {e.GetProperty("name").GetString()})";
            Assert.Equal(e.GetProperty("length").GetInt32(), d.Length);
            var gt = d.Slice((ReadOnlySpan<float>)g).ToArray();
            var expected = Golden.Floats(e.GetProperty("values"));
            if (e.TryGetProperty("indices", out var idx))
            {
                var actual = Golden.Ints(idx).Select(i => gt[i]).ToArray();
                Golden.AssertClose(expected, actual, what, rtol: 2e-4, atol: 2e-5);
            }
            else Golden.AssertClose(expected, gt, what, rtol: 2e-4, atol: 2e-5);
            double sumsq = 0;
            foreach (float v in gt) sumsq += (double)v * v;
            double esq = e.GetProperty("sumsq").GetDouble();
            Assert.True(Math.Abs(sumsq - esq) <= 1e-3 * esq + 1e-12, $"{what}: Σg² {sumsq} vs {esq}");
        }
    }

    [Fact]
    public void Golden_generator_matches_python()
    {
        var check = Golden.Root.GetProperty("check");
        Assert.Equal(Golden.Floats(check.GetProperty("val_0_1000_2")), Golden.Val(5, 1000, 2.0));
        double sum = Golden.Val(70000, 7, 1.0).Sum(v => (double)v);
        Assert.Equal(check.GetProperty("val_sum_70000").GetDouble(), sum, 6);
    }

    [Fact]
    public void LeNet5_training_fits_a_small_set()
    {
        var learner = LeNet5.CreateClassifier(new TensorShape(1, 28, 28));
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 1);
        var data = GradientCheck.RandomClassification(new TensorShape(1, 28, 28), 16, 4, 2);
        double before = learner.Evaluate(p, data).Loss;
        var g = new float[p.Length];
        var sgd = new Sgd(0.05f);
        var all = Enumerable.Range(0, 16).ToArray();
        for (int s = 1; s <= 40; s++) { learner.LossAndGradient(p, data, all, g); sgd.Step(p, g, default, s); }
        var after = learner.Evaluate(p, data);
        Assert.True(after.Loss < 0.3 * before, $"loss {before} -> {after.Loss}");
        Assert.Equal(1.0, after.Accuracy);
    }
}
