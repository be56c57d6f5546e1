using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Optimizers;

/// <summary>
/// Adam with bias correction, optional coupled L2 weight decay and optional AMSGrad, PyTorch
/// <c>torch.optim.Adam</c> semantics: <c>d = g + λ·θ</c>; <c>m ← β1·m + (1 − β1)·d</c>;
/// <c>v ← β2·v + (1 − β2)·d²</c>; (AMSGrad: <c>v̂ ← max(v̂, v)</c>, else <c>v̂ = v</c>);
/// <c>θ ← θ − η/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + ε)</c>.
/// State: <c>[m | v]</c>, plus <c>v̂</c> with AMSGrad (2n or 3n floats).
/// From "Adam: A Method for Stochastic Optimization" (Kingma &amp; Ba, 2015); AMSGrad from
/// "On the Convergence of Adam and Beyond" (Reddi, Kale &amp; Kumar, 2018).
/// </summary>
public sealed class Adam : IOptimizer
{
    /// <summary>Default learning rate.</summary>
    public const float DefaultLearningRate = 1e-3f;

    /// <summary>Default β1.</summary>
    public const float DefaultBeta1 = 0.9f;

    /// <summary>Default β2.</summary>
    public const float DefaultBeta2 = 0.999f;

    /// <summary>Default ε.</summary>
    public const float DefaultEpsilon = 1e-8f;

    private readonly HyperParameter[] _hyperParameters;

    /// <summary>Creates Adam.</summary>
    /// <param name="learningRate">Learning rate η (finite, ≥ 0).</param>
    /// <param name="beta1">First-moment decay β1 in [0, 1).</param>
    /// <param name="beta2">Second-moment decay β2 in [0, 1).</param>
    /// <param name="epsilon">ε added to the denominator (finite, ≥ 0).</param>
    /// <param name="weightDecay">Coupled L2 weight decay λ added to the gradient (finite, ≥ 0); see <see cref="AdamW"/> for the decoupled form.</param>
    /// <param name="amsgrad">Use the running maximum of the second moment (AMSGrad).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public Adam(float learningRate = DefaultLearningRate, float beta1 = DefaultBeta1, float beta2 = DefaultBeta2,
        float epsilon = DefaultEpsilon, float weightDecay = 0f, bool amsgrad = false)
    {
        LearningRate = Check.LearningRate(learningRate, nameof(learningRate));
        Beta1 = Check.Unit(beta1, nameof(beta1), "beta1");
        Beta2 = Check.Unit(beta2, nameof(beta2), "beta2");
        Epsilon = Check.NonNegative(epsilon, nameof(epsilon), "epsilon");
        WeightDecay = Check.NonNegative(weightDecay, nameof(weightDecay), "weight decay");
        AmsGrad = amsgrad;
        _hyperParameters = Describe(LearningRate, Beta1, Beta2, Epsilon, WeightDecay, AmsGrad, 0f, coupled: true);
    }

    internal static HyperParameter[] Describe(float lr, float beta1, float beta2, float eps, float wd, bool amsgrad, float defaultWd, bool coupled) =>
    [
        new("learning_rate", lr, DefaultLearningRate, "Learning rate η; finite, ≥ 0."),
        new("beta1", beta1, DefaultBeta1, "Decay of the first moment (mean of gradients), in [0, 1)."),
        new("beta2", beta2, DefaultBeta2, "Decay of the second moment (mean of squared gradients), in [0, 1)."),
        new("epsilon", eps, DefaultEpsilon, "Added to the denominator for numerical stability; finite, ≥ 0."),
        new("weight_decay", wd, defaultWd, coupled
            ? "Coupled L2 weight decay λ (added to the gradient before the moments); finite, ≥ 0."
            : "Decoupled weight decay λ: θ ← θ·(1 − η·λ) before the Adam step; finite, ≥ 0."),
        new("amsgrad", amsgrad, false, "Normalize by the running maximum of the second moment (AMSGrad)."),
    ];

    /// <summary>Learning rate η.</summary>
    public float LearningRate { get; }

    /// <summary>First-moment decay β1.</summary>
    public float Beta1 { get; }

    /// <summary>Second-moment decay β2.</summary>
    public float Beta2 { get; }

    /// <summary>ε in the denominator.</summary>
    public float Epsilon { get; }

    /// <summary>Coupled L2 weight decay λ.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether AMSGrad is used.</summary>
    public bool AmsGrad { get; }

    /// <inheritdoc />
    public string Name => "adam";

    /// <inheritdoc />
    public IReadOnlyList<HyperParameter> HyperParameters => _hyperParameters;

    /// <summary>Registry description with defaults.</summary>
    public static OptimizerInfo Describe() => new("adam", "Adam: A Method for Stochastic Optimization (Kingma & Ba, 2015); AMSGrad: On the Convergence of Adam and Beyond (Reddi et al., 2018)", new Adam().HyperParameters);

    /// <inheritdoc />
    public int StateLength(int parameterCount) => StateLengthFor(parameterCount, AmsGrad);

    internal static int StateLengthFor(int parameterCount, bool amsgrad)
    {
        long len = (long)Check.ParameterCount(parameterCount) * (amsgrad ? 3 : 2);
        if (len > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, $"Invalid parameter count: {parameterCount}; the Adam state ({len} floats) would not fit in one array.");
        return (int)len;
    }

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step) =>
        Step(parameters, gradient, state, step, LearningRate);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step, float learningRate)
    {
        StepWith(parameters, gradient, state, step, learningRate, Beta1, Beta2, Epsilon, WeightDecay, AmsGrad, decoupled: false);
    }

    internal static void StepWith(Span<float> parameters, Span<float> gradient, Span<float> state, long step, float learningRate,
        float beta1, float beta2, float epsilon, float weightDecay, bool amsgrad, bool decoupled)
    {
        int n = parameters.Length;
        Check.StepArguments(parameters, gradient, state, StateLengthFor(n, amsgrad), step);
        Check.LearningRate(learningRate, nameof(learningRate));
        Update(parameters, gradient, state.Slice(0, n), state.Slice(n, n), amsgrad ? state.Slice(2 * n, n) : Span<float>.Empty,
            step, learningRate, beta1, beta2, epsilon, weightDecay, decoupled);
    }

    /// <summary>
    /// The Adam / AdamW kernel: one fused SIMD pass over θ, g, m, v (and v̂). No validation of the
    /// hyper-parameters. AMSGrad is on when <paramref name="maxSecondMoment"/> is not empty.
    /// </summary>
    /// <param name="parameters">θ, updated in place.</param>
    /// <param name="gradient">g.</param>
    /// <param name="firstMoment">m (zeros before step 1), updated in place.</param>
    /// <param name="secondMoment">v (zeros before step 1), updated in place.</param>
    /// <param name="maxSecondMoment">v̂ for AMSGrad (zeros before step 1), updated in place; empty for plain Adam.</param>
    /// <param name="step">1-based step t, for the bias corrections.</param>
    /// <param name="learningRate">η.</param>
    /// <param name="beta1">β1.</param>
    /// <param name="beta2">β2.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="weightDecay">λ (0 for none).</param>
    /// <param name="decoupledWeightDecay">AdamW: <c>θ ← θ·(1 − η·λ)</c> first, instead of adding λ·θ to the gradient.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is less than 1.</exception>
    public static void Update(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> firstMoment, Span<float> secondMoment,
        Span<float> maxSecondMoment, long step, float learningRate, float beta1, float beta2, float epsilon, float weightDecay,
        bool decoupledWeightDecay)
    {
        int n = parameters.Length;
        Check.SameLength(n, gradient.Length, nameof(gradient), "gradient");
        Check.SameLength(n, firstMoment.Length, nameof(firstMoment), "first moment");
        Check.SameLength(n, secondMoment.Length, nameof(secondMoment), "second moment");
        bool ams = !maxSecondMoment.IsEmpty;
        if (ams) Check.SameLength(n, maxSecondMoment.Length, nameof(maxSecondMoment), "AMSGrad maximum");
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, $"Invalid step: {step}; steps are 1-based (must be ≥ 1).");

        // Scalars as PyTorch computes them (double, then float when applied to float tensors).
        float coupled = decoupledWeightDecay ? 0f : weightDecay;
        float decay = decoupledWeightDecay ? (float)(1.0 - (double)learningRate * weightDecay) : 1f;
        float c1 = (float)(1.0 - beta1), c2 = (float)(1.0 - beta2);
        double bc1 = 1.0 - Math.Pow(beta1, step);
        float negStepSize = (float)(-(learningRate / bc1));
        float bc2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(beta2, step));

        int i = 0;
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradient);
        ref float m = ref MemoryMarshal.GetReference(firstMoment);
        ref float v = ref MemoryMarshal.GetReference(secondMoment);
        ref float vm = ref MemoryMarshal.GetReference(maxSecondMoment);
        if (Vector512.IsHardwareAccelerated)
        {
            var vDecay = Vector512.Create(decay);
            var vCoupled = Vector512.Create(coupled);
            var vB1 = Vector512.Create(beta1);
            var vB2 = Vector512.Create(beta2);
            var vC1 = Vector512.Create(c1);
            var vC2 = Vector512.Create(c2);
            var vBc2 = Vector512.Create(bc2Sqrt);
            var vEps = Vector512.Create(epsilon);
            var vNss = Vector512.Create(negStepSize);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var pv = Vector512.LoadUnsafe(ref p, (nuint)i) * vDecay;
                var d = Vector512.FusedMultiplyAdd(vCoupled, pv, Vector512.LoadUnsafe(ref g, (nuint)i));
                var mv = Vector512.FusedMultiplyAdd(vC1, d, vB1 * Vector512.LoadUnsafe(ref m, (nuint)i));
                var vv = Vector512.FusedMultiplyAdd(vC2 * d, d, vB2 * Vector512.LoadUnsafe(ref v, (nuint)i));
                mv.StoreUnsafe(ref m, (nuint)i);
                vv.StoreUnsafe(ref v, (nuint)i);
                if (ams)
                {
                    vv = Vector512.Max(Vector512.LoadUnsafe(ref vm, (nuint)i), vv);
                    vv.StoreUnsafe(ref vm, (nuint)i);
                }
                var denom = Vector512.Sqrt(vv) / vBc2 + vEps;
                (pv + vNss * mv / denom).StoreUnsafe(ref p, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vDecay = Vector256.Create(decay);
            var vCoupled = Vector256.Create(coupled);
            var vB1 = Vector256.Create(beta1);
            var vB2 = Vector256.Create(beta2);
            var vC1 = Vector256.Create(c1);
            var vC2 = Vector256.Create(c2);
            var vBc2 = Vector256.Create(bc2Sqrt);
            var vEps = Vector256.Create(epsilon);
            var vNss = Vector256.Create(negStepSize);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var pv = Vector256.LoadUnsafe(ref p, (nuint)i) * vDecay;
                var d = Vector256.FusedMultiplyAdd(vCoupled, pv, Vector256.LoadUnsafe(ref g, (nuint)i));
                var mv = Vector256.FusedMultiplyAdd(vC1, d, vB1 * Vector256.LoadUnsafe(ref m, (nuint)i));
                var vv = Vector256.FusedMultiplyAdd(vC2 * d, d, vB2 * Vector256.LoadUnsafe(ref v, (nuint)i));
                mv.StoreUnsafe(ref m, (nuint)i);
                vv.StoreUnsafe(ref v, (nuint)i);
                if (ams)
                {
                    vv = Vector256.Max(Vector256.LoadUnsafe(ref vm, (nuint)i), vv);
                    vv.StoreUnsafe(ref vm, (nuint)i);
                }
                var denom = Vector256.Sqrt(vv) / vBc2 + vEps;
                (pv + vNss * mv / denom).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float pv = Unsafe.Add(ref p, i) * decay;
            float d = MathF.FusedMultiplyAdd(coupled, pv, Unsafe.Add(ref g, i));
            ref float mi = ref Unsafe.Add(ref m, i);
            ref float vi = ref Unsafe.Add(ref v, i);
            mi = MathF.FusedMultiplyAdd(c1, d, beta1 * mi);
            vi = MathF.FusedMultiplyAdd(c2 * d, d, beta2 * vi);
            float vh = vi;
            if (ams)
            {
                ref float vmi = ref Unsafe.Add(ref vm, i);
                vh = vmi = MathF.Max(vmi, vi);
            }
            float denom = MathF.Sqrt(vh) / bc2Sqrt + epsilon;
            Unsafe.Add(ref p, i) = pv + negStepSize * mi / denom;
        }
    }
}
