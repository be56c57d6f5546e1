using System.Numerics.Tensors;

namespace Flock.Optimizers;

/// <summary>Plain stochastic gradient descent: <c>θ ← θ − η·g</c>. No state.</summary>
public sealed class Sgd : IOptimizer
{
    /// <summary>Creates SGD with learning rate <paramref name="learningRate"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Learning rate negative or not finite.</exception>
    public Sgd(float learningRate)
    {
        if (!(learningRate >= 0) || float.IsInfinity(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, $"Invalid learning rate: {learningRate}; must be a finite value ≥ 0.");
        LearningRate = learningRate;
    }

    /// <summary>Learning rate η.</summary>
    public float LearningRate { get; }

    /// <inheritdoc />
    public string Name => "sgd";

    /// <inheritdoc />
    public int StateLength(int parameterCount) => 0;

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step)
    {
        if (gradient.Length != parameters.Length) throw new ArgumentException($"Gradient length {gradient.Length} differs from parameter length {parameters.Length}.");
        TensorPrimitives.MultiplyAdd(gradient, -LearningRate, parameters, parameters);
    }
}
