using Flock.Data;
using Flock.Tensors;

namespace Flock.Models;

/// <summary>
/// What protocols know of a model: a flat parameter vector with a layout, loss + gradient on a
/// batch, and evaluation. A learner holds no node state (parameters are passed in), so one learner
/// serves every node; implementations are thread-safe (each thread uses its own workspace).
/// </summary>
public interface ILearner
{
    /// <summary>Layout of the flat parameter vector.</summary>
    ParameterLayout Layout { get; }

    /// <summary>Number of parameters.</summary>
    int ParameterCount => Layout.Length;

    /// <summary>Forward FLOPs per example (a backward pass costs about twice that).</summary>
    long FlopsPerExample { get; }

    /// <summary>Fills <paramref name="parameters"/> with a fresh initialization derived from <paramref name="seed"/>.</summary>
    void InitializeParameters(Span<float> parameters, ulong seed);

    /// <summary>
    /// Mean loss over the examples at view positions <paramref name="positions"/> of <paramref name="data"/>;
    /// overwrites <paramref name="gradient"/> with its gradient. <paramref name="rng"/> drives stochastic
    /// layers (dropout); null means a fixed stream.
    /// </summary>
    float LossAndGradient(ReadOnlySpan<float> parameters, DatasetView data, ReadOnlySpan<int> positions, Span<float> gradient, Rng? rng = null);

    /// <summary>Mean loss over the given examples (forward only, evaluation mode).</summary>
    float Loss(ReadOnlySpan<float> parameters, DatasetView data, ReadOnlySpan<int> positions);

    /// <summary>Mean loss and accuracy over every example of <paramref name="data"/>.</summary>
    EvaluationResult Evaluate(ReadOnlySpan<float> parameters, DatasetView data);

    /// <summary>Predicted class of each example of <paramref name="data"/> (classification only).</summary>
    void Predict(ReadOnlySpan<float> parameters, DatasetView data, Span<int> predictions);
}
