namespace Flock.Optimizers.Schedules;

/// <summary>
/// A learning-rate schedule: the effective learning rate as a pure function of the base rate and
/// the round (0-based). Stateless and shared by all nodes; pass its result to
/// <see cref="IOptimizer.Step(Span{float}, Span{float}, Span{float}, long, float)"/>.
/// Closed forms follow PyTorch's <c>torch.optim.lr_scheduler</c> stepped once per round.
/// </summary>
public interface ILearningRateSchedule
{
    /// <summary>Name in the registry (e.g. "cosine").</summary>
    string Name { get; }

    /// <summary>The hyper-parameters of this instance.</summary>
    IReadOnlyList<HyperParameter> HyperParameters { get; }

    /// <summary>The learning rate in round <paramref name="round"/> (0-based; round 0 gives the base rate).</summary>
    /// <param name="baseLearningRate">The optimizer's base rate (<see cref="IOptimizer.LearningRate"/>).</param>
    /// <param name="round">0-based round (or epoch) index.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="round"/> is negative.</exception>
    float LearningRate(float baseLearningRate, long round);
}

internal static class ScheduleCheck
{
    public static void Round(long round)
    {
        if (round < 0) throw new ArgumentOutOfRangeException(nameof(round), round, $"Invalid round: {round}; rounds are 0-based (must be ≥ 0).");
    }

    public static float Gamma(float gamma, string paramName)
    {
        if (!(gamma > 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(paramName, gamma, $"Invalid gamma: {gamma}; must be in (0, 1].");
        return gamma;
    }
}
