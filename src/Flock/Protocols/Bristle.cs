using System.Numerics.Tensors;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>Options of <see cref="Bristle"/>.</summary>
public sealed class BristleOptions
{
    /// <summary>Local steps K per round (only the output layer moves).</summary>
    public int LocalSteps { get; init; } = 1;

    /// <summary>Local minibatch size B.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seconds a node waits for its neighbours' models after sending its own (infinity: wait for all).</summary>
    public double RoundTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Rounds to run (0: until the host stops).</summary>
    public long Rounds { get; init; }

    /// <summary>Prioritizer: number of received models nearest (L2) to the node's freshly trained one that are kept (default 50, the authors' code).</summary>
    public int NearestModels { get; init; } = 50;

    /// <summary>Prioritizer: number of further models drawn at random from the rest (default 5, the authors' code).</summary>
    public int RandomModels { get; init; } = 5;

    /// <summary>Integrator: a candidate whose score S is below this is dropped (default −1000; UNCONFIRMED). With the default sigmoid any S below 100·ln(0.4/0.6) ≈ −40.5 already gets weight 0.</summary>
    public double DropScore { get; init; } = -1000;

    /// <summary>Integrator: certainty = max(0, mean − f·std) of the candidate's per-class recalls; this is f (default 1, one of the authors' variants; UNCONFIRMED).</summary>
    public double CertaintyStdFactor { get; init; } = 1;

    /// <summary>
    /// Name prefix of the exchanged output layer's tensors (e.g. <c>"2.fc2"</c>); null (default) takes
    /// the layer of the layout's last tensor (its name up to the last '.').
    /// </summary>
    public string? OutputLayer { get; init; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (LocalSteps < 0) throw new ArgumentException($"Invalid number of local steps: {LocalSteps}; must be ≥ 0.", nameof(LocalSteps));
        if (BatchSize < 1) throw new ArgumentException($"Invalid batch size: {BatchSize}; must be ≥ 1.", nameof(BatchSize));
        if (!(RoundTimeout > 0)) throw new ArgumentException($"Invalid round timeout: {RoundTimeout} s; must be > 0 (infinity: no timeout).", nameof(RoundTimeout));
        if (Rounds < 0) throw new ArgumentException($"Invalid number of rounds: {Rounds}; must be ≥ 0 (0: unlimited).", nameof(Rounds));
        if (NearestModels < 0) throw new ArgumentException($"Invalid number of nearest models: {NearestModels}; must be ≥ 0.", nameof(NearestModels));
        if (RandomModels < 0) throw new ArgumentException($"Invalid number of random models: {RandomModels}; must be ≥ 0.", nameof(RandomModels));
        if (double.IsNaN(DropScore)) throw new ArgumentException("Invalid drop score: NaN.", nameof(DropScore));
        if (!(CertaintyStdFactor >= 0) || !double.IsFinite(CertaintyStdFactor)) throw new ArgumentException($"Invalid certainty std factor: {CertaintyStdFactor}; must be finite and ≥ 0.", nameof(CertaintyStdFactor));
    }
}

/// <summary>
/// Bristle — Verbraeken, de Vos &amp; Pouwelse, "Bristle: Decentralized Federated Learning in
/// Byzantine, Non-i.i.d. Environments" (arXiv 2110.11006, 2021). Transfer learning: the feature
/// layers are frozen and shared by every node; only the output layer is trained and exchanged.
/// Synchronous rounds over a graph: each node trains K steps of its output layer, sends it to its
/// neighbours, waits for theirs (or a timeout), and integrates them with a distance-based
/// prioritizer and a performance-based integrator.
/// </summary>
/// <remarks>
/// <para><b>Prioritizer.</b> Of the received output layers, keep the <see cref="BristleOptions.NearestModels"/>
/// nearest (L2, ties by neighbour id) to the node's freshly trained one, plus
/// <see cref="BristleOptions.RandomModels"/> drawn at random from the rest
/// (<c>DeriveRng(ExplorePurpose, round)</c>).</para>
/// <para><b>Integrator</b> (simplified per-model form of the authors' per-class code; UNCONFIRMED):
/// with the node's own per-class recalls r_c and a candidate's q_c on the node's small local test set
/// (classes absent from it are skipped), diff_c = 10|r_c − q_c| and the score
/// <c>S = Σ_c (q_c &gt; r_c ? diff_c^(3 + r_c) : −diff_c^(4 + r_c))</c> — a superlinear penalty where the
/// candidate is worse; certainty = max(0, mean_c q_c − f·std_c q_c); weight
/// <c>w = max(0, 10σ(S/100) − 4)·certainty</c>, 0 if S &lt; <see cref="BristleOptions.DropScore"/>; then
/// <c>θ ← (θ_own + Σ_j w_j θ_j) / (1 + Σ_j w_j)</c> over the output layer. The authors' per-class
/// mixing and sequential-attack penalty are left out.</para>
/// <para><b>Frozen features.</b> Every node starts from one shared parameter vector (pre-trained with
/// <see cref="PretrainFeatures"/> on public data, or a seeded initialization). Training computes the
/// full gradient but zeroes it outside the output layer, and the frozen part is restored from the
/// shared vector after each job, so it never changes whatever the optimizer (weight decay included).
/// Scoring a candidate runs the full network on the local test set with the candidate's output
/// layer (cost: candidates × test examples forward passes per round).</para>
/// <para>Rounds and faults follow <see cref="DSgd"/> (past rounds ignored, future kept, catch-up on a
/// model two or more rounds ahead).</para>
/// </remarks>
public static class Bristle
{
    /// <summary>Kind of the output-layer message (round = the sender's round).</summary>
    public const string ModelKind = "bristle/model";

    /// <summary>Name of the round-timeout timer.</summary>
    public const string TimeoutTimer = "bristle/timeout";

    /// <summary>Purpose string of the prioritizer's random picks (<c>DeriveRng(ExplorePurpose, round)</c>).</summary>
    public const string ExplorePurpose = "bristle/explore";

    /// <summary>
    /// Builds one Bristle node per data view: node i trains on <paramref name="data"/>[i], scores
    /// candidates on <paramref name="localTests"/>[i] and talks to <paramref name="neighbors"/>[i]
    /// (the graph may have more nodes than data views; ids from data.Count on are behaviours the
    /// caller adds). Every node starts from <paramref name="sharedParameters"/> (the frozen features
    /// and the initial output layer), or from <see cref="LocalModel.InitialParameters"/>(learner, seed) if empty.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays disagree in length, an id or the parameters are invalid, or the options are invalid.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data, IReadOnlyList<DatasetView> localTests,
        IReadOnlyList<int[]> neighbors, ReadOnlyMemory<float> sharedParameters, BristleOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(localTests);
        ArgumentNullException.ThrowIfNull(neighbors);
        int h = data.Count;
        if (localTests.Count != h) throw new ArgumentException($"Got {h} data views but {localTests.Count} local test sets.", nameof(localTests));
        if (neighbors.Count < h) throw new ArgumentException($"Got {h} data views but only {neighbors.Count} neighbour lists; the graph needs one list per node.", nameof(neighbors));
        ReadOnlyMemory<float> shared = sharedParameters.IsEmpty ? LocalModel.InitialParameters(learner, seed) : sharedParameters.ToArray();
        var nodes = new INodeBehavior[h];
        for (int i = 0; i < h; i++) nodes[i] = new BristleNode(i, neighbors.Count, neighbors[i], learner, optimizer, data[i], localTests[i], shared, options);
        return nodes;
    }

    /// <summary>
    /// The exchanged output layer's range in the flat vector: the tensors named
    /// <paramref name="layer"/> + ".…" (null: the layer of the layout's last tensor), which must be contiguous.
    /// </summary>
    /// <exception cref="ArgumentException">The layout is empty, no tensor belongs to the layer, or its tensors are not contiguous.</exception>
    public static (int Offset, int Length) OutputSlice(ParameterLayout layout, string? layer = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var tensors = layout.Tensors;
        if (tensors.Count == 0) throw new ArgumentException("The layout has no parameters.", nameof(layout));
        if (layer is null)
        {
            string last = tensors[^1].Name;
            int dot = last.LastIndexOf('.');
            layer = dot < 0 ? last : last[..dot];
        }
        int start = -1, end = -1;
        for (int t = 0; t < tensors.Count; t++)
        {
            var tensor = tensors[t];
            if (tensor.Name != layer && !tensor.Name.StartsWith(layer + ".", StringComparison.Ordinal)) continue;
            if (start < 0) start = tensor.Offset;
            else if (tensor.Offset != end)
                throw new ArgumentException($"The tensors of layer '{layer}' are not contiguous in the layout (gap before '{tensor.Name}').", nameof(layer));
            end = tensor.Offset + tensor.Length;
        }
        if (start < 0) throw new ArgumentException($"No parameter tensor belongs to layer '{layer}'. Known: {string.Join(", ", tensors.Select(t => t.Name))}", nameof(layer));
        return (start, end - start);
    }

    /// <summary>
    /// Pre-trains the whole network centrally on <paramref name="publicData"/> (<paramref name="steps"/>
    /// minibatch steps from <see cref="LocalModel.InitialParameters"/>(learner, seed)) and returns the
    /// parameters, with the output layer re-initialized from the learner's seeded initialization when
    /// <paramref name="resetOutputLayer"/> is true (the nodes then learn it). Pass the result to
    /// <see cref="CreateNodes"/> as the shared, frozen features.
    /// </summary>
    /// <exception cref="ArgumentException">The data is empty while steps are asked, or a count is invalid.</exception>
    public static float[] PretrainFeatures(ILearner learner, IOptimizer optimizer, DatasetView publicData, int steps, int batchSize, ulong seed,
        bool resetOutputLayer = true, string? outputLayer = null)
    {
        ArgumentNullException.ThrowIfNull(learner);
        var init = LocalModel.InitialParameters(learner, seed);
        var model = LocalModel.Create(learner, optimizer, init);
        var job = new TrainingJob(model, learner, optimizer, publicData, steps, batchSize, 0);
        job.Begin();
        try { job.Execute(Rng.DeriveSeed(seed, Rng.StableHash("bristle/pretrain")), 0); }
        finally { job.End(); }
        var result = model.Parameters.ToArray();
        if (resetOutputLayer)
        {
            var (offset, length) = OutputSlice(learner.Layout, outputLayer);
            init.AsSpan(offset, length).CopyTo(result.AsSpan(offset, length));
        }
        return result;
    }

    /// <summary>
    /// Splits a node's view into training examples and a local test set of <paramref name="testCount"/>
    /// examples drawn with <c>Rng.Derive(seed, node, 0, "bristle/local-test")</c> (both keep the view's order).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="testCount"/> is negative or not below the view's size.</exception>
    public static (DatasetView Train, DatasetView Test) SplitLocalTest(DatasetView view, int testCount, int node, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (testCount < 0 || testCount >= view.Count)
            throw new ArgumentOutOfRangeException(nameof(testCount), testCount, $"Invalid local test size: {testCount}; must be in [0, {view.Count}) (the view has {view.Count} examples).");
        var order = Enumerable.Range(0, view.Count).ToArray();
        Rng.Derive(seed, (ulong)node, 0, "bristle/local-test").Shuffle(order.AsSpan());
        var test = order.AsSpan(0, testCount).ToArray();
        Array.Sort(test);
        var inTest = new bool[view.Count];
        foreach (int i in test) inTest[i] = true;
        var train = Enumerable.Range(0, view.Count).Where(i => !inTest[i]).Select(i => view.Indices[i]).ToArray();
        return (new DatasetView(view.Dataset, train), new DatasetView(view.Dataset, test.Select(i => view.Indices[i]).ToArray()));
    }

    /// <summary>
    /// Per-class recall of <paramref name="predictions"/> against the labels of <paramref name="test"/>
    /// into <paramref name="recall"/> (NaN for classes with no example).
    /// </summary>
    /// <exception cref="ArgumentException">The dataset has no labels, or a buffer is too short.</exception>
    public static void Recalls(DatasetView test, ReadOnlySpan<int> predictions, Span<double> recall)
    {
        ArgumentNullException.ThrowIfNull(test);
        var labels = test.Dataset.Labels ?? throw new ArgumentException($"Bristle needs class labels; '{test.Dataset.Name}' has none.", nameof(test));
        int classes = test.Dataset.NumClasses;
        if (recall.Length < classes) throw new ArgumentException($"The recall buffer has {recall.Length} elements; {classes} classes need {classes}.", nameof(recall));
        if (predictions.Length < test.Count) throw new ArgumentException($"Got {predictions.Length} predictions for {test.Count} examples.", nameof(predictions));
        Span<int> hit = classes <= 256 ? stackalloc int[classes] : new int[classes];
        Span<int> count = classes <= 256 ? stackalloc int[classes] : new int[classes];
        hit.Clear();
        count.Clear();
        for (int i = 0; i < test.Count; i++)
        {
            int y = labels[test.Indices[i]];
            count[y]++;
            if (predictions[i] == y) hit[y]++;
        }
        for (int c = 0; c < classes; c++) recall[c] = count[c] == 0 ? double.NaN : (double)hit[c] / count[c];
    }

    /// <summary>
    /// The integrator's score S of a candidate with per-class recalls <paramref name="candidate"/>
    /// against the node's own <paramref name="own"/> (classes where either is NaN are skipped):
    /// <c>Σ_c (q_c &gt; r_c ? (10|r_c − q_c|)^(3 + r_c) : −(10|r_c − q_c|)^(4 + r_c))</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static double Score(ReadOnlySpan<double> own, ReadOnlySpan<double> candidate)
    {
        if (own.Length != candidate.Length) throw new ArgumentException($"Got {own.Length} own recalls but {candidate.Length} candidate recalls.", nameof(candidate));
        double s = 0;
        for (int c = 0; c < own.Length; c++)
        {
            double r = own[c], q = candidate[c];
            if (double.IsNaN(r) || double.IsNaN(q)) continue;
            double diff = 10 * Math.Abs(r - q);
            s += q > r ? Math.Pow(diff, 3 + r) : -Math.Pow(diff, 4 + r);
        }
        return s;
    }

    /// <summary>Certainty of a candidate: max(0, mean − <paramref name="stdFactor"/>·std) of its per-class recalls (NaN skipped; population std; 0 if none).</summary>
    public static double Certainty(ReadOnlySpan<double> candidate, double stdFactor = 1)
    {
        double sum = 0, sq = 0;
        int n = 0;
        foreach (double q in candidate) if (!double.IsNaN(q)) { sum += q; n++; }
        if (n == 0) return 0;
        double mean = sum / n;
        foreach (double q in candidate) if (!double.IsNaN(q)) sq += (q - mean) * (q - mean);
        return Math.Max(0, mean - stdFactor * Math.Sqrt(sq / n));
    }

    /// <summary>The integrator's weight: 0 if <paramref name="score"/> &lt; <paramref name="dropScore"/>, else <c>max(0, 10σ(S/100) − 4)·certainty</c>.</summary>
    public static double Weight(double score, double certainty, double dropScore = -1000)
    {
        if (!(score >= dropScore)) return 0;
        double sigmoid = 1 / (1 + Math.Exp(-score / 100));
        return Math.Max(0, 10 * sigmoid - 4) * certainty;
    }

    /// <summary>
    /// The prioritizer: indices (ascending) of the <paramref name="nearest"/> candidates nearest in
    /// L2 to <paramref name="own"/> (ties by index) plus <paramref name="random"/> drawn uniformly from the rest with <paramref name="rng"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A candidate's length differs from <paramref name="own"/>'s.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public static int[] Prioritize(ReadOnlySpan<float> own, IReadOnlyList<ReadOnlyMemory<float>> candidates, int nearest, int random, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(rng);
        if (nearest < 0) throw new ArgumentOutOfRangeException(nameof(nearest), nearest, $"Invalid number of nearest models: {nearest}; must be ≥ 0.");
        if (random < 0) throw new ArgumentOutOfRangeException(nameof(random), random, $"Invalid number of random models: {random}; must be ≥ 0.");
        int n = candidates.Count;
        var distance = new double[n];
        for (int j = 0; j < n; j++)
        {
            if (candidates[j].Length != own.Length) throw new ArgumentException($"Candidate {j} has {candidates[j].Length} elements; the own model has {own.Length}.", nameof(candidates));
            distance[j] = TensorPrimitives.Distance(own, candidates[j].Span);
        }
        var order = Enumerable.Range(0, n).OrderBy(j => distance[j]).ThenBy(j => j).ToArray();
        int near = Math.Min(nearest, n);
        var rest = order.AsSpan(near);
        rng.Shuffle(rest);
        var chosen = order.AsSpan(0, near + Math.Min(random, rest.Length)).ToArray();
        Array.Sort(chosen);
        return chosen;
    }
}

/// <summary>A training job that moves only the output layer: the gradient outside it is zeroed.</summary>
internal sealed class OutputLayerJob(LocalModel model, ILearner learner, IOptimizer optimizer, DatasetView data, int steps, int batchSize, long round, int offset, int length)
    : TrainingJob(model, learner, optimizer, data, steps, batchSize, round)
{
    protected override float ComputeLossAndGradient(ReadOnlySpan<float> parameters, ReadOnlySpan<int> positions, Span<float> gradient, Rng dropoutRng)
    {
        float loss = base.ComputeLossAndGradient(parameters, positions, gradient, dropoutRng);
        gradient[..offset].Clear();
        gradient[(offset + length)..].Clear();
        return loss;
    }
}

/// <summary>A <see cref="Bristle"/> node (see there).</summary>
public sealed class BristleNode : INodeBehavior
{
    [ThreadStatic] private static float[]? t_full;
    [ThreadStatic] private static int[]? t_predictions;

    private enum Phase { Idle, Training, Waiting, Done }

    private readonly int _id;
    private readonly int[] _neighbors;
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly DatasetView _test;
    private readonly BristleOptions _options;
    private readonly LocalModel _model;
    private readonly ReadOnlyMemory<float> _shared;
    private readonly int _offset;
    private readonly int _length;
    private readonly int _classes;
    private readonly RoundInbox _inbox = new();
    private long _round;
    private Phase _phase;
    private long _timer = -1;
    private long _jumpTo = -1;

    /// <summary>Creates node <paramref name="id"/>.</summary>
    /// <param name="id">This node's id (it must be the id the host gives it).</param>
    /// <param name="nodeCount">Number of nodes in the graph.</param>
    /// <param name="neighbors">Neighbour ids (distinct, not <paramref name="id"/>, below <paramref name="nodeCount"/>).</param>
    /// <param name="learner">The learner (a classifier).</param>
    /// <param name="optimizer">The local optimizer.</param>
    /// <param name="data">The node's training data.</param>
    /// <param name="localTest">The node's small labelled test set for scoring candidates.</param>
    /// <param name="sharedParameters">The shared starting parameters (frozen features + initial output layer), kept by reference: must not be modified afterwards.</param>
    /// <param name="options">Protocol options.</param>
    /// <exception cref="ArgumentException">Invalid neighbours, data, parameters or options.</exception>
    public BristleNode(int id, int nodeCount, IReadOnlyList<int> neighbors, ILearner learner, IOptimizer optimizer, DatasetView data, DatasetView localTest,
        ReadOnlyMemory<float> sharedParameters, BristleOptions options)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if ((uint)id >= (uint)nodeCount) throw new ArgumentException($"Invalid node id {id}; must be in [0, {nodeCount}).", nameof(id));
        _neighbors = neighbors.OrderBy(j => j).ToArray();
        for (int k = 0; k < _neighbors.Length; k++)
        {
            int j = _neighbors[k];
            if ((uint)j >= (uint)nodeCount || j == id) throw new ArgumentException($"Node {id} has invalid neighbour {j}; must be another node in 0..{nodeCount - 1}.", nameof(neighbors));
            if (k > 0 && j == _neighbors[k - 1]) throw new ArgumentException($"Node {id} lists neighbour {j} twice.", nameof(neighbors));
        }
        _id = id;
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        _test = localTest ?? throw new ArgumentNullException(nameof(localTest));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException($"Bristle node {id} has local steps but no data.", nameof(data));
        if (localTest.Dataset.Labels is null) throw new ArgumentException($"Bristle node {id}'s local test set '{localTest.Dataset.Name}' has no labels.", nameof(localTest));
        _options = options;
        learner.Layout.Validate(sharedParameters.Span, "shared parameters");
        (_offset, _length) = Bristle.OutputSlice(learner.Layout, options.OutputLayer);
        _classes = localTest.Dataset.NumClasses;
        _model = LocalModel.Create(learner, optimizer, sharedParameters.Span);
        _shared = sharedParameters;
    }

    /// <summary>The node's model (frozen features + its output layer).</summary>
    public LocalModel Model => _model;

    /// <summary>The round in progress (0 before the first).</summary>
    public long CurrentRound => _round;

    /// <summary>The neighbours, ascending.</summary>
    public IReadOnlyList<int> Neighbors => _neighbors;

    /// <summary>The exchanged output layer's range in the flat vector.</summary>
    public (int Offset, int Length) OutputLayer => (_offset, _length);

    /// <summary>
    /// Diagnostics of the last integration, in neighbour order: the weight given (0 if scored and
    /// dropped, NaN if absent or not selected by the prioritizer) and the score S (NaN if not scored). Not checkpointed.
    /// </summary>
    public (double[] Weights, double[] Scores) LastIntegration { get; private set; } = (Array.Empty<double>(), Array.Empty<double>());

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
        _inbox.DropBefore(round);
        _phase = Phase.Training;
        context.StartTraining(new OutputLayerJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, round, _offset, _length));
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        RestoreFrozen();
        if (_jumpTo > _round) { BeginRound(context, _jumpTo); return; }
        var message = Message.WithModel(Bristle.ModelKind, _round, _model.Parameters.AsSpan(_offset, _length));
        foreach (int j in _neighbors) context.Send(j, message);
        _phase = Phase.Waiting;
        ArmTimeout(context);
        TryFinish(context);
    }

    private void RestoreFrozen()
    {
        var p = _model.Parameters;
        var s = _shared.Span;
        s[.._offset].CopyTo(p);
        s[(_offset + _length)..].CopyTo(p.AsSpan(_offset + _length));
    }

    private void ArmTimeout(INodeContext context)
    {
        _timer = double.IsFinite(_options.RoundTimeout) ? context.SetTimer(_options.RoundTimeout, Bristle.TimeoutTimer, _round) : -1;
    }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (_phase == Phase.Done || message.Kind != Bristle.ModelKind || message.Round < _round || message.Model.Length != _length) return;
        int k = Array.BinarySearch(_neighbors, from);
        if (k < 0) return;
        _inbox.SlotsFor(message.Round, _neighbors.Length)[k] = message;
        if (message.Round >= _round + 2)
        {
            if (_phase == Phase.Training) { _jumpTo = Math.Max(_jumpTo, message.Round); return; }
            NodeTimers.Cancel(context, ref _timer);
            BeginRound(context, message.Round);
            return;
        }
        if (_phase == Phase.Waiting && message.Round == _round) TryFinish(context);
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer)
    {
        if (timer.Name == Bristle.TimeoutTimer && timer.Value == _round && _phase == Phase.Waiting)
        {
            _timer = -1;
            Finish(context);
        }
    }

    private void TryFinish(INodeContext context)
    {
        if (_inbox.IsComplete(_round, _neighbors.Length)) Finish(context);
    }

    private void Finish(INodeContext context)
    {
        NodeTimers.Cancel(context, ref _timer);
        var slots = _inbox.Take(_round);
        Integrate(context, slots);
        _phase = Phase.Idle;
        context.CompleteRound(_round);
        BeginRound(context, _round + 1);
    }

    private void Integrate(INodeContext context, Message?[]? slots)
    {
        var weights = new double[_neighbors.Length];
        var scores = new double[_neighbors.Length];
        Array.Fill(weights, double.NaN);
        Array.Fill(scores, double.NaN);
        LastIntegration = (weights, scores);
        if (slots is null) return;
        var present = new List<int>();
        var candidates = new List<ReadOnlyMemory<float>>();
        for (int k = 0; k < slots.Length; k++)
            if (slots[k] is { } m) { present.Add(k); candidates.Add(m.Model); }
        if (present.Count == 0) return;
        var parameters = _model.Parameters;
        var head = parameters.AsSpan(_offset, _length);
        var selected = Bristle.Prioritize(head, candidates, _options.NearestModels, _options.RandomModels, context.DeriveRng(Bristle.ExplorePurpose, _round));

        var own = new double[_classes];
        var theirs = new double[_classes];
        Recalls(parameters, head, own);
        double total = 1;
        var sum = head.ToArray();
        foreach (int s in selected)
        {
            var candidate = candidates[s].Span;
            Recalls(parameters, candidate, theirs);
            double score = Bristle.Score(own, theirs);
            double w = Bristle.Weight(score, Bristle.Certainty(theirs, _options.CertaintyStdFactor), _options.DropScore);
            scores[present[s]] = score;
            weights[present[s]] = w;
            if (w > 0)
            {
                TensorPrimitives.MultiplyAdd(candidate, (float)w, sum, sum);
                total += w;
            }
        }
        TensorPrimitives.Multiply(sum, (float)(1 / total), head);
    }

    /// <summary>Per-class recalls on the local test set of the frozen features with output layer <paramref name="head"/>.</summary>
    private void Recalls(float[] parameters, ReadOnlySpan<float> head, Span<double> recall)
    {
        int p = parameters.Length;
        var full = t_full is { } f && f.Length >= p ? f : (t_full = new float[p]);
        var scratch = full.AsSpan(0, p);
        parameters.CopyTo(scratch);
        head.CopyTo(scratch.Slice(_offset, _length));
        var predictions = t_predictions is { } q && q.Length >= _test.Count ? q : (t_predictions = new int[Math.Max(1, _test.Count)]);
        _learner.Predict(scratch, _test, predictions);
        Bristle.Recalls(_test, predictions, recall);
    }

    /// <summary>A crash lost the running job or the timeout: retrain the current round, or wait again.</summary>
    public void OnRecover(INodeContext context)
    {
        switch (_phase)
        {
            case Phase.Training:
                RestoreFrozen();
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
        _inbox.Write(writer);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        _model.Read(reader);
        _round = reader.ReadInt64();
        _phase = (Phase)reader.ReadInt32();
        _timer = reader.ReadInt64();
        _jumpTo = reader.ReadInt64();
        _inbox.Read(reader, _ => _neighbors.Length);
    }
}
