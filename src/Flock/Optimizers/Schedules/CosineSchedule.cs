namespace Flock.Optimizers.Schedules;

/// <summary>
/// Cosine annealing without restarts (PyTorch <c>CosineAnnealingLR</c> closed form):
/// <c>η_r = η_min + (η − η_min)·(1 + cos(π·r/T))/2</c> for r ≤ T, and η_min after T rounds.
/// From "SGDR: Stochastic Gradient Descent with Warm Restarts" (Loshchilov &amp; Hutter, 2017).
/// </summary>
public sealed class CosineSchedule : ILearningRateSchedule
{
    /// <summary>Default T (set it to the run's number of rounds).</summary>
    public const long DefaultTotalRounds = 100;

    private readonly HyperParameter[] _hyperParameters;

    /// <summary>Creates a cosine schedule.</summary>
    /// <param name="totalRounds">Rounds T to anneal over (≥ 1).</param>
    /// <param name="minLearningRate">Final learning rate η_min (finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public CosineSchedule(long totalRounds = DefaultTotalRounds, float minLearningRate = 0f)
    {
        if (totalRounds < 1) throw new ArgumentOutOfRangeException(nameof(totalRounds), totalRounds, $"Invalid total rounds: {totalRounds}; must be ≥ 1.");
        TotalRounds = totalRounds;
        MinLearningRate = Check.NonNegative(minLearningRate, nameof(minLearningRate), "minimum learning rate");
        _hyperParameters =
        [
            new("total_rounds", TotalRounds, DefaultTotalRounds, "Rounds T to anneal over (usually the run's length); ≥ 1."),
            new("min_learning_rate", MinLearningRate, 0f, "Learning rate reached after total_rounds; finite, ≥ 0."),
        ];
    }

    /// <summary>Rounds T to anneal over.</summary>
    public long TotalRounds { get; }

    /// <summary>Final learning rate η_min.</summary>
    public float MinLearningRate { get; }

    /// <inheritdoc />
    public string Name => "cosine";

    /// <inheritdoc />
    public IReadOnlyList<HyperParameter> HyperParameters => _hyperParameters;

    /// <summary>Registry description with defaults.</summary>
    public static OptimizerInfo Describe() => new("cosine", "SGDR: Stochastic Gradient Descent with Warm Restarts (Loshchilov & Hutter, 2017)", new CosineSchedule().HyperParameters);

    /// <inheritdoc />
    public float LearningRate(float baseLearningRate, long round)
    {
        ScheduleCheck.Round(round);
        if (round >= TotalRounds) return MinLearningRate;
        double t = (double)round / TotalRounds;
        return (float)(MinLearningRate + (baseLearningRate - (double)MinLearningRate) * (1 + Math.Cos(Math.PI * t)) / 2);
    }
}
