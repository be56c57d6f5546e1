using Flock.Aggregation;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;
using Flock.Tensors;

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

    /// <summary>
    /// The mixing rule over the node's and its neighbours' models (default: <see cref="Mean"/>),
    /// given the mixing weights — or all-ones weights in the robust mode (the
    /// <see cref="DSgd.CreateNodes(ILearner, IOptimizer, IReadOnlyList{DatasetView}, IReadOnlyList{int[]}, DSgdOptions, ulong)"/>
    /// overload without weights). Robust rules ignore weights; a <see cref="PreAggregated"/> rule
    /// draws its randomness from a seed derived per node and round.
    /// </summary>
    public IAggregator Aggregator { get; init; } = Mean.Instance;

    /// <summary>Byzantine nodes and their attack (null, the default: every node is honest). See <see cref="ByzantineSetup"/>; the attack space defaults to <see cref="AttackSpace.Model"/>.</summary>
    public ByzantineSetup? Byzantine { get; init; }

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
/// <para><b>Robust mode.</b> The overload of <c>CreateNodes</c> without mixing weights gives every
/// model weight 1: each node aggregates {its own model} ∪ {the neighbour models received this round}
/// with <see cref="DSgdOptions.Aggregator"/> — a plain average with <see cref="Mean"/>, a robust
/// aggregate with a robust rule (e.g. <c>new PreAggregated(new NearestNeighborMixing(f), new TrimmedMean(f))</c>,
/// "nnm+trimmed-mean"). The rule's preconditions (e.g. 2f &lt; n for a trimmed mean) must hold for the
/// number of models a node aggregates: its degree + 1, fewer when neighbours miss the timeout.</para>
/// <para><b>Byzantine nodes</b> (<see cref="DSgdOptions.Byzantine"/>) train honestly, then send
/// crafted models to their neighbours (see <see cref="ByzantineSetup"/>); their own model follows
/// the protocol with the honest models only (they ignore their colluders' crafted models).</para>
/// </remarks>
public static class DSgd
{
    /// <summary>Kind of the model message.</summary>
    public const string ModelKind = "dsgd/model";

    /// <summary>Name of the round-timeout timer.</summary>
    public const string TimeoutTimer = "dsgd/timeout";

    /// <summary>Name of a Byzantine node's crafting timer (a poll of the colluders' pool, or a waiting deadline).</summary>
    public const string CraftTimer = "dsgd/craft";

    /// <summary>
    /// Builds one D-SGD node per data view: node i trains on <paramref name="data"/>[i], has
    /// neighbours <paramref name="neighbors"/>[i] with mixing weights <paramref name="weights"/>[i]
    /// (W_ij, same order) and self weight <paramref name="selfWeights"/>[i] (W_ii). Every node starts
    /// from <see cref="LocalModel.InitialParameters"/>(learner, seed). The nodes of
    /// <see cref="DSgdOptions.Byzantine"/> are Byzantine.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays disagree in length, a neighbour id is invalid, a weight is invalid, or the Byzantine setup is invalid.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data,
        IReadOnlyList<int[]> neighbors, IReadOnlyList<double[]> weights, IReadOnlyList<double> selfWeights, DSgdOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Build(learner, optimizer, data, neighbors, weights, selfWeights, options, ModelMixer.For(options.Aggregator), options.Byzantine, seed);
    }

    /// <summary>
    /// The robust mode: like the weighted overload but every model gets weight 1, so each node
    /// aggregates {own model} ∪ {received neighbour models} with <see cref="DSgdOptions.Aggregator"/>
    /// (uniform averaging with <see cref="Mean"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The arrays disagree in length, a neighbour id is invalid, or the Byzantine setup is invalid.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data,
        IReadOnlyList<int[]> neighbors, DSgdOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (weights, self) = UniformWeights(neighbors);
        return Build(learner, optimizer, data, neighbors, weights, self, options, ModelMixer.For(options.Aggregator), options.Byzantine, seed);
    }

    /// <summary>Weight 1 for every neighbour and for the node itself.</summary>
    internal static (double[][] Weights, double[] Self) UniformWeights(IReadOnlyList<int[]> neighbors)
    {
        var w = new double[neighbors.Count][];
        for (int i = 0; i < w.Length; i++)
            w[i] = Enumerable.Repeat(1.0, (neighbors[i] ?? throw new ArgumentException($"The neighbour list of node {i} is null.", nameof(neighbors))).Length).ToArray();
        return (w, Enumerable.Repeat(1.0, neighbors.Count).ToArray());
    }

    /// <summary>Builds D-SGD-shaped nodes with a mixing rule and optional Byzantine nodes (shared by D-SGD and MoNNA).</summary>
    internal static INodeBehavior[] Build(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data,
        IReadOnlyList<int[]> neighbors, IReadOnlyList<double[]> weights, IReadOnlyList<double> selfWeights, DSgdOptions options,
        ModelMixer mixer, ByzantineSetup? byzantine, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(selfWeights);
        int n = data.Count;
        if (neighbors.Count != n || weights.Count != n || selfWeights.Count != n)
            throw new ArgumentException($"Got {n} data views, {neighbors.Count} neighbour lists, {weights.Count} weight lists and {selfWeights.Count} self weights; all must match.");
        var adversary = byzantine is null ? null : new ByzantineAdversary(byzantine, n, seed, mixer.TargetAggregator, AttackSpace.Model);
        var init = LocalModel.InitialParameters(learner, seed);
        var nodes = new INodeBehavior[n];
        for (int i = 0; i < n; i++)
        {
            foreach (int j in neighbors[i])
                if ((uint)j >= (uint)n) throw new ArgumentException($"Node {i} has neighbour {j}; nodes are 0..{n - 1}.", nameof(neighbors));
            var view = data[i];
            ByzantineRole? role = null;
            if (adversary is not null && adversary.IsByzantine(i))
            {
                if (byzantine!.DataPoisoning is { } poison) view = poison.Poison(view, Rng.Derive(seed, (ulong)i, 0, "poison"));
                int colluders = 1 + neighbors[i].Count(adversary.IsByzantine);
                if (byzantine.Crafts) role = new ByzantineRole(adversary, i, neighbors[i].Length + 1, colluders);
            }
            nodes[i] = new DSgdNode(i, neighbors[i], weights[i], selfWeights[i], learner, optimizer, view, init, options, mixer, role);
        }
        return nodes;
    }
}

/// <summary>A <see cref="DSgd"/> node (see there); also the node of <see cref="Monna"/>, with its mixing rule.</summary>
public sealed class DSgdNode : INodeBehavior
{
    [ThreadStatic] private static float[]? t_mix;

    private enum Phase { Idle, Training, Waiting, Done, Crafting }

    private readonly int _id;
    private readonly int[] _neighbors;
    private readonly float[] _weights;
    private readonly float _selfWeight;
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly DSgdOptions _options;
    private readonly LocalModel _model;
    private readonly ModelMixer _mixer;
    private readonly ByzantineRole? _byzantine;
    private readonly bool[] _needed;
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
    /// <param name="options">Protocol options (<see cref="DSgdOptions.Byzantine"/> is ignored here: use <see cref="DSgd.CreateNodes(ILearner, IOptimizer, IReadOnlyList{DatasetView}, IReadOnlyList{int[]}, IReadOnlyList{double[]}, IReadOnlyList{double}, DSgdOptions, ulong)"/>).</param>
    /// <exception cref="ArgumentException">Invalid neighbours, weights or options.</exception>
    public DSgdNode(int id, IReadOnlyList<int> neighbors, IReadOnlyList<double> weights, double selfWeight, ILearner learner, IOptimizer optimizer,
        DatasetView data, ReadOnlySpan<float> initialParameters, DSgdOptions options)
        : this(id, neighbors, weights, selfWeight, learner, optimizer, data, initialParameters, options,
            ModelMixer.For((options ?? throw new ArgumentNullException(nameof(options))).Aggregator), null)
    {
    }

    internal DSgdNode(int id, IReadOnlyList<int> neighbors, IReadOnlyList<double> weights, double selfWeight, ILearner learner, IOptimizer optimizer,
        DatasetView data, ReadOnlySpan<float> initialParameters, DSgdOptions options, ModelMixer mixer, ByzantineRole? byzantine)
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
        _mixer = mixer ?? throw new ArgumentNullException(nameof(mixer));
        _byzantine = byzantine;
        // Whose models a node waits for and mixes: every neighbour, except that a crafting Byzantine
        // node ignores its colluders (their models are crafted, and they wait on honest nodes only).
        _needed = _neighbors.Select(j => byzantine is null || !byzantine.Adversary.IsByzantine(j)).ToArray();
    }

    /// <summary>The node's model (its parameters and optimizer state).</summary>
    public LocalModel Model => _model;

    /// <summary>The round in progress (0 before the first).</summary>
    public long CurrentRound => _round;

    /// <summary>True if this node crafts the models it sends (a Byzantine node with a model attack or a boosted backdoor).</summary>
    public bool IsByzantine => _byzantine is not null;

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
        _byzantine?.BeginRound(context, round, _model.Parameters);
        context.StartTraining(new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, round));
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        if (_jumpTo > _round) { BeginRound(context, _jumpTo); return; }
        if (_byzantine is { } b)
        {
            b.Trained(context, _round, _model.Parameters, _options.RoundTimeout);
            _phase = Phase.Crafting;
            TryCraft(context);
            return;
        }
        var message = Message.WithModel(DSgd.ModelKind, _round, _model.Parameters);
        foreach (int j in _neighbors) context.Send(j, message);
        EnterWaiting(context);
    }

    private bool Rushes => _byzantine is { ReadsHonest: true } b && b.Adversary.Setup.Rushing && _needed.Contains(true);

    private void TryCraft(INodeContext context)
    {
        double delay = _byzantine!.CraftDelay(context.Now, _round, !Rushes || HonestModelsArrived());
        if (delay < 0) { CraftAndSend(context); return; }
        if (_timer >= 0) { context.CancelTimer(_timer); _timer = -1; }
        if (double.IsFinite(delay)) _timer = context.SetTimer(delay, DSgd.CraftTimer, _round);
    }

    private bool HonestModelsArrived()
    {
        if (!_inbox.TryGetValue(_round, out var slots)) return !_needed.Contains(true);
        for (int k = 0; k < slots.Length; k++) if (_needed[k] && slots[k] is null) return false;
        return true;
    }

    private void CraftAndSend(INodeContext context)
    {
        if (_timer >= 0) { context.CancelTimer(_timer); _timer = -1; }
        var b = _byzantine!;
        var observed = new List<ReadOnlyMemory<float>>();
        if (b.ReadsHonest && _inbox.TryGetValue(_round, out var slots))
            for (int k = 0; k < slots.Length; k++)
                if (_needed[k] && slots[k] is { } m) observed.Add(m.Model);
        var trained = _model.Parameters;
        if (b.Adversary.Setup.PerNeighbor && b.Attack is not null)
        {
            foreach (int j in _neighbors)
            {
                var v = new float[trained.Length];
                b.Craft(context, _round, trained, observed, j, v);
                context.Send(j, new Message(DSgd.ModelKind, _round, v));
            }
        }
        else
        {
            var v = new float[trained.Length];
            b.Craft(context, _round, trained, observed, -1, v);
            var message = new Message(DSgd.ModelKind, _round, v);
            foreach (int j in _neighbors) context.Send(j, message);
        }
        EnterWaiting(context);
    }

    private void EnterWaiting(INodeContext context)
    {
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
        if (message.Round != _round) return;
        if (_phase == Phase.Waiting) TryFinish(context);
        else if (_phase == Phase.Crafting && Rushes && _needed[k] && HonestModelsArrived()) TryCraft(context);
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer)
    {
        if (timer.Value != _round) return;
        if (timer.Name == DSgd.TimeoutTimer && _phase == Phase.Waiting)
        {
            _timer = -1;
            Finish(context);
        }
        else if (timer.Name == DSgd.CraftTimer && _phase == Phase.Crafting)
        {
            _timer = -1;
            TryCraft(context);
        }
    }

    private void TryFinish(INodeContext context)
    {
        if (_inbox.TryGetValue(_round, out var slots))
        {
            for (int k = 0; k < slots.Length; k++) if (_needed[k] && slots[k] is null) return;
            Finish(context);
        }
        else if (!_needed.Contains(true)) Finish(context);
    }

    private void Finish(INodeContext context)
    {
        if (_timer >= 0) { context.CancelTimer(_timer); _timer = -1; }
        _inbox.Remove(_round, out var slots);
        var parameters = _model.Parameters;
        int present = 1;
        if (slots is not null)
            for (int k = 0; k < slots.Length; k++) if (_needed[k] && slots[k] is not null) present++;
        if (present > 1)
        {
            var inputs = new ReadOnlyMemory<float>[present];
            var weights = new float[present];
            int idx = 0, self = -1;
            for (int k = 0; k < _neighbors.Length; k++)
            {
                if (self < 0 && _neighbors[k] > _id) { self = idx; inputs[idx] = parameters; weights[idx++] = _selfWeight; }
                if (_needed[k] && slots![k] is { } m) { inputs[idx] = m.Model; weights[idx++] = _weights[k]; }
            }
            if (self < 0) { self = idx; inputs[idx] = parameters; weights[idx] = _selfWeight; }
            int p = parameters.Length;
            var mix = t_mix is { } t && t.Length >= p ? t : (t_mix = new float[p]);
            _mixer.Mix(inputs, weights, self, mix.AsSpan(0, p), context, _round);
            mix.AsSpan(0, p).CopyTo(parameters);
        }
        _phase = Phase.Idle;
        context.CompleteRound(_round);
        BeginRound(context, _round + 1);
    }

    /// <summary>A crash lost the running job or the timeout: retrain the current round, or wait again (a Byzantine node waiting to craft crafts at once).</summary>
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
            case Phase.Crafting:
                _timer = -1;
                CraftAndSend(context);
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
        _byzantine?.WriteState(writer);
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
        _byzantine?.ReadState(reader);
    }
}
