using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Optimizers;

/// <summary>
/// Plain stochastic gradient descent with optional coupled (L2) weight decay:
/// <c>d = g + λ·θ; θ ← θ − η·d</c>. No state. PyTorch <c>torch.optim.SGD</c> with momentum 0.
/// From "A Stochastic Approximation Method" (Robbins &amp; Monro, 1951).
/// </summary>
public sealed class Sgd : IOptimizer
{
    /// <summary>Default learning rate.</summary>
    public const float DefaultLearningRate = 0.01f;

    private readonly HyperParameter[] _hyperParameters;

    /// <summary>Creates SGD.</summary>
    /// <param name="learningRate">Learning rate η (finite, ≥ 0).</param>
    /// <param name="weightDecay">Coupled L2 weight decay λ added to the gradient (finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public Sgd(float learningRate = DefaultLearningRate, float weightDecay = 0f)
    {
        LearningRate = Check.LearningRate(learningRate, nameof(learningRate));
        WeightDecay = Check.NonNegative(weightDecay, nameof(weightDecay), "weight decay");
        _hyperParameters =
        [
            new("learning_rate", LearningRate, DefaultLearningRate, "Learning rate η; finite, ≥ 0."),
            new("weight_decay", WeightDecay, 0f, "Coupled L2 weight decay λ (added to the gradient); finite, ≥ 0."),
        ];
    }

    /// <summary>Learning rate η.</summary>
    public float LearningRate { get; }

    /// <summary>Coupled L2 weight decay λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public string Name => "sgd";

    /// <inheritdoc />
    public IReadOnlyList<HyperParameter> HyperParameters => _hyperParameters;

    /// <summary>Registry description with defaults.</summary>
    public static OptimizerInfo Describe() => new("sgd", "A Stochastic Approximation Method (Robbins & Monro, 1951)", new Sgd().HyperParameters);

    /// <inheritdoc />
    public int StateLength(int parameterCount)
    {
        Check.ParameterCount(parameterCount);
        return 0;
    }

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step) =>
        Step(parameters, gradient, state, step, LearningRate);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step, float learningRate)
    {
        Check.StepArguments(parameters, gradient, state, 0, step);
        Check.LearningRate(learningRate, nameof(learningRate));
        Update(parameters, gradient, learningRate, WeightDecay);
    }

    /// <summary>The SGD kernel: <c>θ ← θ − η·(g + λ·θ)</c>, one fused SIMD pass. No validation of η, λ.</summary>
    /// <param name="parameters">θ, updated in place.</param>
    /// <param name="gradient">g.</param>
    /// <param name="learningRate">η.</param>
    /// <param name="weightDecay">Coupled weight decay λ (0 for none).</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Update(Span<float> parameters, ReadOnlySpan<float> gradient, float learningRate, float weightDecay)
    {
        Check.SameLength(parameters.Length, gradient.Length, nameof(gradient), "gradient");
        int n = parameters.Length, i = 0;
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradient);
        float nlr = -learningRate;
        if (Vector512.IsHardwareAccelerated)
        {
            var vnlr = Vector512.Create(nlr);
            var vwd = Vector512.Create(weightDecay);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var pv = Vector512.LoadUnsafe(ref p, (nuint)i);
                var d = Vector512.FusedMultiplyAdd(vwd, pv, Vector512.LoadUnsafe(ref g, (nuint)i));
                Vector512.FusedMultiplyAdd(vnlr, d, pv).StoreUnsafe(ref p, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vnlr = Vector256.Create(nlr);
            var vwd = Vector256.Create(weightDecay);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var pv = Vector256.LoadUnsafe(ref p, (nuint)i);
                var d = Vector256.FusedMultiplyAdd(vwd, pv, Vector256.LoadUnsafe(ref g, (nuint)i));
                Vector256.FusedMultiplyAdd(vnlr, d, pv).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            ref float pi = ref Unsafe.Add(ref p, i);
            float d = MathF.FusedMultiplyAdd(weightDecay, pi, Unsafe.Add(ref g, i));
            pi = MathF.FusedMultiplyAdd(nlr, d, pi);
        }
    }
}
