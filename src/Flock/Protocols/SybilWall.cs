using Flock.Aggregation;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;

namespace Flock.Protocols;

/// <summary>How a <see cref="SybilWall"/> node weighs its neighbours' models.</summary>
public enum SybilWallWeighting
{
    /// <summary>FoolsGold weights over the histories of every known peer (SybilWall's rule).</summary>
    FoolsGold,

    /// <summary>Weight 1 for every neighbour: plain neighbourhood averaging (the undefended baseline).</summary>
    Uniform,
}

/// <summary>Options of <see cref="SybilWall"/>.</summary>
public sealed class SybilWallOptions
{
    /// <summary>Default rate λ of the hop-distance distribution: 1/1.25, the value in the authors' code (UNCONFIRMED in the paper).</summary>
    public const double DefaultLambda = 0.8;

    /// <summary>Local steps K per round.</summary>
    public int LocalSteps { get; init; } = 1;

    /// <summary>Local minibatch size B.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seconds a node waits for its neighbours' models after sending its own (infinity: wait for all).</summary>
    public double RoundTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Rounds to run (0: until the host stops).</summary>
    public long Rounds { get; init; }

    /// <summary>
    /// Rate λ of the gossip distribution: a record at hop distance d is forwarded with probability
    /// ∝ λe^{−λd}, so nearby peers' records spread most (default <see cref="DefaultLambda"/>).
    /// </summary>
    public double Lambda { get; init; } = DefaultLambda;

    /// <summary>Confidence κ of the FoolsGold logit (default <see cref="Aggregation.FoolsGold.DefaultKappa"/> = 1, FoolsGold's value; UNCONFIRMED for SybilWall).</summary>
    public double Kappa { get; init; } = Aggregation.FoolsGold.DefaultKappa;

    /// <summary>True (default) to forward one extra record per neighbour each round; false sends only the own model.</summary>
    public bool Gossip { get; init; } = true;

    /// <summary>The weighting rule (default <see cref="SybilWallWeighting.FoolsGold"/>).</summary>
    public SybilWallWeighting Weighting { get; init; } = SybilWallWeighting.FoolsGold;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (LocalSteps < 0) throw new ArgumentException($"Invalid number of local steps: {LocalSteps}; must be ≥ 0.", nameof(LocalSteps));
        if (BatchSize < 1) throw new ArgumentException($"Invalid batch size: {BatchSize}; must be ≥ 1.", nameof(BatchSize));
        if (!(RoundTimeout > 0)) throw new ArgumentException($"Invalid round timeout: {RoundTimeout} s; must be > 0 (infinity: no timeout).", nameof(RoundTimeout));
        if (Rounds < 0) throw new ArgumentException($"Invalid number of rounds: {Rounds}; must be ≥ 0 (0: unlimited).", nameof(Rounds));
        if (!(Lambda > 0) || !double.IsFinite(Lambda)) throw new ArgumentException($"Invalid gossip rate λ: {Lambda}; must be finite and > 0.", nameof(Lambda));
        if (!(Kappa > 0) || !double.IsFinite(Kappa)) throw new ArgumentException($"Invalid FoolsGold confidence κ: {Kappa}; must be finite and > 0.", nameof(Kappa));
        if (!Enum.IsDefined(Weighting)) throw new ArgumentException($"Invalid weighting: {Weighting}; must be one of: {string.Join(", ", Enum.GetNames<SybilWallWeighting>())}.", nameof(Weighting));
    }
}

/// <summary>
/// SybilWall — Werthenbach &amp; Pouwelse, "Towards Sybil Resilience in Decentralized Learning"
/// (arXiv 2306.15044, 2023). Synchronous rounds over a graph: each node trains K local steps,
/// sends its model to every neighbour plus one gossip record per neighbour, waits for its
/// neighbours' models of the round (or a timeout), and mixes
/// <c>θ ← (θ_own + Σ_j w_j θ_j) / (1 + Σ_j w_j)</c> over the neighbours present, with FoolsGold
/// weights w_j (<see cref="FoolsGold"/>) computed from the accumulated update histories of every
/// peer the node knows — neighbours and peers it only heard of through gossip. Sybils near the
/// node are unmasked by their resemblance to Sybils anywhere in the gossip's reach.
/// </summary>
/// <remarks>
/// <para><b>Records.</b> A record is (origin, model, round, hop distance d, sender). A neighbour's
/// model of a round is a record with d = 1; each round a node sends each neighbour v one stored
/// record drawn with probability ∝ λe^{−λd} among those whose origin is not v and that were not
/// received from v, with d + 1. A node keeps one record per origin, the newest (higher round; on
/// equal rounds, the smaller d). Its own model is never stored.</para>
/// <para><b>Histories.</b> Every node starts from the same θ₀ (<see cref="LocalModel.InitialParameters"/>),
/// so the accumulated update history of an origin — the sum of its round-to-round model changes —
/// is <c>θ_origin − θ₀</c>; a record's model therefore is its history, and a peer cannot send a
/// poisoned model with a benign history. (The authors' code accumulates differences of received
/// models, i.e. the same telescoping sum.) The node's own history is not in the similarity set.</para>
/// <para><b>Memory.</b> One model per known origin (inherent to the method: up to n − 1 models of
/// p floats per node; in the simulator the arrays are shared with the messages that carried them),
/// plus O(k²) doubles and a per-thread k×p float scratch while aggregating over k known peers.</para>
/// <para><b>Rounds and faults</b> follow <see cref="DSgd"/>: models of past rounds only refresh
/// records, future ones are kept, and a model two or more rounds ahead makes the node catch up.</para>
/// </remarks>
public static class SybilWall
{
    /// <summary>Kind of the own-model message (round = the sender's round).</summary>
    public const string ModelKind = "sybilwall/model";

    /// <summary>Kind of the gossip record message (round = the record's round; scalars: origin, hop distance).</summary>
    public const string RecordKind = "sybilwall/record";

    /// <summary>Name of the round-timeout timer.</summary>
    public const string TimeoutTimer = "sybilwall/timeout";

    /// <summary>Purpose string of the gossip sampling generator (<c>DeriveRng(GossipPurpose, round)</c>).</summary>
    public const string GossipPurpose = "sybilwall/gossip";

    /// <summary>
    /// Builds one honest SybilWall node per data view: node i (i &lt; data.Count) trains on
    /// <paramref name="data"/>[i] and talks to <paramref name="neighbors"/>[i]. The graph may have
    /// more nodes than data views (<c>neighbors.Count ≥ data.Count</c>): ids from data.Count on are
    /// other behaviours the caller adds (e.g. <see cref="SybilWallAdversary"/> identities). Every
    /// node starts from <see cref="LocalModel.InitialParameters"/>(learner, seed), shared as θ₀.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays disagree in length, a neighbour id is invalid, or the options are invalid.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data,
        IReadOnlyList<int[]> neighbors, SybilWallOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(neighbors);
        int h = data.Count, n = neighbors.Count;
        if (n < h) throw new ArgumentException($"Got {h} data views but only {n} neighbour lists; the graph needs one list per node.", nameof(neighbors));
        var init = LocalModel.InitialParameters(learner, seed);
        var nodes = new INodeBehavior[h];
        for (int i = 0; i < h; i++) nodes[i] = new SybilWallNode(i, n, neighbors[i], learner, optimizer, data[i], init, options);
        return nodes;
    }

    /// <summary>Relative gossip weight λe^{−λd} of a record at hop distance <paramref name="distance"/>.</summary>
    public static double RecordWeight(double lambda, int distance) => lambda * Math.Exp(-lambda * distance);
}

/// <summary>A <see cref="SybilWall"/> node (see there).</summary>
public sealed class SybilWallNode : INodeBehavior
{
    [ThreadStatic] private static float[]? t_mix;

    private enum Phase { Idle, Training, Waiting, Done }

    private readonly int _id;
    private readonly int _nodeCount;
    private readonly int[] _neighbors;
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly SybilWallOptions _options;
    private readonly LocalModel _model;
    private readonly ReadOnlyMemory<float> _origin;
    private readonly RoundInbox _inbox = new();

    // Records, one slot per known origin (slots in first-heard order; the origin → slot map is derived).
    private readonly Dictionary<int, int> _slotOf = new();
    private readonly List<Record> _records = new();

    private long _round;
    private Phase _phase;
    private long _timer = -1;
    private long _jumpTo = -1;

    private struct Record
    {
        public int Origin;
        public long Round;
        public int Distance;
        public int Sender;
        public ReadOnlyMemory<float> Model;
    }

    /// <summary>Creates node <paramref name="id"/>.</summary>
    /// <param name="id">This node's id (it must be the id the host gives it).</param>
    /// <param name="nodeCount">Number of nodes in the graph (origins are ids in [0, nodeCount)).</param>
    /// <param name="neighbors">Neighbour ids (distinct, not <paramref name="id"/>, below <paramref name="nodeCount"/>).</param>
    /// <param name="learner">The learner.</param>
    /// <param name="optimizer">The local optimizer.</param>
    /// <param name="data">The node's data.</param>
    /// <param name="initialParameters">θ₀: copied as the starting model and kept by reference as the origin of every history (must not be modified afterwards).</param>
    /// <param name="options">Protocol options.</param>
    /// <exception cref="ArgumentException">Invalid neighbours, parameters or options.</exception>
    public SybilWallNode(int id, int nodeCount, IReadOnlyList<int> neighbors, ILearner learner, IOptimizer optimizer, DatasetView data,
        ReadOnlyMemory<float> initialParameters, SybilWallOptions options)
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
        _nodeCount = nodeCount;
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException($"SybilWall node {id} has local steps but no data.", nameof(data));
        _options = options;
        _model = LocalModel.Create(learner, optimizer, initialParameters.Span);
        _origin = initialParameters;
    }

    /// <summary>The node's model.</summary>
    public LocalModel Model => _model;

    /// <summary>The round in progress (0 before the first).</summary>
    public long CurrentRound => _round;

    /// <summary>The neighbours, ascending.</summary>
    public IReadOnlyList<int> Neighbors => _neighbors;

    /// <summary>Number of origins this node holds a record of.</summary>
    public int KnownPeers => _records.Count;

    /// <summary>The stored record of <paramref name="origin"/> (round, hop distance, the neighbour it came from, model), or null.</summary>
    public (long Round, int Distance, int Sender, ReadOnlyMemory<float> Model)? RecordOf(int origin) =>
        _slotOf.TryGetValue(origin, out int s) ? (_records[s].Round, _records[s].Distance, _records[s].Sender, _records[s].Model) : null;

    /// <summary>The weights the node gave its neighbours in the last aggregation (neighbour order; NaN for absent ones). Diagnostics, not checkpointed.</summary>
    public double[] LastWeights { get; private set; } = Array.Empty<double>();

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
        context.StartTraining(new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, round));
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        if (_jumpTo > _round) { BeginRound(context, _jumpTo); return; }
        var own = Message.WithModel(SybilWall.ModelKind, _round, _model.Parameters);
        foreach (int j in _neighbors) context.Send(j, own);
        if (_options.Gossip) SendRecords(context);
        _phase = Phase.Waiting;
        ArmTimeout(context);
        TryFinish(context);
    }

    /// <summary>One record per neighbour v, drawn ∝ λe^{−λd} among records neither of v nor received from v.</summary>
    private void SendRecords(INodeContext context)
    {
        if (_records.Count == 0) return;
        var rng = context.DeriveRng(SybilWall.GossipPurpose, _round);
        foreach (int v in _neighbors)
        {
            double total = 0;
            foreach (var r in _records)
                if (r.Origin != v && r.Sender != v) total += SybilWall.RecordWeight(_options.Lambda, r.Distance);
            if (!(total > 0)) continue;
            double u = rng.NextDouble() * total;
            int pick = -1;
            for (int s = 0; s < _records.Count; s++)
            {
                var r = _records[s];
                if (r.Origin == v || r.Sender == v) continue;
                pick = s;
                u -= SybilWall.RecordWeight(_options.Lambda, r.Distance);
                if (u < 0) break;
            }
            var chosen = _records[pick];
            context.Send(v, new Message(SybilWall.RecordKind, chosen.Round, chosen.Model, new double[] { chosen.Origin, chosen.Distance + 1 }));
        }
    }

    private void ArmTimeout(INodeContext context)
    {
        _timer = double.IsFinite(_options.RoundTimeout) ? context.SetTimer(_options.RoundTimeout, SybilWall.TimeoutTimer, _round) : -1;
    }

    /// <summary>Stores the record if it is newer than the one held for its origin (higher round, or equal round and nearer).</summary>
    private void Store(int origin, long round, int distance, int sender, ReadOnlyMemory<float> model)
    {
        if (origin == _id) return;
        if (_slotOf.TryGetValue(origin, out int s))
        {
            var old = _records[s];
            if (round < old.Round || (round == old.Round && distance >= old.Distance)) return;
            _records[s] = new Record { Origin = origin, Round = round, Distance = distance, Sender = sender, Model = model };
        }
        else
        {
            _slotOf[origin] = _records.Count;
            _records.Add(new Record { Origin = origin, Round = round, Distance = distance, Sender = sender, Model = model });
        }
    }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (message.Model.Length != _model.ParameterCount) return;
        int k = Array.BinarySearch(_neighbors, from);
        if (k < 0) return;
        if (message.Kind == SybilWall.RecordKind)
        {
            if (message.Scalars.Length < 2) return;
            double o = message.Scalar(0), d = message.Scalar(1);
            if (!(o >= 0 && o < _nodeCount) || o != Math.Floor(o) || !(d >= 1 && d <= int.MaxValue) || d != Math.Floor(d)) return;
            Store((int)o, message.Round, (int)d, from, message.Model);
            return;
        }
        if (message.Kind != SybilWall.ModelKind) return;
        Store(from, message.Round, 1, from, message.Model);
        if (_phase == Phase.Done || message.Round < _round) return;
        _inbox.SlotsFor(message.Round, _neighbors.Length)[k] = message;
        if (message.Round >= _round + 2)
        {
            // Two or more rounds behind this neighbour: catch up.
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
        if (timer.Name == SybilWall.TimeoutTimer && timer.Value == _round && _phase == Phase.Waiting)
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
        var parameters = _model.Parameters;
        var weights = NeighborWeights(slots);
        LastWeights = weights;
        int present = 1;
        for (int k = 0; k < _neighbors.Length; k++) if (slots?[k] is not null) present++;
        if (present > 1)
        {
            var inputs = new ReadOnlyMemory<float>[present];
            var w = new float[present];
            int idx = 0;
            bool selfPlaced = false;
            for (int k = 0; k < _neighbors.Length; k++)
            {
                if (!selfPlaced && _neighbors[k] > _id) { inputs[idx] = parameters; w[idx++] = 1; selfPlaced = true; }
                if (slots![k] is { } m) { inputs[idx] = m.Model; w[idx++] = (float)weights[k]; }
            }
            if (!selfPlaced) { inputs[idx] = parameters; w[idx] = 1; }
            int p = parameters.Length;
            var mix = t_mix is { } t && t.Length >= p ? t : (t_mix = new float[p]);
            Mean.Instance.Aggregate(inputs, w, mix.AsSpan(0, p));
            mix.AsSpan(0, p).CopyTo(parameters);
        }
        _phase = Phase.Idle;
        context.CompleteRound(_round);
        BeginRound(context, _round + 1);
    }

    /// <summary>The weight of each neighbour's model of this round (neighbour order; NaN where none arrived).</summary>
    private double[] NeighborWeights(Message?[]? slots)
    {
        var result = new double[_neighbors.Length];
        Array.Fill(result, double.NaN);
        if (slots is null) return result;
        if (_options.Weighting == SybilWallWeighting.Uniform)
        {
            for (int k = 0; k < slots.Length; k++) if (slots[k] is not null) result[k] = 1;
            return result;
        }
        var scores = FoolsGoldScores();
        for (int k = 0; k < slots.Length; k++)
            if (slots[k] is not null) result[k] = scores[_slotOf[_neighbors[k]]];
        return result;
    }

    /// <summary>FoolsGold weights of every known origin, in slot order.</summary>
    private double[] FoolsGoldScores()
    {
        int count = _records.Count;
        var histories = new ReadOnlyMemory<float>[count];
        for (int s = 0; s < count; s++) histories[s] = _records[s].Model;
        var similarity = new double[count * count];
        var scores = new double[count];
        FoolsGold.CosineSimilarities(histories, _origin.Span, similarity);
        FoolsGold.Weights(similarity, count, scores, _options.Kappa);
        return scores;
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
        _inbox.Write(writer);
        writer.Write(_records.Count);
        foreach (var r in _records)
        {
            writer.Write(r.Origin);
            writer.Write(r.Round);
            writer.Write(r.Distance);
            writer.Write(r.Sender);
            writer.WriteFloats(r.Model.Span);
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
        _inbox.Read(reader, _ => _neighbors.Length);
        _records.Clear();
        _slotOf.Clear();
        int records = reader.ReadInt32();
        for (int i = 0; i < records; i++)
        {
            var r = new Record { Origin = reader.ReadInt32(), Round = reader.ReadInt64(), Distance = reader.ReadInt32(), Sender = reader.ReadInt32() };
            r.Model = reader.ReadFloats();
            if ((uint)r.Origin >= (uint)_nodeCount || r.Model.Length != _model.ParameterCount || _slotOf.ContainsKey(r.Origin))
                throw new InvalidDataException($"Invalid SybilWall record of origin {r.Origin} ({r.Model.Length} floats) in node {_id}'s state.");
            _slotOf[r.Origin] = _records.Count;
            _records.Add(r);
        }
    }
}
