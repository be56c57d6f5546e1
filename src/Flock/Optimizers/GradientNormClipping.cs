using System.Numerics.Tensors;

namespace Flock.Optimizers;

/// <summary>
/// Gradient-norm clipping as a decorator: scales the gradient in place by
/// <c>min(1, c / (‖g‖₂ + 1e-6))</c>, where ‖g‖₂ is the global L2 norm of the whole flat gradient
/// (PyTorch <c>torch.nn.utils.clip_grad_norm_</c> semantics, including the 1e-6), then delegates
/// to the inner optimizer. State, name and learning rate are the inner optimizer's.
/// From "On the difficulty of training recurrent neural networks" (Pascanu, Mikolov &amp; Bengio, 2013).
/// </summary>
public sealed class GradientNormClipping : IOptimizer
{
    /// <summary>The ε PyTorch adds to the norm before dividing.</summary>
    public const float NormEpsilon = 1e-6f;

    /// <summary>Default maximum norm c.</summary>
    public const float DefaultMaxNorm = 1f;

    private const string MaxNormDoc = "Maximum global L2 norm c of the gradient; gradients are scaled by min(1, c/(‖g‖+1e-6)); finite, > 0.";

    private readonly HyperParameter[] _hyperParameters;

    /// <summary>Wraps <paramref name="inner"/> with clipping to global norm <paramref name="maxNorm"/>.</summary>
    /// <param name="inner">The optimizer that takes the clipped gradient.</param>
    /// <param name="maxNorm">Maximum global L2 norm c (finite, &gt; 0).</param>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not a finite positive value.</exception>
    public GradientNormClipping(IOptimizer inner, float maxNorm = DefaultMaxNorm)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        MaxNorm = Check.Positive(maxNorm, nameof(maxNorm), "max norm");
        _hyperParameters = [.. inner.HyperParameters, new HyperParameter("max_norm", MaxNorm, DefaultMaxNorm, MaxNormDoc)];
    }

    /// <summary>The optimizer that takes the clipped gradient.</summary>
    public IOptimizer Inner { get; }

    /// <summary>Maximum global L2 norm c.</summary>
    public float MaxNorm { get; }

    /// <summary>The inner optimizer's name.</summary>
    public string Name => Inner.Name;

    /// <inheritdoc />
    public float LearningRate => Inner.LearningRate;

    /// <summary>The inner optimizer's hyper-parameters followed by <c>max_norm</c>.</summary>
    public IReadOnlyList<HyperParameter> HyperParameters => _hyperParameters;

    /// <summary>Registry description of the clipping option (its own hyper-parameter only).</summary>
    public static OptimizerInfo Describe() => new("clip-grad-norm", "On the difficulty of training recurrent neural networks (Pascanu, Mikolov & Bengio, 2013)",
        [new HyperParameter("max_norm", DefaultMaxNorm, DefaultMaxNorm, MaxNormDoc)]);

    /// <inheritdoc />
    public int StateLength(int parameterCount) => Inner.StateLength(parameterCount);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step) =>
        Step(parameters, gradient, state, step, Inner.LearningRate);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step, float learningRate)
    {
        Check.StepArguments(parameters, gradient, state, Inner.StateLength(parameters.Length), step);
        Check.LearningRate(learningRate, nameof(learningRate));
        Clip(gradient, MaxNorm);
        Inner.Step(parameters, gradient, state, step, learningRate);
    }

    /// <summary>
    /// The clipping kernel: multiplies <paramref name="gradient"/> in place by
    /// <c>min(1, maxNorm / (‖g‖₂ + 1e-6))</c> and returns the norm before clipping. A non-finite
    /// norm makes the gradient non-finite (as PyTorch with <c>error_if_nonfinite=False</c>).
    /// </summary>
    /// <param name="gradient">The flat gradient, scaled in place.</param>
    /// <param name="maxNorm">Maximum norm c (not validated).</param>
    /// <returns>The global L2 norm of the gradient before clipping.</returns>
    public static float Clip(Span<float> gradient, float maxNorm)
    {
        float norm = TensorPrimitives.Norm(gradient);
        float coef = MathF.Min(maxNorm / (norm + NormEpsilon), 1f);
        if (coef != 1f) TensorPrimitives.Multiply(gradient, coef, gradient);
        return norm;
    }
}
