using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Models.Losses;
using Flock.Tensors;

namespace Flock.Models.Zoo;

/// <summary>
/// Linear least squares (linear regression): one <see cref="Linear"/> layer to the target
/// dimension (zero-initialized weight and bias) trained with <see cref="MeanSquaredError"/>, i.e.
/// <c>min 1/(B·D) Σ ‖W·x + b − t‖²</c> — a convex quadratic whose optimum solves the normal equations.
/// </summary>
/// <remarks>
/// Ridge regression (an L2 penalty <c>λ/2·‖θ‖²</c>) is obtained with the optimizer's weight decay λ
/// rather than in the loss; it then also penalizes the bias unless the optimizer excludes it.
/// </remarks>
public static class LinearLeastSquares
{
    /// <summary>Builds the network: a single zero-initialized linear layer named <c>linear</c>.</summary>
    /// <param name="inputShape">Per-example input shape (flattened).</param>
    /// <param name="targetDim">Number of regression targets per example (default 1).</param>
    /// <param name="bias">Whether to learn an intercept (default true).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetDim"/> is not positive.</exception>
    public static Network CreateNetwork(TensorShape inputShape, int targetDim = 1, bool bias = true)
    {
        if (targetDim <= 0) throw new ArgumentOutOfRangeException(nameof(targetDim), targetDim, $"Invalid target dimension: {targetDim}; must be positive.");
        return new Network(inputShape, new Linear(targetDim, bias, WeightInit.Zeros, "linear"));
    }

    /// <summary>Builds a least-squares learner (mean squared error over batch and targets).</summary>
    /// <inheritdoc cref="CreateNetwork" path="/param"/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetDim"/> is not positive.</exception>
    public static NetworkLearner CreateLearner(TensorShape inputShape, int targetDim = 1, bool bias = true) =>
        new(CreateNetwork(inputShape, targetDim, bias), MeanSquaredError.Instance);
}
