using Flock.Models;
using Flock.Protocols;

namespace Flock.Runtime.Simulation;

public sealed partial class Simulator
{
    private const string CheckpointMagic = "flock-simulation-checkpoint";
    private const int CheckpointVersion = 1;

    /// <summary>
    /// Writes the whole simulation state to <paramref name="stream"/>: clock, event queue (in-flight
    /// messages, timers, training completions with their results), node states (via
    /// <see cref="INodeBehavior.WriteState"/>), counters and pending evaluations. Call it when
    /// <see cref="Run"/> has returned or from a <see cref="Progress"/> handler; running jobs are
    /// waited for first. Rows already recorded are not stored (see
    /// <see cref="SimulationResult.RowsRecorded"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from inside a node callback.</exception>
    public void SaveCheckpoint(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (_active is not null) throw new InvalidOperationException("Cannot checkpoint from inside a node callback; use a Progress handler.");
        QuiesceJobs();
        WaitRoundEvaluations();
        using var w = new StateWriter(stream);
        w.Write(CheckpointMagic);
        w.Write(CheckpointVersion);
        w.Write(_nodes.Length);
        w.Write(_seed);
        w.Write(_started);
        w.Write(_now);
        w.Write(_sequence);
        w.Write(_timerIds);
        w.Write(_stopRequested);
        w.Write(Round);
        w.Write(_bytesSent);
        w.Write(_messagesSent);
        w.Write(_messagesLost);
        w.Write(_failedRounds);
        w.Write(_rowsRecorded);
        w.Write(_trainLossSum);
        w.Write(_trainLossCount);
        w.Write(WallSeconds);

        var timers = _pendingTimers.OrderBy(p => p.Key).ToArray();
        w.Write(timers.Length);
        foreach (var (id, owner) in timers) { w.Write(id); w.Write(owner); }

        foreach (var n in _nodes)
        {
            w.Write(n.Started);
            w.Write(n.Up);
            w.Write(n.Left);
            w.Write(n.Tracked);
            w.Write(n.Incarnation);
            w.Write(n.LastReported);
            w.Write(n.BytesSent);
            w.Write(n.MessagesSent);
            w.Write(n.PreJobSnapshot is not null);
            if (n.PreJobSnapshot is not null) w.WriteFloats(n.PreJobSnapshot);
        }

        var rounds = _roundEvaluations.OrderBy(p => p.Key).ToArray();
        w.Write(rounds.Length);
        foreach (var (round, list) in rounds)
        {
            w.Write(round);
            w.Write(list.Count);
            foreach (var p in list)
            {
                w.Write(p.Node);
                w.WriteFloats(p.Model.Span);
                w.Write(p.Result is not null);
                if (p.Result is { } r)
                {
                    w.Write(r.Result.Loss);
                    w.Write(r.Result.Accuracy);
                    w.Write(r.Result.Count);
                    w.WriteDoubles(r.Extra);
                }
            }
        }

        var events = _queue.UnorderedItems
            .Where(e => e.Element.Kind != EventKind.TrainingDone || ReferenceEquals(_nodes[e.Element.Node].BusyEvent, e.Element))
            .OrderBy(e => e.Priority)
            .ToArray();
        w.Write(events.Length);
        foreach (var (ev, key) in events)
        {
            w.Write(key.Time);
            w.Write(key.Sequence);
            w.Write((int)ev.Kind);
            w.Write(ev.Node);
            switch (ev.Kind)
            {
                case EventKind.Deliver:
                    w.Write(ev.From);
                    w.WriteMessage(ev.Message);
                    break;
                case EventKind.Timer:
                    w.Write(ev.Incarnation);
                    w.Write(ev.Timer.Id);
                    w.Write(ev.Timer.Name);
                    w.Write(ev.Timer.Value);
                    break;
                case EventKind.TrainingDone:
                    w.Write(ev.Incarnation);
                    w.Write(ev.Result.Round);
                    w.Write(ev.Result.Steps);
                    w.Write(ev.Result.MeanLoss);
                    break;
                case EventKind.RandomCrash:
                case EventKind.RandomRecover:
                case EventKind.Tick:
                    w.Write(ev.Counter);
                    break;
            }
        }

        foreach (var b in _behaviors) b.WriteState(w);
        w.Write(CheckpointMagic);
        w.Flush();
    }

    /// <summary>
    /// Restores a state written by <see cref="SaveCheckpoint"/> into this simulator, which must be
    /// freshly built from the same scenario (same nodes, behaviours, options and seed) and not yet
    /// run. <see cref="Run"/> then continues exactly where the checkpointed run was.
    /// </summary>
    /// <exception cref="InvalidOperationException">This simulator has already run.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is corrupt or from a different scenario.</exception>
    public void LoadCheckpoint(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (_started || _running) throw new InvalidOperationException("Load a checkpoint into a freshly built simulator, before Run.");
        using var r = new StateReader(stream);
        if (r.ReadString() != CheckpointMagic) throw new InvalidDataException("Not a Flock simulation checkpoint.");
        int version = r.ReadInt32();
        if (version != CheckpointVersion) throw new InvalidDataException($"Checkpoint version {version} is not supported (expected {CheckpointVersion}).");
        int n = r.ReadInt32();
        if (n != _nodes.Length) throw new InvalidDataException($"The checkpoint has {n} nodes but this scenario has {_nodes.Length}.");
        ulong seed = r.ReadUInt64();
        if (seed != _seed) throw new InvalidDataException($"The checkpoint was made with seed {seed} but this scenario uses {_seed}.");
        _started = r.ReadBoolean();
        _now = r.ReadDouble();
        _sequence = r.ReadInt64();
        _timerIds = r.ReadInt64();
        _stopRequested = r.ReadBoolean();
        Round = r.ReadInt64();
        _bytesSent = r.ReadInt64();
        _messagesSent = r.ReadInt64();
        _messagesLost = r.ReadInt64();
        _failedRounds = r.ReadInt64();
        _rowsRecorded = r.ReadInt64();
        _trainLossSum = r.ReadDouble();
        _trainLossCount = r.ReadInt64();
        _wallOffset = r.ReadDouble();

        _pendingTimers.Clear();
        int timerCount = r.ReadInt32();
        for (int i = 0; i < timerCount; i++) { long id = r.ReadInt64(); _pendingTimers[id] = r.ReadInt32(); }

        foreach (var node in _nodes)
        {
            node.Started = r.ReadBoolean();
            node.Up = r.ReadBoolean();
            node.Left = r.ReadBoolean();
            node.Tracked = r.ReadBoolean();
            node.Incarnation = r.ReadInt64();
            node.LastReported = r.ReadInt64();
            node.BytesSent = r.ReadInt64();
            node.MessagesSent = r.ReadInt64();
            node.PreJobSnapshot = r.ReadBoolean() ? r.ReadFloats() : null;
            node.BusyEvent = null;
        }

        _roundEvaluations.Clear();
        int roundCount = r.ReadInt32();
        for (int i = 0; i < roundCount; i++)
        {
            long round = r.ReadInt64();
            int count = r.ReadInt32();
            var list = new List<PendingEvaluation>(count);
            for (int j = 0; j < count; j++)
            {
                int node = r.ReadInt32();
                var p = new PendingEvaluation(node, r.ReadFloats());
                if (r.ReadBoolean())
                {
                    var result = new EvaluationResult(r.ReadDouble(), r.ReadDouble(), r.ReadInt32());
                    p.Result = new NodeEvaluation(result, r.ReadDoubles());
                }
                list.Add(p);
            }
            _roundEvaluations[round] = list;
        }

        _queue.Clear();
        int eventCount = r.ReadInt32();
        for (int i = 0; i < eventCount; i++)
        {
            double time = r.ReadDouble();
            long seq = r.ReadInt64();
            var kind = (EventKind)r.ReadInt32();
            int node = r.ReadInt32();
            if (!Enum.IsDefined(kind)) throw new InvalidDataException($"Corrupt checkpoint: unknown event kind {(int)kind}.");
            if (node < -1 || node >= _nodes.Length) throw new InvalidDataException($"Corrupt checkpoint: event for node {node}.");
            var ev = new SimEvent(kind, node);
            switch (kind)
            {
                case EventKind.Deliver:
                    ev.From = r.ReadInt32();
                    ev.Message = r.ReadMessage() ?? throw new InvalidDataException("Corrupt checkpoint: a delivery without a message.");
                    break;
                case EventKind.Timer:
                    ev.Incarnation = r.ReadInt64();
                    ev.Timer = new TimerTag(r.ReadInt64(), r.ReadString(), r.ReadInt64());
                    break;
                case EventKind.TrainingDone:
                    ev.Incarnation = r.ReadInt64();
                    ev.Result = new TrainingResult(r.ReadInt64(), r.ReadInt32(), r.ReadDouble());
                    ev.HasResult = true;
                    _nodes[node].BusyEvent = ev;
                    break;
                case EventKind.RandomCrash:
                case EventKind.RandomRecover:
                case EventKind.Tick:
                    ev.Counter = r.ReadInt64();
                    break;
            }
            _queue.Enqueue(ev, new EventKey(time, seq));
        }

        foreach (var b in _behaviors) b.ReadState(r);
        if (r.ReadString() != CheckpointMagic) throw new InvalidDataException("Corrupt checkpoint: missing end marker (the behaviours' state did not match).");
        RecountBehind();
    }
}
