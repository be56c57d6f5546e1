namespace Flock.Optimizers;

/// <summary>
/// Adam with decoupled weight decay, PyTorch <c>torch.optim.AdamW</c> semantics:
/// <c>θ ← θ·(1 − η·λ)</c>, then the Adam step of <see cref="Adam"/> on the raw gradient (λ is not
/// added to the gradient). The effective (scheduled) learning rate scales the decay too.
/// State: <c>[m | v]</c>, plus <c>v̂</c> with AMSGrad. From "Decoupled Weight Decay
/// Regularization" (Loshchilov &amp; Hutter, 2019).
/// </summary>
public sealed class AdamW : IOptimizer
{
    /// <summary>Default decoupled weight decay λ (PyTorch's).</summary>
    public const float DefaultWeightDecay = 0.01f;

    private readonly HyperParameter[] _hyperParameters;

    /// <summary>Creates AdamW.</summary>
    /// <param name="learningRate">Learning rate η (finite, ≥ 0).</param>
    /// <param name="beta1">First-moment decay β1 in [0, 1).</param>
    /// <param name="beta2">Second-moment decay β2 in [0, 1).</param>
    /// <param name="epsilon">ε added to the denominator (finite, ≥ 0).</param>
    /// <param name="weightDecay">Decoupled weight decay λ (finite, ≥ 0).</param>
    /// <param name="amsgrad">Use the running maximum of the second moment (AMSGrad).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public AdamW(float learningRate = Adam.DefaultLearningRate, float beta1 = Adam.DefaultBeta1, float beta2 = Adam.DefaultBeta2,
        float epsilon = Adam.DefaultEpsilon, float weightDecay = DefaultWeightDecay, bool amsgrad = false)
    {
        LearningRate = Check.LearningRate(learningRate, nameof(learningRate));
        Beta1 = Check.Unit(beta1, nameof(beta1), "beta1");
        Beta2 = Check.Unit(beta2, nameof(beta2), "beta2");
        Epsilon = Check.NonNegative(epsilon, nameof(epsilon), "epsilon");
        WeightDecay = Check.NonNegative(weightDecay, nameof(weightDecay), "weight decay");
        AmsGrad = amsgrad;
        _hyperParameters = Adam.Describe(LearningRate, Beta1, Beta2, Epsilon, WeightDecay, AmsGrad, DefaultWeightDecay, coupled: false);
    }

    /// <summary>Learning rate η.</summary>
    public float LearningRate { get; }

    /// <summary>First-moment decay β1.</summary>
    public float Beta1 { get; }

    /// <summary>Second-moment decay β2.</summary>
    public float Beta2 { get; }

    /// <summary>ε in the denominator.</summary>
    public float Epsilon { get; }

    /// <summary>Decoupled weight decay λ.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether AMSGrad is used.</summary>
    public bool AmsGrad { get; }

    /// <inheritdoc />
    public string Name => "adamw";

    /// <inheritdoc />
    public IReadOnlyList<HyperParameter> HyperParameters => _hyperParameters;

    /// <summary>Registry description with defaults.</summary>
    public static OptimizerInfo Describe() => new("adamw", "Decoupled Weight Decay Regularization (Loshchilov & Hutter, 2019)", new AdamW().HyperParameters);

    /// <inheritdoc />
    public int StateLength(int parameterCount) => Adam.StateLengthFor(parameterCount, AmsGrad);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step) =>
        Step(parameters, gradient, state, step, LearningRate);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step, float learningRate) =>
        Adam.StepWith(parameters, gradient, state, step, learningRate, Beta1, Beta2, Epsilon, WeightDecay, AmsGrad, decoupled: true);
}
