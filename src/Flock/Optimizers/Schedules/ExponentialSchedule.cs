namespace Flock.Optimizers.Schedules;

/// <summary>Exponential decay per round (PyTorch <c>ExponentialLR</c>): <c>η_r = η·γ^r</c>.</summary>
public sealed class ExponentialSchedule : ILearningRateSchedule
{
    /// <summary>Default decay factor γ.</summary>
    public const float DefaultGamma = 0.99f;

    private readonly HyperParameter[] _hyperParameters;

    /// <summary>Creates an exponential schedule.</summary>
    /// <param name="gamma">Factor γ in (0, 1] applied every round.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> is out of range.</exception>
    public ExponentialSchedule(float gamma = DefaultGamma)
    {
        Gamma = ScheduleCheck.Gamma(gamma, nameof(gamma));
        _hyperParameters = [new("gamma", Gamma, DefaultGamma, "Factor applied every round, in (0, 1].")];
    }

    /// <summary>Decay factor γ.</summary>
    public float Gamma { get; }

    /// <inheritdoc />
    public string Name => "exponential";

    /// <inheritdoc />
    public IReadOnlyList<HyperParameter> HyperParameters => _hyperParameters;

    /// <summary>Registry description with defaults.</summary>
    public static OptimizerInfo Describe() => new("exponential", "(standard)", new ExponentialSchedule().HyperParameters);

    /// <inheritdoc />
    public float LearningRate(float baseLearningRate, long round)
    {
        ScheduleCheck.Round(round);
        return (float)(baseLearningRate * Math.Pow(Gamma, round));
    }
}
