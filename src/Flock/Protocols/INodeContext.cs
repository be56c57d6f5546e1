using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>
/// What a node behaviour may ask of its host (the simulator, later a gRPC or Orleans host). It is
/// the behaviour's only window on the world: it knows its own id and the time, derives random
/// generators, sends messages, sets timers, starts local training and reports finished rounds.
/// Only valid inside a callback of <see cref="INodeBehavior"/> for this node.
/// </summary>
public interface INodeContext
{
    /// <summary>This node's id (0-based).</summary>
    int NodeId { get; }

    /// <summary>Current time in seconds (virtual time in the simulator).</summary>
    double Now { get; }

    /// <summary>
    /// A fresh generator for (experiment seed, this node, <paramref name="round"/>, <paramref name="purpose"/>)
    /// (<see cref="Rng.Derive"/>). Behaviours derive a new one per use instead of keeping generators
    /// across callbacks, so their state needs no generator state to be checkpointed.
    /// </summary>
    Rng DeriveRng(string purpose, long round);

    /// <summary>
    /// Sends <paramref name="message"/> to node <paramref name="to"/>. Delivery may be delayed, lost
    /// (crashed receiver, failed link, drop) or never happen; the sender is not told.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="to"/> is not a node id.</exception>
    void Send(int to, Message message);

    /// <summary>
    /// Schedules <see cref="INodeBehavior.OnTimer"/> after <paramref name="delay"/> seconds. Returns the
    /// timer's id (for <see cref="CancelTimer"/>). A crash cancels every pending timer of the node.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative or not finite.</exception>
    long SetTimer(double delay, string name, long value = 0);

    /// <summary>Cancels a pending timer; does nothing if it already fired or was cancelled.</summary>
    void CancelTimer(long timerId);

    /// <summary>
    /// Starts a local training job on this node's model. The job's model is locked
    /// (<see cref="LocalModel.IsTraining"/>) until <see cref="INodeBehavior.OnTrainingFinished"/>;
    /// the host may run it on another thread. One job at a time per node.
    /// </summary>
    /// <exception cref="InvalidOperationException">A job is already running on this node or on the job's model.</exception>
    void StartTraining(TrainingJob job);

    /// <summary>
    /// Reports that this node finished round <paramref name="round"/> (round 0 = the initial model,
    /// reported at start). The host may read <see cref="INodeBehavior.EvaluationModel"/> now to
    /// evaluate it. <paramref name="succeeded"/> false marks a failed round (e.g. no quorum).
    /// Only behaviours with <see cref="INodeBehavior.ReportsRounds"/> call this, and not while training.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="round"/> is not above the last reported round.</exception>
    /// <exception cref="InvalidOperationException">The behaviour does not report rounds, or a training job is running.</exception>
    void CompleteRound(long round, bool succeeded = true);

    /// <summary>
    /// Tells the host that <paramref name="stopwatchTicks"/> (<see cref="System.Diagnostics.Stopwatch"/> ticks)
    /// of the current callback were spent in an aggregation kernel, so the host can report its own
    /// overhead apart from the learning work. Optional: the default ignores it.
    /// </summary>
    void AddAggregationTime(long stopwatchTicks) { }
}
