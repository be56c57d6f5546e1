using Flock.Protocols;

namespace Flock.Runtime.Simulation;

/// <summary>
/// Virtual-time cost of local training: a job costs <c>CostSteps × step time × node speed factor</c>
/// seconds, where the step time is either a fixed number of seconds or derived from the model's
/// FLOPs (forward + backward ≈ 3 × forward FLOPs per example × batch size / FLOP rate).
/// </summary>
public sealed class ComputeModel
{
    /// <summary>Training takes no virtual time.</summary>
    public static ComputeModel Free { get; } = new(0);

    /// <summary>Each step takes <paramref name="secondsPerStep"/> virtual seconds (times the node's speed factor).</summary>
    /// <param name="secondsPerStep">Seconds per minibatch step (≥ 0).</param>
    /// <param name="speed">Per-node speed factors (default: all 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="secondsPerStep"/> is negative or not finite.</exception>
    public ComputeModel(double secondsPerStep, SpeedDistribution? speed = null)
    {
        if (!(secondsPerStep >= 0) || !double.IsFinite(secondsPerStep))
            throw new ArgumentOutOfRangeException(nameof(secondsPerStep), secondsPerStep, $"Invalid step time: {secondsPerStep} s; must be finite and ≥ 0.");
        SecondsPerStep = secondsPerStep;
        Speed = speed ?? SpeedDistribution.Constant();
    }

    private ComputeModel(double flopsPerSecond, SpeedDistribution? speed, bool _)
    {
        FlopsPerSecond = flopsPerSecond;
        Speed = speed ?? SpeedDistribution.Constant();
    }

    /// <summary>A step costs <c>3 × FlopsPerExample × BatchSize / flopsPerSecond</c> seconds (times the node's speed factor).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="flopsPerSecond"/> is not finite and positive.</exception>
    public static ComputeModel FromFlops(double flopsPerSecond, SpeedDistribution? speed = null)
    {
        if (!(flopsPerSecond > 0) || !double.IsFinite(flopsPerSecond))
            throw new ArgumentOutOfRangeException(nameof(flopsPerSecond), flopsPerSecond, $"Invalid FLOP rate: {flopsPerSecond}; must be finite and > 0.");
        return new ComputeModel(flopsPerSecond, speed, true);
    }

    /// <summary>Fixed seconds per step (used when <see cref="FlopsPerSecond"/> is 0).</summary>
    public double SecondsPerStep { get; }

    /// <summary>FLOP rate of a speed-1 node, or 0 for a fixed step time.</summary>
    public double FlopsPerSecond { get; }

    /// <summary>How per-node speed factors are drawn.</summary>
    public SpeedDistribution Speed { get; }

    /// <summary>Seconds of one step of <paramref name="job"/> on a speed-1 node.</summary>
    public double StepSeconds(TrainingJob job) =>
        FlopsPerSecond > 0 ? 3.0 * job.Learner.FlopsPerExample * job.BatchSize / FlopsPerSecond : SecondsPerStep;

    /// <summary>Virtual seconds <paramref name="job"/> takes on a node with speed factor <paramref name="speedFactor"/>.</summary>
    public double JobSeconds(TrainingJob job, double speedFactor) => job.CostSteps * StepSeconds(job) * speedFactor;
}
