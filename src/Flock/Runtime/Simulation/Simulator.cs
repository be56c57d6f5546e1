using System.Diagnostics;
using Flock.Protocols;
using Flock.Tensors;

namespace Flock.Runtime.Simulation;

/// <summary>
/// A discrete-event simulator with a virtual clock that runs one <see cref="INodeBehavior"/> per
/// node. Events (node starts, message deliveries, timers, training completions, faults, evaluation
/// ticks) are processed in (virtual time, sequence) order, the sequence number being assigned when
/// the event is scheduled, on the single event-loop thread — so a run is reproducible whatever the
/// thread timing.
/// </summary>
/// <remarks>
/// <para>Real computation runs in parallel: <see cref="INodeContext.StartTraining"/> starts the job
/// on the thread pool at once and schedules its completion at <c>now + cost</c> (from the
/// <see cref="ComputeModel"/>); the loop keeps processing earlier events (other nodes start their
/// jobs) and waits for the job only when it pops the completion. A job's result depends only on its
/// inputs, so parallelism never changes results.</para>
/// <para>Messages cost <c>latency + size / bandwidth</c> (<see cref="LinkModel"/>) and may be lost
/// (drop probability, failed link, receiver down). Bytes and messages are counted when sent.</para>
/// <para>Faults are inputs (<see cref="FaultSchedule"/>): a crashed node receives nothing, its
/// timers are cancelled and the callback of its running job is lost; on recovery it gets
/// <see cref="INodeBehavior.OnRecover"/> with its last state.</para>
/// <para>Metrics: the global round is the highest round every live round-reporting node has
/// reported (<see cref="INodeContext.CompleteRound"/>); rows are recorded every
/// <see cref="MetricsOptions.EveryRounds"/> global rounds (each node's model is snapshotted when it
/// reports the round, evaluated in the background, reduced in node-id order) and every
/// <see cref="MetricsOptions.EverySeconds"/> virtual seconds (every evaluated live node's model at
/// that instant; a node training at a tick is evaluated on the parameters its job started from).</para>
/// <para>Checkpoints (<see cref="SaveCheckpoint"/>) hold the whole state — event queue, in-flight
/// messages, node states, counters — so a resumed run produces the same rows as an uninterrupted
/// one, for round-based and asynchronous protocols alike.</para>
/// </remarks>
public sealed partial class Simulator
{
    private readonly SimulationOptions _options;
    private readonly INodeBehavior[] _behaviors;
    private readonly NodeHost[] _nodes;
    private readonly int[] _reporters;
    private readonly int[] _evaluated;
    private readonly ulong _seed;
    private readonly PriorityQueue<SimEvent, EventKey> _queue = new();
    private readonly Dictionary<long, int> _pendingTimers = new();
    private readonly Dictionary<long, List<LinkFailure>> _linkFailures = new();
    private long _sequence;
    private long _timerIds;
    private double _now;
    private bool _started;
    private bool _running;
    private bool _stopRequested;
    private NodeHost? _active;
    private long _bytesSent, _messagesSent, _messagesLost, _failedRounds, _rowsRecorded;
    private double _trainLossSum;
    private long _trainLossCount;
    private double _wallOffset;
    private Stopwatch? _wall;
    private readonly List<MetricsRow> _pendingRows = new();
    private readonly List<SimulationProgress> _pendingProgress = new();
    private long _events, _jobsStarted, _loopTicks, _callbackTicks, _jobWaitTicks, _evalTicks, _aggregationTicks;

    /// <summary>Creates a simulator for <paramref name="nodes"/> (node i runs <c>nodes[i]</c>).</summary>
    /// <exception cref="ArgumentException">No nodes, a null behaviour, or invalid options, faults or excluded nodes (the message names the bad value).</exception>
    public Simulator(IReadOnlyList<INodeBehavior> nodes, SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(options);
        if (nodes.Count == 0) throw new ArgumentException("A simulation needs at least one node.", nameof(nodes));
        options.Validate();
        _options = options;
        _seed = options.Seed;
        _behaviors = new INodeBehavior[nodes.Count];
        _nodes = new NodeHost[nodes.Count];
        var reporters = new List<int>();
        for (int i = 0; i < nodes.Count; i++)
        {
            _behaviors[i] = nodes[i] ?? throw new ArgumentException($"Node {i} has no behaviour.", nameof(nodes));
            _nodes[i] = new NodeHost(this, i, options.Compute.Speed.Factor(_seed, i), _behaviors[i].ReportsRounds);
            if (_nodes[i].IsReporter) reporters.Add(i);
        }
        _reporters = reporters.ToArray();
        ValidateFaults(options.Faults);
        foreach (var f in options.Faults.LinkFailures)
        {
            long key = PairKey(f.NodeA, f.NodeB);
            if (!_linkFailures.TryGetValue(key, out var list)) _linkFailures[key] = list = new List<LinkFailure>();
            list.Add(f);
        }
        _evaluated = ChooseEvaluatedNodes();
        foreach (int i in _evaluated) _nodes[i].IsEvaluated = true;
    }

    /// <summary>Raised for each metrics row, on the loop thread, after the event that produced it.</summary>
    public event Action<MetricsRow>? RowRecorded;

    /// <summary>
    /// Raised after each global round and each time tick, on the loop thread, after the rows of the
    /// same event. A handler may call <see cref="SaveCheckpoint"/>.
    /// </summary>
    public event Action<SimulationProgress>? Progress;

    /// <summary>The options.</summary>
    public SimulationOptions Options => _options;

    /// <summary>Number of nodes.</summary>
    public int NodeCount => _nodes.Length;

    /// <summary>The node behaviours (node i is <c>Behaviors[i]</c>).</summary>
    public IReadOnlyList<INodeBehavior> Behaviors => _behaviors;

    /// <summary>Current virtual time (of the last processed event).</summary>
    public double Now => _now;

    /// <summary>The global round (−1 before round 0 is complete).</summary>
    public long Round { get; private set; } = -1;

    /// <summary>Total bytes sent.</summary>
    public long BytesSent => _bytesSent;

    /// <summary>Total messages sent.</summary>
    public long MessagesSent => _messagesSent;

    /// <summary>Total messages lost (dropped, failed link, receiver down).</summary>
    public long MessagesLost => _messagesLost;

    /// <summary>Rounds reported as failed.</summary>
    public long FailedRounds => _failedRounds;

    /// <summary>The nodes whose models are evaluated (sorted).</summary>
    public IReadOnlyList<int> EvaluatedNodes => _evaluated;

    /// <summary>Bytes sent by node <paramref name="node"/>.</summary>
    public long BytesSentBy(int node) => Node(node).BytesSent;

    /// <summary>Messages sent by node <paramref name="node"/>.</summary>
    public long MessagesSentBy(int node) => Node(node).MessagesSent;

    /// <summary>Node <paramref name="node"/>'s compute speed factor.</summary>
    public double SpeedFactor(int node) => Node(node).SpeedFactor;

    /// <summary>True if node <paramref name="node"/> has started and is neither crashed nor gone.</summary>
    public bool IsUp(int node) => Node(node).Up;

    /// <summary>Where the loop's wall time went so far.</summary>
    public SimulationStatistics Statistics => new(_events, _jobsStarted, Seconds(_loopTicks), Seconds(_callbackTicks), Seconds(_jobWaitTicks), Seconds(_evalTicks), Seconds(_aggregationTicks));

    private double WallSeconds => _wallOffset + (_wall?.Elapsed.TotalSeconds ?? 0);

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    private NodeHost Node(int node) =>
        (uint)node < (uint)_nodes.Length ? _nodes[node] : throw new ArgumentOutOfRangeException(nameof(node), node, $"No node {node}; there are {_nodes.Length}.");

    /// <summary>
    /// Runs until the round or time limit, until no events are left, or until
    /// <paramref name="cancellationToken"/> fires (checked between events). Every training job has
    /// finished when it returns, so the state can be checkpointed, inspected or run further.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called re-entrantly.</exception>
    public SimulationResult Run(CancellationToken cancellationToken = default)
    {
        if (_running) throw new InvalidOperationException("The simulation is already running.");
        _running = true;
        _wall = Stopwatch.StartNew();
        long t0 = Stopwatch.GetTimestamp();
        StopReason reason;
        try
        {
            if (!_started)
            {
                ScheduleInitialEvents();
                _started = true;
            }
            reason = Loop(cancellationToken);
            QuiesceJobs();
            WaitRoundEvaluations();
        }
        catch
        {
            try { QuiesceJobs(); } catch (Exception) { /* the first error wins */ }
            throw;
        }
        finally
        {
            _loopTicks += Stopwatch.GetTimestamp() - t0;
            _wallOffset += _wall.Elapsed.TotalSeconds;
            _wall = null;
            _running = false;
        }
        return new SimulationResult(reason, Round, _now, _wallOffset, _bytesSent, _messagesSent, _messagesLost, _rowsRecorded);
    }

    private StopReason Loop(CancellationToken ct)
    {
        while (true)
        {
            if (_stopRequested) return StopReason.RoundsReached;
            if (ct.IsCancellationRequested) return StopReason.Cancelled;
            if (!_queue.TryPeek(out _, out var key)) return StopReason.Idle;
            if (key.Time > _options.MaxTime) return StopReason.TimeReached;
            var ev = _queue.Dequeue();
            _now = key.Time;
            _events++;
            Process(ev);
            Flush();
        }
    }

    private void Flush()
    {
        if (_pendingRows.Count == 0 && _pendingProgress.Count == 0) return;
        var rows = _pendingRows.ToArray();
        var progress = _pendingProgress.ToArray();
        _pendingRows.Clear();
        _pendingProgress.Clear();
        foreach (var r in rows) RowRecorded?.Invoke(r);
        foreach (var p in progress) Progress?.Invoke(p);
    }

    private void ScheduleInitialEvents()
    {
        var joinTime = new double[_nodes.Length];
        foreach (var f in _options.Faults.NodeFaults)
            if (f.Kind == NodeFaultKind.Join) joinTime[f.Node] = f.Time;
        for (int i = 0; i < _nodes.Length; i++)
        {
            Schedule(joinTime[i], new SimEvent(EventKind.Start, i));
            // Nodes starting at time 0 count for the global round from the outset, so round 0 waits for all of them.
            if (joinTime[i] == 0) RoundTrackerUp(_nodes[i]);
        }
        if (_options.Metrics.EverySeconds > 0) Schedule(0, new SimEvent(EventKind.Tick, -1) { Counter = 0 });
        foreach (var f in _options.Faults.NodeFaults)
        {
            var kind = f.Kind switch
            {
                NodeFaultKind.Crash => EventKind.Crash,
                NodeFaultKind.Recover => EventKind.Recover,
                NodeFaultKind.Leave => EventKind.Leave,
                _ => (EventKind?)null,
            };
            if (kind is { } k) Schedule(f.Time, new SimEvent(k, f.Node));
        }
        if (_options.Faults.RandomCrashes is { } rc)
            foreach (int i in rc.Nodes ?? Enumerable.Range(0, _nodes.Length).ToArray())
                Schedule(NextCrashDelay(i, 0), new SimEvent(EventKind.RandomCrash, i) { Counter = 0 });
    }

    private double NextCrashDelay(int node, long k) =>
        Exponential(Rng.Derive(_seed, (ulong)node, (ulong)k, "crash"), 1.0 / _options.Faults.RandomCrashes!.RatePerSecond);

    private double Downtime(int node, long k) =>
        Exponential(Rng.Derive(_seed, (ulong)node, (ulong)k, "downtime"), _options.Faults.RandomCrashes!.MeanDowntimeSeconds);

    private static double Exponential(Rng rng, double mean) => -mean * Math.Log(1.0 - rng.NextDouble());

    private void Schedule(double time, SimEvent ev) => _queue.Enqueue(ev, new EventKey(time, _sequence++));

    private void Process(SimEvent ev)
    {
        switch (ev.Kind)
        {
            case EventKind.Start:
            {
                var node = _nodes[ev.Node];
                if (node.Left || node.Started) break;
                node.Started = true;
                node.Up = true;
                node.Incarnation++;
                RoundTrackerUp(node);
                BeginCallback(node);
                try { _behaviors[ev.Node].OnStart(node); } finally { EndCallback(); }
                break;
            }
            case EventKind.Deliver:
            {
                var node = _nodes[ev.Node];
                if (!node.Up) { _messagesLost++; break; }
                BeginCallback(node);
                try { _behaviors[ev.Node].OnMessage(node, ev.From, ev.Message!); } finally { EndCallback(); }
                break;
            }
            case EventKind.Timer:
            {
                if (!_pendingTimers.Remove(ev.Timer.Id)) break;
                var node = _nodes[ev.Node];
                if (!node.Up || node.Incarnation != ev.Incarnation) break;
                BeginCallback(node);
                try { _behaviors[ev.Node].OnTimer(node, ev.Timer); } finally { EndCallback(); }
                break;
            }
            case EventKind.TrainingDone:
            {
                var node = _nodes[ev.Node];
                if (!ReferenceEquals(node.BusyEvent, ev)) break; // finished early at a recovery
                var result = FinishJob(node);
                if (!node.Up || node.Incarnation != ev.Incarnation) break;
                if (!double.IsNaN(result.MeanLoss)) { _trainLossSum += result.MeanLoss; _trainLossCount++; }
                BeginCallback(node);
                try { _behaviors[ev.Node].OnTrainingFinished(node, result); } finally { EndCallback(); }
                break;
            }
            case EventKind.Crash:
                Crash(_nodes[ev.Node]);
                break;
            case EventKind.Recover:
                Recover(_nodes[ev.Node]);
                break;
            case EventKind.Leave:
            {
                var node = _nodes[ev.Node];
                if (node.Left) break;
                node.Left = true;
                if (node.Up) MarkDown(node);
                else RoundTrackerDown(node); // a node that leaves before it starts stops counting
                break;
            }
            case EventKind.RandomCrash:
            {
                var node = _nodes[ev.Node];
                if (node.Left) break;
                if (node.Up)
                {
                    Crash(node);
                    Schedule(_now + Downtime(ev.Node, ev.Counter), new SimEvent(EventKind.RandomRecover, ev.Node) { Counter = ev.Counter });
                }
                else Schedule(_now + NextCrashDelay(ev.Node, ev.Counter + 1), new SimEvent(EventKind.RandomCrash, ev.Node) { Counter = ev.Counter + 1 });
                break;
            }
            case EventKind.RandomRecover:
            {
                var node = _nodes[ev.Node];
                if (node.Left) break;
                Recover(node);
                Schedule(_now + NextCrashDelay(ev.Node, ev.Counter + 1), new SimEvent(EventKind.RandomCrash, ev.Node) { Counter = ev.Counter + 1 });
                break;
            }
            case EventKind.Tick:
            {
                EvaluateTick(ev.Counter);
                double next = (ev.Counter + 1) * _options.Metrics.EverySeconds;
                if (_queue.Count > 0 && next <= _options.MaxTime) Schedule(next, new SimEvent(EventKind.Tick, -1) { Counter = ev.Counter + 1 });
                break;
            }
            default:
                throw new InvalidOperationException($"Unknown event kind {ev.Kind}.");
        }
    }

    private void Crash(NodeHost node)
    {
        if (!node.Up) return;
        MarkDown(node);
    }

    private void MarkDown(NodeHost node)
    {
        node.Up = false;
        node.Incarnation++;
        RoundTrackerDown(node);
    }

    private void Recover(NodeHost node)
    {
        if (node.Up || node.Left || !node.Started) return;
        if (node.BusyEvent is not null) FinishJob(node); // the lost job's updates are kept
        node.Up = true;
        node.Incarnation++;
        RoundTrackerUp(node);
        BeginCallback(node);
        try { _behaviors[node.Id].OnRecover(node); } finally { EndCallback(); }
    }

    private TrainingResult FinishJob(NodeHost node)
    {
        var ev = node.BusyEvent!;
        var result = WaitJob(ev);
        ev.Job?.End();
        node.BusyEvent = null;
        node.PreJobSnapshot = null;
        return result;
    }

    private TrainingResult WaitJob(SimEvent ev)
    {
        if (ev.HasResult) return ev.Result;
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            ev.Result = ev.Task!.GetAwaiter().GetResult();
        }
        finally
        {
            _jobWaitTicks += Stopwatch.GetTimestamp() - t0;
        }
        ev.HasResult = true;
        ev.Task = null;
        return ev.Result;
    }

    /// <summary>Waits for every running job (their completion events stay queued, with their results).</summary>
    private void QuiesceJobs()
    {
        foreach (var node in _nodes)
            if (node.BusyEvent is { HasResult: false } ev) WaitJob(ev);
    }

    private long _callbackStart, _callbackEvalStart;

    private void BeginCallback(NodeHost node)
    {
        _active = node;
        _callbackStart = Stopwatch.GetTimestamp();
        _callbackEvalStart = _evalTicks;
    }

    private void EndCallback()
    {
        _active = null;
        _callbackTicks += Stopwatch.GetTimestamp() - _callbackStart - (_evalTicks - _callbackEvalStart);
    }

    private static long PairKey(int a, int b) => a < b ? ((long)a << 32) | (uint)b : ((long)b << 32) | (uint)a;

    private bool LinkDown(int a, int b, double t)
    {
        if (_linkFailures.Count == 0 || !_linkFailures.TryGetValue(PairKey(a, b), out var list)) return false;
        foreach (var f in list)
            if (t >= f.From && t < f.Until) return true;
        return false;
    }

    private void ValidateFaults(FaultSchedule faults)
    {
        int n = _nodes.Length;
        var joined = new HashSet<int>();
        foreach (var f in faults.NodeFaults)
        {
            if ((uint)f.Node >= (uint)n) throw new ArgumentException($"Fault {f} names node {f.Node}; nodes are 0..{n - 1}.", nameof(faults));
            if (!(f.Time >= 0) || !double.IsFinite(f.Time)) throw new ArgumentException($"Fault {f} has invalid time {f.Time}; must be finite and ≥ 0.", nameof(faults));
            if (!Enum.IsDefined(f.Kind)) throw new ArgumentException($"Fault {f} has an unknown kind.", nameof(faults));
            if (f.Kind == NodeFaultKind.Join && !joined.Add(f.Node)) throw new ArgumentException($"Node {f.Node} has more than one join event.", nameof(faults));
        }
        foreach (var f in faults.LinkFailures)
        {
            if ((uint)f.NodeA >= (uint)n || (uint)f.NodeB >= (uint)n) throw new ArgumentException($"Link failure {f} names a node outside 0..{n - 1}.", nameof(faults));
            if (!(f.From >= 0) || !double.IsFinite(f.From) || !(f.Until >= f.From)) throw new ArgumentException($"Link failure {f} has an invalid interval; need 0 ≤ From ≤ Until.", nameof(faults));
        }
        if (faults.RandomCrashes is { } rc)
        {
            if (!(rc.RatePerSecond > 0) || !double.IsFinite(rc.RatePerSecond)) throw new ArgumentException($"Invalid crash rate: {rc.RatePerSecond} per second; must be finite and > 0.", nameof(faults));
            if (!(rc.MeanDowntimeSeconds > 0) || !double.IsFinite(rc.MeanDowntimeSeconds)) throw new ArgumentException($"Invalid mean downtime: {rc.MeanDowntimeSeconds} s; must be finite and > 0.", nameof(faults));
            if (rc.Nodes is not null)
                foreach (int i in rc.Nodes)
                    if ((uint)i >= (uint)n) throw new ArgumentException($"Random crashes name node {i}; nodes are 0..{n - 1}.", nameof(faults));
        }
    }

    private int[] ChooseEvaluatedNodes()
    {
        var excluded = new bool[_behaviors.Length];
        foreach (int id in _options.Metrics.ExcludedNodes)
        {
            if (id >= excluded.Length) throw new ArgumentException($"Metrics exclude node {id}; nodes are 0..{excluded.Length - 1}.", nameof(_options.Metrics.ExcludedNodes));
            excluded[id] = true;
        }
        var candidates = new List<int>();
        for (int i = 0; i < _behaviors.Length; i++)
            if (!excluded[i] && !_behaviors[i].EvaluationModel.IsEmpty) candidates.Add(i);
        int k = _options.Metrics.MaxEvaluatedNodes;
        if (k == 0 || k >= candidates.Count) return candidates.ToArray();
        var arr = candidates.ToArray();
        Rng.Derive(_seed, 0, 0, "eval-nodes").Shuffle(arr.AsSpan());
        var chosen = arr.AsSpan(0, k).ToArray();
        Array.Sort(chosen);
        return chosen;
    }

    private readonly record struct EventKey(double Time, long Sequence) : IComparable<EventKey>
    {
        public int CompareTo(EventKey other)
        {
            int c = Time.CompareTo(other.Time);
            return c != 0 ? c : Sequence.CompareTo(other.Sequence);
        }
    }

    private enum EventKind : byte { Start, Deliver, Timer, TrainingDone, Crash, Recover, Leave, RandomCrash, RandomRecover, Tick }

    private sealed class SimEvent(EventKind kind, int node)
    {
        public EventKind Kind { get; } = kind;
        public int Node { get; } = node;
        public int From;
        public long Incarnation;
        public long Counter;
        public Message? Message;
        public TimerTag Timer;
        public TrainingJob? Job;
        public Task<TrainingResult>? Task;
        public TrainingResult Result;
        public bool HasResult;
    }
}
