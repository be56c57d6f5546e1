namespace Flock.Protocols;

/// <summary>Outcome of a <see cref="TrainingJob"/>.</summary>
/// <param name="Round">The job's round (its random-stream key).</param>
/// <param name="Steps">Local steps taken.</param>
/// <param name="MeanLoss">Mean minibatch training loss over the steps (NaN for 0 steps).</param>
/// <param name="Snapshot">A copy of the trained parameters when the job was asked for one (<see cref="TrainingJob.SnapshotParameters"/>), else null.</param>
public readonly record struct TrainingResult(long Round, int Steps, double MeanLoss, float[]? Snapshot = null);
