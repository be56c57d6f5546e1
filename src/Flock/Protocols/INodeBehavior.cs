namespace Flock.Protocols;

/// <summary>
/// A protocol as seen by one node: it reacts to start, incoming messages, timers, finished local
/// training and recovery after a crash, and acts only through the <see cref="INodeContext"/> it is
/// given. It never reads another node's memory, so the same behaviour runs in the simulator and,
/// later, over gRPC. Callbacks of one node never run concurrently.
/// </summary>
/// <remarks>
/// A behaviour's state must be fully described by <see cref="WriteState"/> (so a run can be
/// checkpointed between any two events): flat parameters, optimizer state, buffered messages and
/// small protocol fields. Keep no <see cref="Flock.Tensors.Rng"/> across callbacks — derive one per
/// use with <see cref="INodeContext.DeriveRng"/>.
/// </remarks>
public interface INodeBehavior
{
    /// <summary>
    /// True if this node reports rounds with <see cref="INodeContext.CompleteRound"/> (a FedAvg
    /// coordinator, a D-SGD node); a run's global round is the round every live reporting node has
    /// reached. False for behaviours without rounds (FedAvg clients, gossip nodes).
    /// </summary>
    bool ReportsRounds { get; }

    /// <summary>
    /// The model this node would be evaluated on right now (the global model of a coordinator, a
    /// peer's own model), or empty if the node has none worth evaluating (a FedAvg client). Read by
    /// the host only while the node is not training.
    /// </summary>
    ReadOnlyMemory<float> EvaluationModel { get; }

    /// <summary>The node starts (at time 0, or when it joins late).</summary>
    void OnStart(INodeContext context);

    /// <summary>A message from node <paramref name="from"/> arrived.</summary>
    void OnMessage(INodeContext context, int from, Message message);

    /// <summary>A timer set with <see cref="INodeContext.SetTimer"/> fired.</summary>
    void OnTimer(INodeContext context, TimerTag timer);

    /// <summary>The training job started with <see cref="INodeContext.StartTraining"/> finished; its model is unlocked.</summary>
    void OnTrainingFinished(INodeContext context, TrainingResult result);

    /// <summary>
    /// The node comes back after a crash with its last state (parameters, optimizer state, protocol
    /// fields). Its timers were cancelled and a training job running at the crash was lost (its
    /// parameter updates are kept, its <see cref="OnTrainingFinished"/> never comes); messages sent
    /// to it while it was down were lost.
    /// </summary>
    void OnRecover(INodeContext context);

    /// <summary>Writes the node's whole state (for a checkpoint).</summary>
    void WriteState(StateWriter writer);

    /// <summary>Restores the state written by <see cref="WriteState"/> into a behaviour built with the same configuration.</summary>
    /// <exception cref="InvalidDataException">The state does not match this behaviour's configuration.</exception>
    void ReadState(StateReader reader);
}
