using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Models.Losses;
using Flock.Tensors;

namespace Flock.Models.Zoo;

/// <summary>
/// Multinomial logistic regression: one <see cref="Linear"/> layer to C logits (weight <c>[C, in]</c>,
/// bias <c>[C]</c>, both zero-initialized) trained with softmax cross-entropy — a convex problem, the
/// standard testbed for convergence theory of federated and decentralized methods.
/// </summary>
/// <remarks>
/// L2 regularization <c>λ/2·‖θ‖²</c> is not part of the loss: use the optimizer's weight decay
/// (which adds λθ to the gradient). Note that a decoupled or coupled weight decay applied to the
/// whole flat vector also decays the bias.
/// </remarks>
public static class LogisticRegression
{
    /// <summary>Builds the network: a single zero-initialized linear layer named <c>linear</c>.</summary>
    /// <param name="inputShape">Per-example input shape (flattened).</param>
    /// <param name="classes">Number of classes (at least 2).</param>
    /// <param name="bias">Whether to learn an intercept (default true).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is below 2.</exception>
    public static Network CreateNetwork(TensorShape inputShape, int classes, bool bias = true)
    {
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), classes, $"Invalid number of classes: {classes}; logistic regression needs at least 2.");
        return new Network(inputShape, new Linear(classes, bias, WeightInit.Zeros, "linear"));
    }

    /// <summary>Builds a multinomial logistic-regression learner (softmax cross-entropy).</summary>
    /// <inheritdoc cref="CreateNetwork" path="/param"/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is below 2.</exception>
    public static NetworkLearner CreateLearner(TensorShape inputShape, int classes, bool bias = true) =>
        new(CreateNetwork(inputShape, classes, bias), SoftmaxCrossEntropy.Instance);

    /// <summary>
    /// Binary logistic regression (labels 0/1) as the two-class softmax model. From the zero
    /// initialization the two rows stay opposite (<c>w₁ = −w₀</c>) under any gradient method that acts
    /// coordinate-wise linearly on the gradient (SGD, momentum, weight decay), so the model is exactly
    /// binary logistic regression with weight <c>w = w₁ − w₀</c> trained at twice the learning rate
    /// (and half the weight decay); predictions and the loss value are identical.
    /// </summary>
    /// <param name="inputShape">Per-example input shape (flattened).</param>
    /// <param name="bias">Whether to learn an intercept (default true).</param>
    public static NetworkLearner CreateBinaryLearner(TensorShape inputShape, bool bias = true) => CreateLearner(inputShape, 2, bias);
}
