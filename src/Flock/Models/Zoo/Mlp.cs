using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Models.Losses;
using Flock.Tensors;

namespace Flock.Models.Zoo;

/// <summary>Multi-layer perceptron: Linear → ReLU → … → Linear (logits), trained with softmax cross-entropy.</summary>
public static class Mlp
{
    /// <summary>Builds an MLP network.</summary>
    /// <param name="inputShape">Per-example input shape (flattened).</param>
    /// <param name="hidden">Hidden widths, e.g. [128]; empty gives multinomial logistic regression.</param>
    /// <param name="outputs">Number of outputs (classes).</param>
    /// <param name="init">Weight init (default He normal).</param>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive.</exception>
    public static Network CreateNetwork(TensorShape inputShape, IReadOnlyList<int> hidden, int outputs, WeightInit init = WeightInit.HeNormal)
    {
        var layers = new List<Layer>();
        for (int i = 0; i < hidden.Count; i++)
        {
            if (hidden[i] <= 0) throw new ArgumentOutOfRangeException(nameof(hidden), hidden[i], $"Invalid hidden width at position {i}: must be positive.");
            layers.Add(new Linear(hidden[i], init: init, name: $"fc{i + 1}"));
            layers.Add(new ReLU());
        }
        layers.Add(new Linear(outputs, init: init == WeightInit.HeNormal ? WeightInit.XavierNormal : init, name: $"fc{hidden.Count + 1}"));
        return new Network(inputShape, layers.ToArray());
    }

    /// <summary>Builds an MLP classifier learner (softmax cross-entropy).</summary>
    public static NetworkLearner CreateClassifier(TensorShape inputShape, IReadOnlyList<int> hidden, int classes, WeightInit init = WeightInit.HeNormal) =>
        new(CreateNetwork(inputShape, hidden, classes, init), SoftmaxCrossEntropy.Instance);
}
