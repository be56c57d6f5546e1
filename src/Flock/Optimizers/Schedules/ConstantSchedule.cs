namespace Flock.Optimizers.Schedules;

/// <summary>The constant schedule: the base learning rate in every round.</summary>
public sealed class ConstantSchedule : ILearningRateSchedule
{
    /// <inheritdoc />
    public string Name => "constant";

    /// <inheritdoc />
    public IReadOnlyList<HyperParameter> HyperParameters => [];

    /// <summary>Registry description.</summary>
    public static OptimizerInfo Describe() => new("constant", "(standard)", []);

    /// <inheritdoc />
    public float LearningRate(float baseLearningRate, long round)
    {
        ScheduleCheck.Round(round);
        return baseLearningRate;
    }
}
