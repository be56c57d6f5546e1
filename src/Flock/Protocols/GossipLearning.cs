using Flock.Aggregation;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;

namespace Flock.Protocols;

/// <summary>Options of <see cref="GossipLearning"/>.</summary>
public sealed class GossipLearningOptions
{
    /// <summary>Mean seconds between a node's wake-ups (sends).</summary>
    public double Period { get; init; } = 1.0;

    /// <summary>Relative jitter of the period in [0, 1): each gap is Period × (1 + Jitter × U[−1, 1)).</summary>
    public double Jitter { get; init; } = 0.1;

    /// <summary>Local steps K after each merge.</summary>
    public int LocalSteps { get; init; } = 1;

    /// <summary>Local minibatch size B.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>True (default) to weight a merge by model age (steps trained); false for a plain average.</summary>
    public bool AgeWeighted { get; init; } = true;

    /// <summary>True (default) to train K steps once at start, so the first models sent carry local information.</summary>
    public bool TrainOnStart { get; init; } = true;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (!(Period > 0) || !double.IsFinite(Period)) throw new ArgumentException($"Invalid gossip period: {Period} s; must be finite and > 0.", nameof(Period));
        if (!(Jitter >= 0 && Jitter < 1)) throw new ArgumentException($"Invalid gossip jitter: {Jitter}; must be in [0, 1).", nameof(Jitter));
        if (LocalSteps < 0) throw new ArgumentException($"Invalid number of local steps: {LocalSteps}; must be ≥ 0.", nameof(LocalSteps));
        if (BatchSize < 1) throw new ArgumentException($"Invalid batch size: {BatchSize}; must be ≥ 1.", nameof(BatchSize));
    }
}

/// <summary>
/// Gossip learning — Ormándi, Hegedűs, Jelasity, "Gossip learning with linear models on fully
/// distributed data" (Concurrency and Computation: Practice and Experience, 2013). Asynchronous and
/// round-free: each node wakes on its own timer (period with seeded jitter, first wake at a random
/// phase) and sends its current model to a random neighbour; a node receiving a model merges it
/// with its own — <c>x ← (a·x + b·y)/(a + b)</c> with ages a, b (steps trained), or a plain average —
/// takes age max(a, b), and trains K local steps (the "merge-update" variant).
/// </summary>
/// <remarks>
/// Models arriving while the node trains are queued and merged in arrival order when training ends,
/// followed by one training job; a wake-up during training sends the model once training ends.
/// The k-th wake's jitter and peer come from <c>DeriveRng("gossip/wake" / "gossip/peer", k)</c>.
/// </remarks>
public static class GossipLearning
{
    /// <summary>Kind of the model message (round = sender's age; scalar 0 = age).</summary>
    public const string ModelKind = "gossip/model";

    /// <summary>Name of the wake-up timer.</summary>
    public const string WakeTimer = "gossip/wake";

    /// <summary>
    /// Builds one gossip node per data view: node i trains on <paramref name="data"/>[i] and gossips
    /// with <paramref name="neighbors"/>[i]; all start from <see cref="LocalModel.InitialParameters"/>(learner, seed).
    /// </summary>
    /// <exception cref="ArgumentException">The arrays disagree in length or a neighbour id is invalid.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data,
        IReadOnlyList<int[]> neighbors, GossipLearningOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(neighbors);
        int n = data.Count;
        if (neighbors.Count != n) throw new ArgumentException($"Got {n} data views but {neighbors.Count} neighbour lists.", nameof(neighbors));
        var init = LocalModel.InitialParameters(learner, seed);
        var nodes = new INodeBehavior[n];
        for (int i = 0; i < n; i++)
        {
            foreach (int j in neighbors[i])
                if ((uint)j >= (uint)n || j == i) throw new ArgumentException($"Node {i} has invalid neighbour {j}; must be another node in 0..{n - 1}.", nameof(neighbors));
            nodes[i] = new GossipNode(neighbors[i], learner, optimizer, data[i], init, options);
        }
        return nodes;
    }
}

/// <summary>A <see cref="GossipLearning"/> node (see there).</summary>
public sealed class GossipNode : INodeBehavior
{
    [ThreadStatic] private static float[]? t_merge;

    private readonly int[] _neighbors;
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly GossipLearningOptions _options;
    private readonly LocalModel _model;
    private readonly List<Message> _inbox = new();
    private long _age;
    private long _wakes;
    private long _jobs;
    private bool _training;
    private bool _sendPending;

    /// <summary>Creates a node.</summary>
    /// <exception cref="ArgumentException">Invalid options or empty data with local steps.</exception>
    public GossipNode(IReadOnlyList<int> neighbors, ILearner learner, IOptimizer optimizer, DatasetView data, ReadOnlySpan<float> initialParameters, GossipLearningOptions options)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _neighbors = neighbors.ToArray();
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException("A gossip node with local steps needs data; its view is empty.", nameof(data));
        _options = options;
        _model = LocalModel.Create(learner, optimizer, initialParameters);
    }

    /// <summary>The node's model.</summary>
    public LocalModel Model => _model;

    /// <summary>The model's age (local steps it has been trained for, merged by max).</summary>
    public long Age => _age;

    /// <inheritdoc />
    public bool ReportsRounds => false;

    /// <inheritdoc />
    public ReadOnlyMemory<float> EvaluationModel => _model.Parameters;

    /// <inheritdoc />
    public void OnStart(INodeContext context)
    {
        double phase = _options.Period * context.DeriveRng(GossipLearning.WakeTimer, 0).NextDouble();
        context.SetTimer(phase, GossipLearning.WakeTimer, ++_wakes);
        if (_options.TrainOnStart) Train(context);
    }

    private void ScheduleWake(INodeContext context)
    {
        long k = ++_wakes;
        double u = context.DeriveRng(GossipLearning.WakeTimer, k).NextDouble();
        context.SetTimer(_options.Period * (1 + _options.Jitter * (2 * u - 1)), GossipLearning.WakeTimer, k);
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer)
    {
        if (timer.Name != GossipLearning.WakeTimer) return;
        ScheduleWake(context);
        if (_training) _sendPending = true;
        else SendModel(context, timer.Value);
    }

    private void SendModel(INodeContext context, long wake)
    {
        if (_neighbors.Length == 0) return;
        int peer = _neighbors[context.DeriveRng("gossip/peer", wake).NextInt(_neighbors.Length)];
        context.Send(peer, Message.WithModel(GossipLearning.ModelKind, _age, _model.Parameters, _age));
    }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (message.Kind != GossipLearning.ModelKind || message.Model.Length != _model.ParameterCount || message.Scalars.Length < 1) return;
        if (_training) { _inbox.Add(message); return; }
        Merge(message);
        Train(context);
    }

    private void Merge(Message message)
    {
        var x = _model.Parameters;
        long a = _age, b = (long)message.Scalar(0);
        float wa = 1, wb = 1;
        if (_options.AgeWeighted && a + b > 0) { wa = a; wb = b; }
        int p = x.Length;
        var merged = t_merge is { } t && t.Length >= p ? t : (t_merge = new float[p]);
        Mean.Instance.Aggregate(new ReadOnlyMemory<float>[] { x, message.Model }, [wa, wb], merged.AsSpan(0, p));
        merged.AsSpan(0, p).CopyTo(x);
        _age = Math.Max(a, b);
    }

    private void Train(INodeContext context)
    {
        _training = true;
        context.StartTraining(new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, ++_jobs));
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        _training = false;
        _age += result.Steps;
        if (_sendPending)
        {
            _sendPending = false;
            SendModel(context, _wakes);
        }
        DrainInbox(context);
    }

    private void DrainInbox(INodeContext context)
    {
        if (_inbox.Count == 0) return;
        foreach (var m in _inbox) Merge(m);
        _inbox.Clear();
        Train(context);
    }

    /// <summary>Re-arms the wake timer (timers died with the crash); merges and trains on queued models.</summary>
    public void OnRecover(INodeContext context)
    {
        _training = false;
        _sendPending = false;
        ScheduleWake(context);
        DrainInbox(context);
    }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        _model.Write(writer);
        writer.Write(_age);
        writer.Write(_wakes);
        writer.Write(_jobs);
        writer.Write(_training);
        writer.Write(_sendPending);
        writer.Write(_inbox.Count);
        foreach (var m in _inbox) writer.WriteMessage(m);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        _model.Read(reader);
        _age = reader.ReadInt64();
        _wakes = reader.ReadInt64();
        _jobs = reader.ReadInt64();
        _training = reader.ReadBoolean();
        _sendPending = reader.ReadBoolean();
        _inbox.Clear();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++) _inbox.Add(reader.ReadMessage() ?? throw new InvalidDataException("Missing gossip message."));
    }
}
