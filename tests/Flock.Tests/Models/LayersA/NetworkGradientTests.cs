using Flock.Data;
using Flock.Models;
using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Models.Losses;
using Flock.Tensors;
using Flock.Tests.Support;

namespace Flock.Tests.Models.LayersA;

/// <summary>Every new layer inside networks: input gradients flow into earlier layers' parameter gradients.</summary>
public class NetworkGradientTests
{
    [Fact]
    public void Token_classifier_gradient_matches_finite_differences()
    {
        // Embedding → LayerNorm(per token) → GELU → Flatten → Linear → Tanh → Linear (logits)
        var net = new Network(new TensorShape(5),
            new Embedding(9, 4), new LayerNorm(normalizedRank: 1), new GELU(), new Flatten(),
            new Linear(6, name: "fc1"), new Tanh(), new Linear(3, name: "fc2"));
        Assert.Equal(new TensorShape(3), net.OutputShape);
        var learner = new NetworkLearner(net, SoftmaxCrossEntropy.Instance);
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 3);
        var ln = (LayerNorm)net.Root.Layers[1];
        new Rng(4).FillGaussian(ln.Weight!.Slice(p.AsSpan()), 1f, 0.3f);
        new Rng(5).FillGaussian(ln.Bias!.Slice(p.AsSpan()), 0f, 0.3f);
        var rng = new Rng(6);
        var ids = new float[12 * 5];
        for (int i = 0; i < ids.Length; i++) ids[i] = rng.NextInt(9);
        var labels = new int[12];
        for (int i = 0; i < 12; i++) labels[i] = rng.NextInt(3);
        var data = Dataset.Classification("tokens", ids, new TensorShape(5), labels, 3).All();
        double err = GradientCheck.MaxRelativeError(learner, p, data, Enumerable.Range(0, 12).ToArray(), eps: 1e-2f, maxChecks: 60);
        Assert.True(err < 1e-2, $"relative error {err}");
    }

    [Fact]
    public void Regression_network_gradient_matches_finite_differences()
    {
        // Linear → GELU → Linear → Sigmoid → LayerNorm → Linear, MSE. (Leaky ReLU is checked on its own,
        // away from its kink: here a step of 1e-2 would cross it, and a smaller one drowns in float noise.)
        var net = new Network(new TensorShape(2, 3),
            new Linear(7, init: WeightInit.XavierNormal, name: "fc1"), new GELU(), new Linear(5, name: "fc2"), new Sigmoid(),
            new LayerNorm(), new Linear(2, name: "out"));
        var learner = new NetworkLearner(net, MeanSquaredError.Instance);
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 9);
        var data = LayerHarness.RandomRegression(new TensorShape(2, 3), 10, 2, 3);
        double err = GradientCheck.MaxRelativeError(learner, p, data, Enumerable.Range(0, 10).ToArray(), eps: 1e-2f, maxChecks: 60);
        Assert.True(err < 1e-2, $"relative error {err}");
    }
}
