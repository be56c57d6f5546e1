using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Optimizers;

/// <summary>
/// SGD with momentum, PyTorch <c>torch.optim.SGD</c> semantics: <c>d = g + λ·θ</c>;
/// <c>buf = d</c> on the first step, else <c>buf ← μ·buf + (1 − τ)·d</c>; heavy ball steps along
/// <c>buf</c>, Nesterov along <c>d + μ·buf</c>; <c>θ ← θ − η·step</c>. State: the momentum buffer
/// (n floats). Heavy ball from "Some methods of speeding up the convergence of iteration methods"
/// (Polyak, 1964); Nesterov form from "On the importance of initialization and momentum in deep
/// learning" (Sutskever, Martens, Dahl &amp; Hinton, 2013).
/// </summary>
public sealed class MomentumSgd : IOptimizer
{
    /// <summary>Default learning rate.</summary>
    public const float DefaultLearningRate = 0.01f;

    /// <summary>Default momentum μ.</summary>
    public const float DefaultMomentum = 0.9f;

    private readonly HyperParameter[] _hyperParameters;

    /// <summary>Creates momentum SGD.</summary>
    /// <param name="learningRate">Learning rate η (finite, ≥ 0).</param>
    /// <param name="momentum">Momentum μ in [0, 1); 0 makes this plain SGD (the buffer is left untouched).</param>
    /// <param name="dampening">Dampening τ in [0, 1]: the new gradient enters the buffer with weight 1 − τ (not on the first step).</param>
    /// <param name="nesterov">Use Nesterov momentum (needs μ &gt; 0 and τ = 0).</param>
    /// <param name="weightDecay">Coupled L2 weight decay λ added to the gradient (finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    /// <exception cref="ArgumentException">Nesterov with μ = 0 or τ ≠ 0.</exception>
    public MomentumSgd(float learningRate = DefaultLearningRate, float momentum = DefaultMomentum, float dampening = 0f, bool nesterov = false, float weightDecay = 0f)
    {
        LearningRate = Check.LearningRate(learningRate, nameof(learningRate));
        Momentum = Check.Unit(momentum, nameof(momentum), "momentum");
        Dampening = Check.Unit(dampening, nameof(dampening), "dampening", includeOne: true);
        WeightDecay = Check.NonNegative(weightDecay, nameof(weightDecay), "weight decay");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"Nesterov momentum requires a momentum > 0 and zero dampening; got momentum {momentum}, dampening {dampening}.", nameof(nesterov));
        Nesterov = nesterov;
        _hyperParameters =
        [
            new("learning_rate", LearningRate, DefaultLearningRate, "Learning rate η; finite, ≥ 0."),
            new("momentum", Momentum, DefaultMomentum, "Momentum μ in [0, 1)."),
            new("dampening", Dampening, 0f, "Dampening τ in [0, 1]: the gradient enters the buffer with weight 1 − τ."),
            new("nesterov", Nesterov, false, "Nesterov momentum (needs momentum > 0 and dampening 0)."),
            new("weight_decay", WeightDecay, 0f, "Coupled L2 weight decay λ (added to the gradient); finite, ≥ 0."),
        ];
    }

    /// <summary>Learning rate η.</summary>
    public float LearningRate { get; }

    /// <summary>Momentum μ.</summary>
    public float Momentum { get; }

    /// <summary>Dampening τ.</summary>
    public float Dampening { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <summary>Coupled L2 weight decay λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public string Name => "momentum";

    /// <inheritdoc />
    public IReadOnlyList<HyperParameter> HyperParameters => _hyperParameters;

    /// <summary>Registry description with defaults.</summary>
    public static OptimizerInfo Describe() => new("momentum", "Some methods of speeding up the convergence of iteration methods (Polyak, 1964); Nesterov: On the importance of initialization and momentum in deep learning (Sutskever et al., 2013)", new MomentumSgd().HyperParameters);

    /// <inheritdoc />
    public int StateLength(int parameterCount) => Check.ParameterCount(parameterCount);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step) =>
        Step(parameters, gradient, state, step, LearningRate);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step, float learningRate)
    {
        Check.StepArguments(parameters, gradient, state, parameters.Length, step);
        Check.LearningRate(learningRate, nameof(learningRate));
        Update(parameters, gradient, state, step, learningRate, Momentum, Dampening, Nesterov, WeightDecay);
    }

    /// <summary>
    /// The momentum-SGD kernel (one fused SIMD pass). No validation of the hyper-parameters.
    /// With <paramref name="momentum"/> 0 it is plain SGD and the buffer is not touched (as in PyTorch).
    /// </summary>
    /// <param name="parameters">θ, updated in place.</param>
    /// <param name="gradient">g.</param>
    /// <param name="buffer">Momentum buffer (zeros before step 1), updated in place.</param>
    /// <param name="step">1-based step; on step 1 the buffer is set to the (decayed) gradient.</param>
    /// <param name="learningRate">η.</param>
    /// <param name="momentum">μ.</param>
    /// <param name="dampening">τ.</param>
    /// <param name="nesterov">Step along <c>d + μ·buf</c> instead of <c>buf</c>.</param>
    /// <param name="weightDecay">Coupled weight decay λ (0 for none).</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Update(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> buffer, long step,
        float learningRate, float momentum, float dampening, bool nesterov, float weightDecay)
    {
        Check.SameLength(parameters.Length, gradient.Length, nameof(gradient), "gradient");
        Check.SameLength(parameters.Length, buffer.Length, nameof(buffer), "momentum buffer");
        if (momentum == 0f)
        {
            Sgd.Update(parameters, gradient, learningRate, weightDecay);
            return;
        }
        bool first = step <= 1;
        float add = (float)(1.0 - dampening);                    // buf ← μ·buf + (1 − τ)·d, or d on step 1
        float nlr = -learningRate;
        int n = parameters.Length, i = 0;
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradient);
        ref float b = ref MemoryMarshal.GetReference(buffer);
        if (Vector512.IsHardwareAccelerated)
        {
            var vwd = Vector512.Create(weightDecay);
            var vmu = Vector512.Create(momentum);
            var vadd = Vector512.Create(add);
            var vnlr = Vector512.Create(nlr);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var pv = Vector512.LoadUnsafe(ref p, (nuint)i);
                var d = Vector512.FusedMultiplyAdd(vwd, pv, Vector512.LoadUnsafe(ref g, (nuint)i));
                var bv = first ? d : Vector512.FusedMultiplyAdd(vadd, d, vmu * Vector512.LoadUnsafe(ref b, (nuint)i));
                bv.StoreUnsafe(ref b, (nuint)i);
                var s = nesterov ? Vector512.FusedMultiplyAdd(vmu, bv, d) : bv;
                Vector512.FusedMultiplyAdd(vnlr, s, pv).StoreUnsafe(ref p, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vwd = Vector256.Create(weightDecay);
            var vmu = Vector256.Create(momentum);
            var vadd = Vector256.Create(add);
            var vnlr = Vector256.Create(nlr);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var pv = Vector256.LoadUnsafe(ref p, (nuint)i);
                var d = Vector256.FusedMultiplyAdd(vwd, pv, Vector256.LoadUnsafe(ref g, (nuint)i));
                var bv = first ? d : Vector256.FusedMultiplyAdd(vadd, d, vmu * Vector256.LoadUnsafe(ref b, (nuint)i));
                bv.StoreUnsafe(ref b, (nuint)i);
                var s = nesterov ? Vector256.FusedMultiplyAdd(vmu, bv, d) : bv;
                Vector256.FusedMultiplyAdd(vnlr, s, pv).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            ref float pi = ref Unsafe.Add(ref p, i);
            ref float bi = ref Unsafe.Add(ref b, i);
            float d = MathF.FusedMultiplyAdd(weightDecay, pi, Unsafe.Add(ref g, i));
            bi = first ? d : MathF.FusedMultiplyAdd(add, d, momentum * bi);
            float s = nesterov ? MathF.FusedMultiplyAdd(momentum, bi, d) : bi;
            pi = MathF.FusedMultiplyAdd(nlr, s, pi);
        }
    }
}
