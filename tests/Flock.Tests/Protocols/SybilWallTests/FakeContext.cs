using Flock.Protocols;
using Flock.Tensors;

namespace Flock.Tests.Protocols.SybilWallTests;

/// <summary>A hand-driven <see cref="INodeContext"/>: records sends, jobs and rounds; the test delivers events itself.</summary>
public sealed class FakeContext(int nodeId, ulong seed = 1) : INodeContext
{
    private long _timers;

    /// <summary>Messages sent, in order.</summary>
    public List<(int To, Message Message)> Sent { get; } = new();

    /// <summary>Training jobs started, in order.</summary>
    public List<TrainingJob> Jobs { get; } = new();

    /// <summary>Rounds completed, in order.</summary>
    public List<long> Completed { get; } = new();

    /// <inheritdoc />
    public int NodeId => nodeId;

    /// <inheritdoc />
    public double Now { get; set; }

    /// <inheritdoc />
    public Rng DeriveRng(string purpose, long round) => Rng.Derive(seed, (ulong)nodeId, (ulong)round, purpose);

    /// <inheritdoc />
    public void Send(int to, Message message) => Sent.Add((to, message));

    /// <inheritdoc />
    public long SetTimer(double delay, string name, long value = 0) => ++_timers;

    /// <inheritdoc />
    public void CancelTimer(long timerId) { }

    /// <summary>Runs the job at once (on this thread) and records it; the test calls OnTrainingFinished.</summary>
    public void StartTraining(TrainingJob job)
    {
        Jobs.Add(job);
        job.Begin();
        try { job.Execute(seed, nodeId); }
        finally { job.End(); }
    }

    /// <inheritdoc />
    public void CompleteRound(long round, bool succeeded = true) => Completed.Add(round);
}
