namespace Flock.Optimizers.Schedules;

/// <summary>Step decay (PyTorch <c>StepLR</c>): <c>η_r = η·γ^⌊r / s⌋</c>.</summary>
public sealed class StepDecaySchedule : ILearningRateSchedule
{
    /// <summary>Default decay factor γ.</summary>
    public const float DefaultGamma = 0.1f;

    /// <summary>Default step size s in rounds.</summary>
    public const int DefaultStepSize = 30;

    private readonly HyperParameter[] _hyperParameters;

    /// <summary>Creates a step-decay schedule.</summary>
    /// <param name="stepSize">Rounds s between decays (≥ 1).</param>
    /// <param name="gamma">Factor γ in (0, 1] applied every <paramref name="stepSize"/> rounds.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public StepDecaySchedule(int stepSize = DefaultStepSize, float gamma = DefaultGamma)
    {
        if (stepSize < 1) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, $"Invalid step size: {stepSize}; must be ≥ 1 round.");
        StepSize = stepSize;
        Gamma = ScheduleCheck.Gamma(gamma, nameof(gamma));
        _hyperParameters =
        [
            new("step_size", StepSize, DefaultStepSize, "Rounds between decays; ≥ 1."),
            new("gamma", Gamma, DefaultGamma, "Factor applied every step_size rounds, in (0, 1]."),
        ];
    }

    /// <summary>Rounds between decays.</summary>
    public int StepSize { get; }

    /// <summary>Decay factor γ.</summary>
    public float Gamma { get; }

    /// <inheritdoc />
    public string Name => "step";

    /// <inheritdoc />
    public IReadOnlyList<HyperParameter> HyperParameters => _hyperParameters;

    /// <summary>Registry description with defaults.</summary>
    public static OptimizerInfo Describe() => new("step", "(standard)", new StepDecaySchedule().HyperParameters);

    /// <inheritdoc />
    public float LearningRate(float baseLearningRate, long round)
    {
        ScheduleCheck.Round(round);
        return (float)(baseLearningRate * Math.Pow(Gamma, round / StepSize));
    }
}
