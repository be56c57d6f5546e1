using Flock.Aggregation;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;
using Flock.Tensors;
using Flock.Topology;

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
/// Models are combined in node-id order, so arrival order never changes the result. An honest node
/// applies its mix at the start of its next training job (<see cref="TrainingJob.Prologue"/>), on a
/// worker thread in parallel with other nodes, rather than in the simulator's event loop; reading
/// its model first (an evaluation, a checkpoint) applies the mix at once. The bits are the same.</para>
/// <para>Catching up: a node that receives a model two or more rounds ahead of its own (it was down,
/// joined late, or is a straggler whose neighbours timed out on it) abandons its round and starts
/// the sender's round. Models of past rounds are ignored; models of future rounds are kept.</para>
/// <para><b>Robust mode.</b> The overload of <c>CreateNodes</c> without mixing weights gives every
/// model weight 1: each node aggregates {its own model} ∪ {the neighbour models received this round}
/// with <see cref="DSgdOptions.Aggregator"/> — a plain average with <see cref="Mean"/>, a robust
/// aggregate with a robust rule (e.g. <c>new PreAggregated(new NearestNeighborMixing(f), new TrimmedMean(f))</c>,
/// "nnm+trimmed-mean"). The rule's preconditions (e.g. 2f &lt; n for a trimmed mean) should hold for
/// the number of models a node aggregates: its degree + 1 (the experiment runner checks the lowest
/// degree of a static graph before the run). When fewer models arrive than the rule accepts
/// (neighbours missed the timeout, or a time-varying graph gave the node fewer neighbours), the node
/// keeps its own model for that round and reports the round as failed (counted in the metrics'
/// <c>failed_rounds</c>, once per node and round) instead of stopping the run.</para>
/// <para><b>Byzantine nodes</b> (<see cref="DSgdOptions.Byzantine"/>) train honestly, then send
/// crafted models to their neighbours (see <see cref="ByzantineSetup"/>); their own model follows
/// the protocol with the honest models only (they ignore their colluders' crafted models).</para>
/// <para><b>Time-varying graphs.</b> The overload taking an <see cref="ITopologySchedule"/> runs on
/// a graph that may change every round: in round r (1-based) each node sends to, waits for and mixes
/// with its neighbours in <see cref="ITopologySchedule.GraphAt"/>(r), with that graph's
/// Metropolis–Hastings row (<see cref="MixingMatrix.MetropolisHastingsRow"/>) or all-ones weights in
/// the robust mode. The schedule is a pure function of (seed, round), so every node computes its own
/// row from the shared immutable schedule; no node reads another's state.</para>
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

    /// <summary>
    /// Builds one D-SGD node per data view on a (possibly) time-varying graph: in round r node i
    /// exchanges models with <c>topology.GraphAt(r).Neighbors(i)</c> and mixes with that graph's
    /// Metropolis–Hastings weights (<see cref="MixingMatrix.MetropolisHastingsRow"/>), or — with
    /// <paramref name="robust"/> — aggregates {own model} ∪ {received models} with weight 1 each using
    /// <see cref="DSgdOptions.Aggregator"/>, as the overload without weights does. Every node starts
    /// from <see cref="LocalModel.InitialParameters"/>(learner, seed); the nodes of
    /// <see cref="DSgdOptions.Byzantine"/> are Byzantine (their attack context — degree and colluding
    /// neighbours — follows each round's graph).
    /// </summary>
    /// <param name="learner">The learner (shared).</param>
    /// <param name="optimizer">The local optimizer.</param>
    /// <param name="data">Node i trains on data[i].</param>
    /// <param name="topology">The graph of every round (shared; it must be deterministic and thread-safe, as <see cref="ITopologySchedule"/> requires).</param>
    /// <param name="options">Protocol options.</param>
    /// <param name="seed">Experiment seed.</param>
    /// <param name="robust">False: Metropolis–Hastings weights of each round's graph; true: all weights 1 (the robust mode).</param>
    /// <exception cref="ArgumentException">The schedule's node count differs from the number of data views, an option is invalid, or the Byzantine setup is invalid.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data,
        ITopologySchedule topology, DSgdOptions options, ulong seed, bool robust = false)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int n = data.Count;
        if (topology.NodeCount != n)
            throw new ArgumentException($"The topology has {topology.NodeCount} nodes but there are {n} data views; they must match.", nameof(topology));
        var mixer = ModelMixer.For(options.Aggregator);
        var byzantine = options.Byzantine;
        var adversary = byzantine is null ? null : new ByzantineAdversary(byzantine, n, seed, mixer.TargetAggregator, AttackSpace.Model);
        var init = LocalModel.InitialParameters(learner, seed);
        var first = topology.GraphAt(1);
        var nodes = new INodeBehavior[n];
        for (int i = 0; i < n; i++)
        {
            var view = data[i];
            ByzantineRole? role = null;
            if (adversary is not null && adversary.IsByzantine(i))
            {
                if (byzantine!.DataPoisoning is { } poison) view = poison.Poison(view, Rng.Derive(seed, (ulong)i, 0, "poison"));
                var nb = first.Neighbors(i);
                int colluders = 1;
                foreach (int j in nb) if (adversary.IsByzantine(j)) colluders++;
                if (byzantine.Crafts) role = new ByzantineRole(adversary, i, nb.Length + 1, colluders);
            }
            nodes[i] = new DSgdNode(i, topology, robust, learner, optimizer, view, init, options, mixer, role);
        }
        return nodes;
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

    /// <summary>A node's neighbourhood in one round: sorted neighbours, their weights, the self weight and whose models it needs.</summary>
    private sealed class Row(long round, int[] neighbors, float[] weights, float selfWeight, bool[] needed, int colluders)
    {
        public readonly long Round = round;
        public readonly int[] Neighbors = neighbors;
        public readonly float[] Weights = weights;
        public readonly float SelfWeight = selfWeight;
        public readonly bool[] Needed = needed;
        public readonly int Colluders = colluders;
    }

    private readonly int _id;
    private readonly ITopologySchedule? _schedule;
    private readonly bool _robust;
    private Row _row;
    private Row? _ahead;
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly DSgdOptions _options;
    private readonly LocalModel _model;
    private readonly ModelMixer _mixer;
    private readonly ByzantineRole? _byzantine;
    private readonly RoundInbox _inbox = new();
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
        var sorted = order.Select(k => neighbors[k]).ToArray();
        var w = order.Select(k => (float)weights[k]).ToArray();
        for (int k = 0; k < sorted.Length; k++)
        {
            if (sorted[k] == id) throw new ArgumentException($"Node {id} lists itself as a neighbour; give its weight as the self weight.", nameof(neighbors));
            if (k > 0 && sorted[k] == sorted[k - 1]) throw new ArgumentException($"Node {id} lists neighbour {sorted[k]} twice.", nameof(neighbors));
            if (!(w[k] >= 0) || float.IsInfinity(w[k])) throw new ArgumentException($"Invalid mixing weight W[{id},{sorted[k]}] = {w[k]}; must be finite and ≥ 0.", nameof(weights));
        }
        _id = id;
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException($"D-SGD node {id} has local steps but no data.", nameof(data));
        _options = options;
        _model = LocalModel.Create(learner, optimizer, initialParameters);
        _mixer = mixer ?? throw new ArgumentNullException(nameof(mixer));
        _byzantine = byzantine;
        _row = MakeRow(-1, sorted, w, (float)selfWeight);
    }

    /// <summary>A node of the time-varying D-SGD (see <see cref="DSgd.CreateNodes(ILearner, IOptimizer, IReadOnlyList{DatasetView}, ITopologySchedule, DSgdOptions, ulong, bool)"/>).</summary>
    internal DSgdNode(int id, ITopologySchedule schedule, bool robust, ILearner learner, IOptimizer optimizer,
        DatasetView data, ReadOnlySpan<float> initialParameters, DSgdOptions options, ModelMixer mixer, ByzantineRole? byzantine)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        if ((uint)id >= (uint)schedule.NodeCount) throw new ArgumentException($"Invalid node id {id}; the topology has nodes 0..{schedule.NodeCount - 1}.", nameof(id));
        _robust = robust;
        _id = id;
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException($"D-SGD node {id} has local steps but no data.", nameof(data));
        _options = options;
        _model = LocalModel.Create(learner, optimizer, initialParameters);
        _mixer = mixer ?? throw new ArgumentNullException(nameof(mixer));
        _byzantine = byzantine;
        _row = ScheduledRow(1);
    }

    private Row MakeRow(long round, int[] neighbors, float[] weights, float selfWeight)
    {
        // Whose models a node waits for and mixes: every neighbour, except that a crafting Byzantine
        // node ignores its colluders (their models are crafted, and they wait on honest nodes only).
        var needed = new bool[neighbors.Length];
        int colluders = 1;
        for (int k = 0; k < neighbors.Length; k++)
        {
            bool byz = _byzantine is not null && _byzantine.Adversary.IsByzantine(neighbors[k]);
            needed[k] = !byz;
            if (byz) colluders++;
        }
        return new Row(round, neighbors, weights, selfWeight, needed, colluders);
    }

    /// <summary>The node's row of round <paramref name="round"/> of the schedule (Metropolis–Hastings weights, or ones in the robust mode).</summary>
    private Row ScheduledRow(long round)
    {
        var graph = _schedule!.GraphAt(round);
        var neighbors = graph.Neighbors(_id).ToArray(); // sorted ascending
        var weights = new float[neighbors.Length];
        float self;
        if (_robust)
        {
            Array.Fill(weights, 1f);
            self = 1f;
        }
        else
        {
            Span<double> w = neighbors.Length <= 256 ? stackalloc double[neighbors.Length] : new double[neighbors.Length];
            self = (float)MixingMatrix.MetropolisHastingsRow(graph, _id, w);
            for (int k = 0; k < w.Length; k++) weights[k] = (float)w[k];
        }
        return MakeRow(round, neighbors, weights, self);
    }

    /// <summary>The row of <paramref name="round"/>: the fixed one on a static graph, else the current or a cached or a fresh one.</summary>
    private Row RowAt(long round)
    {
        if (_schedule is null || _row.Round == round) return _row;
        if (_ahead is { } a && a.Round == round) return a;
        return _ahead = ScheduledRow(round);
    }

    /// <summary>Makes <paramref name="round"/> the current round's row (and the Byzantine attack context).</summary>
    private void UseRow(long round)
    {
        if (_schedule is null) return;
        _row = RowAt(round);
        _byzantine?.SetContext(_row.Neighbors.Length + 1, _row.Colluders);
    }

    /// <summary>The neighbours this node exchanges models with in the current round, ascending (on a time-varying graph they change with <see cref="CurrentRound"/>).</summary>
    public ReadOnlySpan<int> CurrentNeighbors => _row.Neighbors;

    /// <summary>The node's model (its parameters and optimizer state).</summary>
    public LocalModel Model => _model;

    /// <summary>The round in progress (0 before the first).</summary>
    public long CurrentRound => _round;

    /// <summary>True if this node crafts the models it sends (a Byzantine node with a model attack or a boosted backdoor).</summary>
    public bool IsByzantine => _byzantine is not null;

    /// <inheritdoc />
    public bool ReportsRounds => true;

    /// <inheritdoc />
    /// <remarks>Reading it applies a mix still waiting for the next training job, so it is always the current model.</remarks>
    public ReadOnlyMemory<float> EvaluationModel
    {
        get
        {
            ApplyPendingMix();
            return _model.Parameters;
        }
    }

    /// <inheritdoc />
    public void OnStart(INodeContext context)
    {
        context.CompleteRound(0);
        BeginRound(context, 1);
    }

    private void BeginRound(INodeContext context, long round)
    {
        if (_options.Rounds > 0 && round > _options.Rounds)
        {
            ApplyPendingMix();
            _phase = Phase.Done;
            return;
        }
        _round = round;
        UseRow(round);
        _jumpTo = -1;
        _inbox.DropBefore(round);
        _phase = Phase.Training;
        _byzantine?.BeginRound(context, round, _model.Parameters);
        // The previous round's mix runs at the start of this job, on its worker thread.
        var pending = _pendingMix;
        _pendingMix = null;
        context.StartTraining(new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, round)
        {
            SnapshotParameters = _byzantine is null,
            Prologue = pending is null ? null : () => ApplyMix(pending),
        });
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
        // The job copied the trained model on its worker thread; after a resume it did not.
        var message = result.Snapshot is { } snapshot && snapshot.Length == _model.ParameterCount
            ? new Message(DSgd.ModelKind, _round, snapshot)
            : Message.WithModel(DSgd.ModelKind, _round, _model.Parameters);
        foreach (int j in _row.Neighbors) context.Send(j, message);
        EnterWaiting(context);
    }

    private bool Rushes => _byzantine is { ReadsHonest: true } b && b.Adversary.Setup.Rushing && _row.Needed.Contains(true);

    private void TryCraft(INodeContext context)
    {
        double delay = _byzantine!.CraftDelay(context.Now, _round, !Rushes || HonestModelsArrived());
        if (delay < 0) { CraftAndSend(context); return; }
        NodeTimers.Cancel(context, ref _timer);
        if (double.IsFinite(delay)) _timer = context.SetTimer(delay, DSgd.CraftTimer, _round);
    }

    private bool HonestModelsArrived()
    {
        return _inbox.IsComplete(_round, _row.Needed);
    }

    private void CraftAndSend(INodeContext context)
    {
        NodeTimers.Cancel(context, ref _timer);
        var b = _byzantine!;
        var observed = new List<ReadOnlyMemory<float>>();
        if (b.ReadsHonest && _inbox.TryGet(_round, out var slots))
            for (int k = 0; k < slots.Length; k++)
                if (_row.Needed[k] && slots[k] is { } m) observed.Add(m.Model);
        var trained = _model.Parameters;
        if (b.Adversary.Setup.PerNeighbor && b.Attack is not null)
        {
            foreach (int j in _row.Neighbors)
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
            foreach (int j in _row.Neighbors) context.Send(j, message);
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
        // The sender must be a neighbour in the message's round (on a time-varying graph, that round's graph).
        var row = RowAt(message.Round);
        int k = Array.BinarySearch(row.Neighbors, from);
        if (k < 0) return;
        _inbox.SlotsFor(message.Round, row.Neighbors.Length)[k] = message;
        if (message.Round >= _round + 2)
        {
            // Two or more rounds behind this neighbour: catch up.
            if (_phase == Phase.Training) { _jumpTo = Math.Max(_jumpTo, message.Round); return; }
            NodeTimers.Cancel(context, ref _timer);
            BeginRound(context, message.Round);
            return;
        }
        if (message.Round != _round) return;
        if (_phase == Phase.Waiting) TryFinish(context);
        else if (_phase == Phase.Crafting && Rushes && row.Needed[k] && HonestModelsArrived()) TryCraft(context);
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
        if (_inbox.IsComplete(_round, _row.Needed)) Finish(context);
    }

    private void Finish(INodeContext context)
    {
        NodeTimers.Cancel(context, ref _timer);
        var slots = _inbox.Take(_round);
        var row = _row;
        var needed = row.Needed;
        var parameters = _model.Parameters;
        int present = 1;
        if (slots is not null)
            for (int k = 0; k < slots.Length; k++) if (needed[k] && slots[k] is not null) present++;
        // Too few models for the rule (e.g. a trimmed mean after timeouts): keep the own model and
        // record the round as failed, as FedAvg does below its minimum of replies.
        bool mixes = present > 1 && _mixer.CanMix(present);
        if (mixes)
        {
            var inputs = new ReadOnlyMemory<float>[present];
            var weights = new float[present];
            int idx = 0, self = -1;
            for (int k = 0; k < row.Neighbors.Length; k++)
            {
                if (self < 0 && row.Neighbors[k] > _id) { self = idx; inputs[idx] = parameters; weights[idx++] = row.SelfWeight; }
                if (needed[k] && slots![k] is { } m) { inputs[idx] = m.Model; weights[idx++] = row.Weights[k]; }
            }
            if (self < 0) { self = idx; inputs[idx] = parameters; weights[idx] = row.SelfWeight; }
            var mix = new PendingMix(inputs, weights, self, context.DeriveRng("aggregate", _round).NextUInt64());
            if (_byzantine is null) _pendingMix = mix; // applied by the next job, or when the model is read first
            else
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                ApplyMix(mix);
                context.AddAggregationTime(System.Diagnostics.Stopwatch.GetTimestamp() - t0);
            }
        }
        _phase = Phase.Idle;
        context.CompleteRound(_round, succeeded: mixes || present == 1);
        BeginRound(context, _round + 1);
    }

    /// <summary>
    /// A finished round's mix not yet applied to the model: its inputs (the node's own model at
    /// <c>Self</c>, the received models in node-id order), their weights and the seed of the rule's
    /// randomness. Honest nodes hand it to the next training job, which applies it on its worker
    /// thread before the local steps, so mixing runs in parallel across nodes instead of on the
    /// simulator's event loop; the result is the same bits either way.
    /// </summary>
    private sealed record PendingMix(ReadOnlyMemory<float>[] Inputs, float[] Weights, int Self, ulong Seed);

    private PendingMix? _pendingMix;

    private void ApplyPendingMix()
    {
        if (_pendingMix is not { } mix) return;
        _pendingMix = null;
        ApplyMix(mix);
    }

    private void ApplyMix(PendingMix m)
    {
        // Raw access: inside a job the model is locked for everyone but the job.
        var parameters = _model.RawParameters;
        int p = parameters.Length;
        var mix = t_mix is { } t && t.Length >= p ? t : (t_mix = new float[p]);
        _mixer.Mix(m.Inputs, m.Weights, m.Self, mix.AsSpan(0, p), m.Seed);
        mix.AsSpan(0, p).CopyTo(parameters);
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
        ApplyPendingMix(); // not expected outside a callback; a checkpoint then holds the mixed model
        _model.Write(writer);
        writer.Write(_round);
        writer.Write((int)_phase);
        writer.Write(_timer);
        writer.Write(_jumpTo);
        _inbox.Write(writer);
        _byzantine?.WriteState(writer);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        _model.Read(reader);
        _round = reader.ReadInt64();
        if (_round > 0) UseRow(_round);
        _phase = (Phase)reader.ReadInt32();
        _timer = reader.ReadInt64();
        _jumpTo = reader.ReadInt64();
        _inbox.Read(reader, round => RowAt(round).Neighbors.Length);
        _byzantine?.ReadState(reader);
    }
}
