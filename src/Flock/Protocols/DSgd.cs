using Flock.Aggregation;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;

namespace Flock.Protocols;

/// <summary>Options of <see cref="DSgd"/>.</summary>
public sealed class DSgdOptions
{
    /// <summary>Local steps K per round.</summary>
    public int LocalSteps { get; init; } = 1;

    /// <summary>Local minibatch size B.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seconds a node waits for its neighbours' models after sending its own (infinity: wait for all).</summary>
    public double RoundTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Rounds to run (0: until the host stops).</summary>
    public long Rounds { get; init; }

    /// <summary>The mixing rule over the node's and its neighbours' models, weighted by the mixing weights (default: <see cref="Mean"/>).</summary>
    public IAggregator Aggregator { get; init; } = Mean.Instance;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (LocalSteps < 0) throw new ArgumentException($"Invalid number of local steps: {LocalSteps}; must be ≥ 0.", nameof(LocalSteps));
        if (BatchSize < 1) throw new ArgumentException($"Invalid batch size: {BatchSize}; must be ≥ 1.", nameof(BatchSize));
        if (!(RoundTimeout > 0)) throw new ArgumentException($"Invalid round timeout: {RoundTimeout} s; must be > 0 (infinity: no timeout).", nameof(RoundTimeout));
        if (Rounds < 0) throw new ArgumentException($"Invalid number of rounds: {Rounds}; must be ≥ 0 (0: unlimited).", nameof(Rounds));
        ArgumentNullException.ThrowIfNull(Aggregator);
    }
}

/// <summary>
/// Decentralized parallel SGD — Lian, Zhang, Zhang, Hsieh, Zhang, Liu, "Can Decentralized
/// Algorithms Outperform Centralized Algorithms? A Case Study for Decentralized Parallel Stochastic
/// Gradient Descent" (NeurIPS 2017), in its local-update-then-gossip form. Synchronous rounds: each
/// node runs K local steps, sends its model to its neighbours, waits until every neighbour's model
/// of the round arrived or a round timeout, then mixes <c>x_i ← Σ_j W_ij x_j</c>.
/// </summary>
/// <remarks>
/// <para>Missing neighbours (crashed, slow, lost message) are left out and the weights of the
/// models present are renormalised: <c>x_i ← (W_ii x_i + Σ_{j arrived} W_ij x_j) / (W_ii + Σ_{j arrived} W_ij)</c>.
/// Models are combined in node-id order, so arrival order never changes the result.</para>
/// <para>Catching up: a node that receives a model two or more rounds ahead of its own (it was down,
/// joined late, or is a straggler whose neighbours timed out on it) abandons its round and starts
/// the sender's round. Models of past rounds are ignored; models of future rounds are kept.</para>
/// </remarks>
public static class DSgd
{
    /// <summary>Kind of the model message.</summary>
    public const string ModelKind = "dsgd/model";

    /// <summary>Name of the round-timeout timer.</summary>
    public const string TimeoutTimer = "dsgd/timeout";

    /// <summary>
    /// Builds one D-SGD node per data view: node i trains on <paramref name="data"/>[i], has
    /// neighbours <paramref name="neighbors"/>[i] with mixing weights <paramref name="weights"/>[i]
    /// (W_ij, same order) and self weight <paramref name="selfWeights"/>[i] (W_ii). Every node starts
    /// from <see cref="LocalModel.InitialParameters"/>(learner, seed).
    /// </summary>
    /// <exception cref="ArgumentException">The arrays disagree in length, a neighbour id is invalid, or a weight is invalid.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data,
        IReadOnlyList<int[]> neighbors, IReadOnlyList<double[]> weights, IReadOnlyList<double> selfWeights, DSgdOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(selfWeights);
        int n = data.Count;
        if (neighbors.Count != n || weights.Count != n || selfWeights.Count != n)
            throw new ArgumentException($"Got {n} data views, {neighbors.Count} neighbour lists, {weights.Count} weight lists and {selfWeights.Count} self weights; all must match.");
        var init = LocalModel.InitialParameters(learner, seed);
        var nodes = new INodeBehavior[n];
        for (int i = 0; i < n; i++)
        {
            foreach (int j in neighbors[i])
                if ((uint)j >= (uint)n) throw new ArgumentException($"Node {i} has neighbour {j}; nodes are 0..{n - 1}.", nameof(neighbors));
            nodes[i] = new DSgdNode(i, neighbors[i], weights[i], selfWeights[i], learner, optimizer, data[i], init, options);
        }
        return nodes;
    }
}

/// <summary>A <see cref="DSgd"/> node (see there).</summary>
public sealed class DSgdNode : INodeBehavior
{
    [ThreadStatic] private static float[]? t_mix;

    private enum Phase { Idle, Training, Waiting, Done }

    private readonly int _id;
    private readonly int[] _neighbors;
    private readonly float[] _weights;
    private readonly float _selfWeight;
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly DSgdOptions _options;
    private readonly LocalModel _model;
    private readonly SortedDictionary<long, Message?[]> _inbox = new();
    private long _round;
    private Phase _phase;
    private long _timer = -1;
    private long _jumpTo = -1;

    /// <summary>Creates node <paramref name="id"/>.</summary>
    /// <param name="id">This node's id (it must be the id the host gives it).</param>
    /// <param name="neighbors">Neighbour ids (distinct, not <paramref name="id"/>).</param>
    /// <param name="weights">Mixing weights W_ij, in <paramref name="neighbors"/> order (finite, ≥ 0).</param>
    /// <param name="selfWeight">W_ii (finite, &gt; 0).</param>
    /// <param name="learner">The learner.</param>
    /// <param name="optimizer">The local optimizer.</param>
    /// <param name="data">The node's data.</param>
    /// <param name="initialParameters">Starting parameters (copied).</param>
    /// <param name="options">Protocol options.</param>
    /// <exception cref="ArgumentException">Invalid neighbours, weights or options.</exception>
    public DSgdNode(int id, IReadOnlyList<int> neighbors, IReadOnlyList<double> weights, double selfWeight, ILearner learner, IOptimizer optimizer,
        DatasetView data, ReadOnlySpan<float> initialParameters, DSgdOptions options)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (neighbors.Count != weights.Count) throw new ArgumentException($"Node {id} has {neighbors.Count} neighbours but {weights.Count} weights.", nameof(weights));
        if (!(selfWeight > 0) || !double.IsFinite(selfWeight)) throw new ArgumentException($"Invalid self weight of node {id}: {selfWeight}; must be finite and > 0.", nameof(selfWeight));
        var order = Enumerable.Range(0, neighbors.Count).OrderBy(k => neighbors[k]).ToArray();
        _neighbors = order.Select(k => neighbors[k]).ToArray();
        _weights = order.Select(k => (float)weights[k]).ToArray();
        for (int k = 0; k < _neighbors.Length; k++)
        {
            if (_neighbors[k] == id) throw new ArgumentException($"Node {id} lists itself as a neighbour; give its weight as the self weight.", nameof(neighbors));
            if (k > 0 && _neighbors[k] == _neighbors[k - 1]) throw new ArgumentException($"Node {id} lists neighbour {_neighbors[k]} twice.", nameof(neighbors));
            if (!(_weights[k] >= 0) || float.IsInfinity(_weights[k])) throw new ArgumentException($"Invalid mixing weight W[{id},{_neighbors[k]}] = {_weights[k]}; must be finite and ≥ 0.", nameof(weights));
        }
        _id = id;
        _selfWeight = (float)selfWeight;
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException($"D-SGD node {id} has local steps but no data.", nameof(data));
        _options = options;
        _model = LocalModel.Create(learner, optimizer, initialParameters);
    }

    /// <summary>The node's model (its parameters and optimizer state).</summary>
    public LocalModel Model => _model;

    /// <summary>The round in progress (0 before the first).</summary>
    public long CurrentRound => _round;

    /// <inheritdoc />
    public bool ReportsRounds => true;

    /// <inheritdoc />
    public ReadOnlyMemory<float> EvaluationModel => _model.Parameters;

    /// <inheritdoc />
    public void OnStart(INodeContext context)
    {
        context.CompleteRound(0);
        BeginRound(context, 1);
    }

    private void BeginRound(INodeContext context, long round)
    {
        if (_options.Rounds > 0 && round > _options.Rounds) { _phase = Phase.Done; return; }
        _round = round;
        _jumpTo = -1;
        while (_inbox.Count > 0 && _inbox.Keys.First() < round) _inbox.Remove(_inbox.Keys.First());
        _phase = Phase.Training;
        context.StartTraining(new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, round));
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        if (_jumpTo > _round) { BeginRound(context, _jumpTo); return; }
        var message = Message.WithModel(DSgd.ModelKind, _round, _model.Parameters);
        foreach (int j in _neighbors) context.Send(j, message);
        _phase = Phase.Waiting;
        ArmTimeout(context);
        TryFinish(context);
    }

    private void ArmTimeout(INodeContext context)
    {
        _timer = double.IsFinite(_options.RoundTimeout) ? context.SetTimer(_options.RoundTimeout, DSgd.TimeoutTimer, _round) : -1;
    }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (_phase == Phase.Done || message.Kind != DSgd.ModelKind || message.Round < _round || message.Model.Length != _model.ParameterCount) return;
        int k = Array.BinarySearch(_neighbors, from);
        if (k < 0) return;
        if (!_inbox.TryGetValue(message.Round, out var slots)) _inbox[message.Round] = slots = new Message?[_neighbors.Length];
        slots[k] = message;
        if (message.Round >= _round + 2)
        {
            // Two or more rounds behind this neighbour: catch up.
            if (_phase == Phase.Training) { _jumpTo = Math.Max(_jumpTo, message.Round); return; }
            if (_timer >= 0) { context.CancelTimer(_timer); _timer = -1; }
            BeginRound(context, message.Round);
            return;
        }
        if (_phase == Phase.Waiting && message.Round == _round) TryFinish(context);
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer)
    {
        if (timer.Name == DSgd.TimeoutTimer && timer.Value == _round && _phase == Phase.Waiting)
        {
            _timer = -1;
            Finish(context);
        }
    }

    private void TryFinish(INodeContext context)
    {
        if (_inbox.TryGetValue(_round, out var slots))
        {
            foreach (var m in slots) if (m is null) return;
            Finish(context);
        }
        else if (_neighbors.Length == 0) Finish(context);
    }

    private void Finish(INodeContext context)
    {
        if (_timer >= 0) { context.CancelTimer(_timer); _timer = -1; }
        _inbox.Remove(_round, out var slots);
        var parameters = _model.Parameters;
        int present = 1;
        if (slots is not null) foreach (var m in slots) if (m is not null) present++;
        if (present > 1)
        {
            var inputs = new ReadOnlyMemory<float>[present];
            var weights = new float[present];
            int idx = 0;
            bool selfPlaced = false;
            for (int k = 0; k < _neighbors.Length; k++)
            {
                if (!selfPlaced && _neighbors[k] > _id) { inputs[idx] = parameters; weights[idx++] = _selfWeight; selfPlaced = true; }
                if (slots![k] is { } m) { inputs[idx] = m.Model; weights[idx++] = _weights[k]; }
            }
            if (!selfPlaced) { inputs[idx] = parameters; weights[idx] = _selfWeight; }
            int p = parameters.Length;
            var mix = t_mix is { } t && t.Length >= p ? t : (t_mix = new float[p]);
            _options.Aggregator.Aggregate(inputs, weights, mix.AsSpan(0, p));
            mix.AsSpan(0, p).CopyTo(parameters);
        }
        _phase = Phase.Idle;
        context.CompleteRound(_round);
        BeginRound(context, _round + 1);
    }

    /// <summary>A crash lost the running job or the timeout: retrain the current round, or wait again.</summary>
    public void OnRecover(INodeContext context)
    {
        switch (_phase)
        {
            case Phase.Training:
                BeginRound(context, _jumpTo > _round ? _jumpTo : _round);
                break;
            case Phase.Waiting:
                ArmTimeout(context);
                TryFinish(context);
                break;
        }
    }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        _model.Write(writer);
        writer.Write(_round);
        writer.Write((int)_phase);
        writer.Write(_timer);
        writer.Write(_jumpTo);
        writer.Write(_inbox.Count);
        foreach (var (round, slots) in _inbox)
        {
            writer.Write(round);
            foreach (var m in slots) writer.WriteMessage(m);
        }
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        _model.Read(reader);
        _round = reader.ReadInt64();
        _phase = (Phase)reader.ReadInt32();
        _timer = reader.ReadInt64();
        _jumpTo = reader.ReadInt64();
        _inbox.Clear();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            long round = reader.ReadInt64();
            var slots = new Message?[_neighbors.Length];
            for (int k = 0; k < slots.Length; k++) slots[k] = reader.ReadMessage();
            _inbox[round] = slots;
        }
    }
}
