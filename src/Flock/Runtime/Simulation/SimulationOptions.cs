namespace Flock.Runtime.Simulation;

/// <summary>Everything about a simulated run that is not a node behaviour.</summary>
public sealed class SimulationOptions
{
    /// <summary>The experiment seed; every random draw derives from it.</summary>
    public ulong Seed { get; init; }

    /// <summary>Virtual cost of training (default: free).</summary>
    public ComputeModel Compute { get; init; } = ComputeModel.Free;

    /// <summary>Message transport (default: instant, lossless).</summary>
    public LinkModel Link { get; init; } = LinkModel.Ideal;

    /// <summary>Failures (default: none).</summary>
    public FaultSchedule Faults { get; init; } = FaultSchedule.None;

    /// <summary>Evaluation cadence and test set.</summary>
    public MetricsOptions Metrics { get; init; } = new();

    /// <summary>Stop once the global round reaches this (0: no limit).</summary>
    public long MaxRounds { get; init; }

    /// <summary>Stop before the first event later than this virtual time (infinity: no limit).</summary>
    public double MaxTime { get; init; } = double.PositiveInfinity;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Compute);
        ArgumentNullException.ThrowIfNull(Link);
        ArgumentNullException.ThrowIfNull(Faults);
        ArgumentNullException.ThrowIfNull(Metrics);
        if (MaxRounds < 0) throw new ArgumentException($"Invalid round limit: {MaxRounds}; must be ≥ 0 (0 = none).", nameof(MaxRounds));
        if (!(MaxTime >= 0)) throw new ArgumentException($"Invalid time limit: {MaxTime} s; must be ≥ 0 (infinity = none).", nameof(MaxTime));
        Metrics.Validate();
    }
}

/// <summary>Why <see cref="Simulator.Run"/> returned.</summary>
public enum StopReason
{
    /// <summary>The global round reached <see cref="SimulationOptions.MaxRounds"/>.</summary>
    RoundsReached,

    /// <summary>The next event is later than <see cref="SimulationOptions.MaxTime"/>.</summary>
    TimeReached,

    /// <summary>No events left.</summary>
    Idle,

    /// <summary>The cancellation token fired; the state is consistent and can be checkpointed or run further.</summary>
    Cancelled,
}

/// <summary>Progress after a global round or a time tick (for progress bars).</summary>
/// <param name="Round">Global round reached.</param>
/// <param name="MaxRounds">Round limit (0: none).</param>
/// <param name="VirtualTime">Current virtual time.</param>
/// <param name="MaxTime">Time limit (infinity: none).</param>
/// <param name="WallSeconds">Wall seconds so far.</param>
/// <param name="Row">The row recorded at this point, if any.</param>
public readonly record struct SimulationProgress(long Round, long MaxRounds, double VirtualTime, double MaxTime, double WallSeconds, MetricsRow? Row)
{
    /// <summary>Fraction of the run done (by rounds if limited, else by time; NaN if unbounded).</summary>
    public double Fraction =>
        MaxRounds > 0 ? Math.Clamp((double)Math.Max(Round, 0) / MaxRounds, 0, 1)
        : double.IsFinite(MaxTime) && MaxTime > 0 ? Math.Clamp(VirtualTime / MaxTime, 0, 1) : double.NaN;
}

/// <summary>Outcome of <see cref="Simulator.Run"/>.</summary>
/// <param name="Reason">Why the run stopped.</param>
/// <param name="Round">Global round reached (−1 if none).</param>
/// <param name="VirtualTime">Virtual time of the last processed event.</param>
/// <param name="WallSeconds">Wall seconds (summed over resumed segments).</param>
/// <param name="BytesSent">Total bytes sent.</param>
/// <param name="MessagesSent">Total messages sent.</param>
/// <param name="MessagesLost">Total messages lost.</param>
/// <param name="RowsRecorded">Metrics rows recorded since the run began (including before a resume).</param>
public readonly record struct SimulationResult(StopReason Reason, long Round, double VirtualTime, double WallSeconds,
    long BytesSent, long MessagesSent, long MessagesLost, long RowsRecorded);

/// <summary>Where the event loop's wall time went (for measuring simulator overhead).</summary>
/// <param name="Events">Events processed.</param>
/// <param name="JobsStarted">Training jobs started.</param>
/// <param name="LoopSeconds">Wall seconds inside <see cref="Simulator.Run"/>.</param>
/// <param name="CallbackSeconds">Wall seconds in behaviour callbacks (protocol logic, aggregation, snapshots).</param>
/// <param name="JobWaitSeconds">Wall seconds the loop waited for (or ran inline) training jobs.</param>
/// <param name="EvaluationSeconds">Wall seconds the loop spent evaluating or waiting for evaluations.</param>
/// <param name="AggregationSeconds">Wall seconds of callbacks spent in aggregation kernels, as protocols report them (<see cref="Flock.Protocols.INodeContext.AddAggregationTime"/>).</param>
public readonly record struct SimulationStatistics(long Events, long JobsStarted, double LoopSeconds, double CallbackSeconds, double JobWaitSeconds, double EvaluationSeconds, double AggregationSeconds = 0)
{
    /// <summary>Loop time spent on none of: waiting for training jobs, evaluation, aggregation kernels — the simulator's own overhead (plus protocol bookkeeping).</summary>
    public double OverheadSeconds => Math.Max(0, LoopSeconds - JobWaitSeconds - EvaluationSeconds - AggregationSeconds);
}
