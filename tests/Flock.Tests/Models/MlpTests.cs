using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Tensors;
using Flock.Tests.Support;

namespace Flock.Tests.Models;

public class MlpTests
{
    [Fact]
    public void Gradient_matches_finite_differences()
    {
        var learner = Mlp.CreateClassifier(new TensorShape(7), new[] { 5, 6 }, 3);
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 42);
        var data = GradientCheck.RandomClassification(new TensorShape(7), 9, 3, 7);
        double err = GradientCheck.MaxRelativeError(learner, p, data, Enumerable.Range(0, 9).ToArray(), eps: 1e-3f);
        Assert.True(err < 2e-2, $"relative error {err}");
    }

    [Fact]
    public void Same_seed_gives_identical_parameters_after_training()
    {
        float[] Train()
        {
            var learner = Mlp.CreateClassifier(new TensorShape(4), new[] { 8 }, 3);
            var p = new float[learner.Layout.Length];
            learner.InitializeParameters(p, 5);
            var data = GradientCheck.RandomClassification(new TensorShape(4), 64, 3, 9);
            var g = new float[p.Length];
            var sgd = new Sgd(0.1f);
            var rng = new Rng(3);
            var pos = new int[16];
            for (int s = 1; s <= 20; s++)
            {
                for (int i = 0; i < pos.Length; i++) pos[i] = rng.NextInt(64);
                learner.LossAndGradient(p, data, pos, g);
                sgd.Step(p, g, Span<float>.Empty, s);
            }
            return p;
        }
        Assert.Equal(Train(), Train());
    }

    [Fact]
    public void Training_reduces_loss()
    {
        var learner = Mlp.CreateClassifier(new TensorShape(4), new[] { 16 }, 3);
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 5);
        // Separable data: label = argmax of first three features.
        var rng = new Rng(11);
        var x = new float[200 * 4];
        rng.FillGaussian(x);
        var y = new int[200];
        for (int i = 0; i < 200; i++) y[i] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(x.AsSpan(i * 4, 3));
        var data = Flock.Data.Dataset.Classification("sep", x, new TensorShape(4), y, 3).All();
        double before = learner.Evaluate(p, data).Loss;
        var g = new float[p.Length];
        var sgd = new Sgd(0.2f);
        var all = Enumerable.Range(0, 200).ToArray();
        for (int s = 1; s <= 200; s++) { learner.LossAndGradient(p, data, all, g); sgd.Step(p, g, default, s); }
        var after = learner.Evaluate(p, data);
        Assert.True(after.Loss < before * 0.5, $"loss {before} -> {after.Loss}");
        Assert.True(after.Accuracy > 0.9, $"accuracy {after.Accuracy}");
    }
}
