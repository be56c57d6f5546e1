using Flock.Data;
using Flock.Models;
using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>
/// An optimizer that never changes the parameters: the optimizer of jobs that only measure
/// (a gradient to send, projected gradients) on a node's model. It claims the state length of the
/// node's real optimizer (or none), so the job can run on the node's own <see cref="LocalModel"/>;
/// the state is never touched. The caller restores the model's step counter afterwards.
/// </summary>
internal sealed class FrozenOptimizer : IOptimizer
{
    private readonly IOptimizer? _shape;

    /// <summary>A frozen optimizer with no state.</summary>
    public static FrozenOptimizer Stateless { get; } = new(null);

    /// <summary>A frozen optimizer whose state length is <paramref name="shape"/>'s (null: none).</summary>
    public FrozenOptimizer(IOptimizer? shape) => _shape = shape;

    public string Name => "frozen";

    public float LearningRate => 0f;

    public IReadOnlyList<HyperParameter> HyperParameters => Array.Empty<HyperParameter>();

    public int StateLength(int parameterCount) => _shape?.StateLength(parameterCount) ?? 0;

    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step) { }

    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step, float learningRate) { }
}

/// <summary>
/// One minibatch gradient at the model's parameters, copied into <see cref="Gradient"/>; the
/// parameters are left unchanged (the job's optimizer is <see cref="FrozenOptimizer.Stateless"/>).
/// Batches and dropout come from the usual streams of (node, round).
/// </summary>
internal sealed class GradientJob : TrainingJob
{
    /// <summary>Creates a job computing one gradient into <paramref name="gradient"/> (the model's length).</summary>
    public GradientJob(LocalModel model, ILearner learner, DatasetView data, int batchSize, long round, float[] gradient)
        : base(model, learner, FrozenOptimizer.Stateless, data, 1, batchSize, round)
    {
        if (gradient.Length != model.ParameterCount) throw new ArgumentException($"Gradient buffer of {gradient.Length} floats for a model of {model.ParameterCount}.", nameof(gradient));
        Gradient = gradient;
    }

    /// <summary>The gradient, written by <see cref="TrainingJob.Execute"/>.</summary>
    public float[] Gradient { get; }

    protected override float ComputeLossAndGradient(ReadOnlySpan<float> parameters, ReadOnlySpan<int> positions, Span<float> gradient, Rng dropoutRng)
    {
        float loss = base.ComputeLossAndGradient(parameters, positions, gradient, dropoutRng);
        gradient.CopyTo(Gradient);
        return loss;
    }
}
