using Flock.Aggregation;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>Options of <see cref="FedAvg"/>.</summary>
public sealed class FedAvgOptions
{
    /// <summary>Fraction C of the clients sampled per round, in (0, 1]; the round samples max(1, round(C·n)) clients.</summary>
    public double ClientFraction { get; init; } = 1.0;

    /// <summary>Local steps K per round.</summary>
    public int LocalSteps { get; init; } = 1;

    /// <summary>Local minibatch size B.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seconds the coordinator waits for replies after sending the model (infinity: wait for every sampled client).</summary>
    public double RoundTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Replies needed to aggregate; with fewer the round fails and the global model is unchanged.</summary>
    public int MinReplies { get; init; } = 1;

    /// <summary>Rounds to run (0: until the host stops).</summary>
    public long Rounds { get; init; }

    /// <summary>True (default) to give clients a fresh optimizer state every round (and free their model between rounds); false to keep it across rounds.</summary>
    public bool ResetClientOptimizer { get; init; } = true;

    /// <summary>
    /// The aggregation rule over the client models, given their sample counts as weights (default:
    /// <see cref="Mean"/>, the sample-weighted average). Robust rules (median, trimmed mean, Krum,
    /// ...) ignore the weights; a <see cref="PreAggregated"/> rule draws its randomness from a seed
    /// derived per round. The rule's preconditions must hold for the number of replies aggregated.
    /// </summary>
    public IAggregator Aggregator { get; init; } = Mean.Instance;

    /// <summary>Byzantine clients and their attack (null, the default: every client is honest). See <see cref="ByzantineSetup"/>; the attack space defaults to <see cref="AttackSpace.Update"/>.</summary>
    public ByzantineSetup? Byzantine { get; init; }

    /// <summary>Checks the options for <paramref name="clients"/> clients.</summary>
    /// <exception cref="ArgumentException">A value is out of range (the message names it and the allowed range).</exception>
    public void Validate(int clients)
    {
        if (clients < 1) throw new ArgumentException($"FedAvg needs at least one client; got {clients}.", nameof(clients));
        if (!(ClientFraction > 0 && ClientFraction <= 1)) throw new ArgumentException($"Invalid client fraction: {ClientFraction}; must be in (0, 1].", nameof(ClientFraction));
        if (LocalSteps < 0) throw new ArgumentException($"Invalid number of local steps: {LocalSteps}; must be ≥ 0.", nameof(LocalSteps));
        if (BatchSize < 1) throw new ArgumentException($"Invalid batch size: {BatchSize}; must be ≥ 1.", nameof(BatchSize));
        if (!(RoundTimeout > 0)) throw new ArgumentException($"Invalid round timeout: {RoundTimeout} s; must be > 0 (infinity: no timeout).", nameof(RoundTimeout));
        int m = FedAvg.ClientsPerRound(ClientFraction, clients);
        if (MinReplies < 1 || MinReplies > m) throw new ArgumentException($"Invalid minimum number of replies: {MinReplies}; must be in [1, {m}] (the clients sampled per round).", nameof(MinReplies));
        if (Rounds < 0) throw new ArgumentException($"Invalid number of rounds: {Rounds}; must be ≥ 0 (0: unlimited).", nameof(Rounds));
        ArgumentNullException.ThrowIfNull(Aggregator);
        Byzantine?.Validate(clients);
    }
}

/// <summary>
/// Federated averaging — McMahan, Moore, Ramage, Hampson, Agüera y Arcas, "Communication-Efficient
/// Learning of Deep Networks from Decentralized Data" (AISTATS 2017). A coordinator samples a
/// fraction of the clients each round (seeded by the round), sends them the global model, and waits
/// for their replies until all arrived or a round timeout; with at least
/// <see cref="FedAvgOptions.MinReplies"/> replies it sets the global model to the aggregate
/// (sample-count-weighted mean by default) of the returned models, otherwise the round fails and
/// the model is unchanged. Each sampled client runs K local steps of batch size B from the global
/// model and returns its model and sample count.
/// </summary>
/// <remarks>
/// Node ids: clients are 0..n−1 (client i holds data partition i), the coordinator is node n.
/// Replies are aggregated in client-id order, so the result does not depend on arrival order.
/// </remarks>
public static class FedAvg
{
    /// <summary>Kind of the coordinator → client message (the global model).</summary>
    public const string ModelKind = "fedavg/model";

    /// <summary>Kind of the client → coordinator message (the trained model; scalar 0 = sample count).</summary>
    public const string UpdateKind = "fedavg/update";

    /// <summary>Name of the coordinator's round-timeout timer.</summary>
    public const string TimeoutTimer = "fedavg/timeout";

    /// <summary>Clients sampled per round: max(1, round(C·n)), rounding half away from zero.</summary>
    public static int ClientsPerRound(double fraction, int clients) =>
        Math.Clamp((int)Math.Round(fraction * clients, MidpointRounding.AwayFromZero), 1, clients);

    /// <summary>
    /// Builds the behaviours of a FedAvg run: clients 0..n−1 (client i trains on
    /// <paramref name="clientData"/>[i]) and the coordinator as node n, starting from
    /// <see cref="LocalModel.InitialParameters"/>(learner, seed). The clients of
    /// <see cref="FedAvgOptions.Byzantine"/> are Byzantine: <see cref="ByzantineFedAvgClient"/>s when
    /// they craft what they send, plain clients on their poisoned data otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options (including the Byzantine setup) or no clients.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> clientData, FedAvgOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(clientData);
        ArgumentNullException.ThrowIfNull(options);
        int n = clientData.Count;
        options.Validate(n);
        var nodes = new INodeBehavior[n + 1];
        var byzantine = options.Byzantine;
        var adversary = byzantine is null ? null : new ByzantineAdversary(byzantine, n, seed, options.Aggregator, AttackSpace.Update);
        int perRound = ClientsPerRound(options.ClientFraction, n);
        for (int i = 0; i < n; i++)
        {
            if (adversary is null || !adversary.IsByzantine(i)) { nodes[i] = new FedAvgClient(learner, optimizer, clientData[i], options); continue; }
            var view = byzantine!.DataPoisoning is { } poison ? poison.Poison(clientData[i], Rng.Derive(seed, (ulong)i, 0, "poison")) : clientData[i];
            // The aggregation the attack targets: the clients of a round, with the expected number of Byzantine ones among them.
            int expected = (int)Math.Round((double)adversary.Nodes.Count * perRound / n, MidpointRounding.AwayFromZero);
            nodes[i] = byzantine.Crafts
                ? new ByzantineFedAvgClient(learner, optimizer, view, options, new ByzantineRole(adversary, i, perRound, Math.Max(1, expected)))
                : new FedAvgClient(learner, optimizer, view, options);
        }
        nodes[n] = new FedAvgCoordinator(Enumerable.Range(0, n).ToArray(), LocalModel.InitialParameters(learner, seed), options);
        return nodes;
    }
}

/// <summary>The <see cref="FedAvg"/> coordinator (see there).</summary>
public sealed class FedAvgCoordinator : INodeBehavior
{
    private readonly int[] _clients;
    private readonly float[] _global;
    private readonly FedAvgOptions _options;
    private readonly int _perRound;
    private readonly List<(int From, Message Update)> _replies = new();
    private int[] _selected = Array.Empty<int>();
    private long _round;
    private long _timer = -1;
    private bool _done;

    /// <summary>Creates a coordinator over client node ids <paramref name="clients"/>, starting from <paramref name="initialModel"/> (copied).</summary>
    /// <exception cref="ArgumentException">Invalid options, no clients or duplicate ids.</exception>
    public FedAvgCoordinator(IReadOnlyList<int> clients, ReadOnlySpan<float> initialModel, FedAvgOptions options)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(clients.Count);
        _clients = clients.ToArray();
        if (_clients.Distinct().Count() != _clients.Length) throw new ArgumentException("Client ids must be distinct.", nameof(clients));
        _global = initialModel.ToArray();
        _options = options;
        _perRound = FedAvg.ClientsPerRound(options.ClientFraction, _clients.Length);
    }

    /// <summary>The current global model.</summary>
    public ReadOnlySpan<float> GlobalModel => _global;

    /// <summary>The round in progress (0 before the first).</summary>
    public long CurrentRound => _round;

    /// <inheritdoc />
    public bool ReportsRounds => true;

    /// <inheritdoc />
    public ReadOnlyMemory<float> EvaluationModel => _global;

    /// <inheritdoc />
    public void OnStart(INodeContext context)
    {
        context.CompleteRound(0);
        StartRound(context, 1);
    }

    private void StartRound(INodeContext context, long round)
    {
        _replies.Clear();
        _timer = -1;
        if (_options.Rounds > 0 && round > _options.Rounds) { _done = true; _selected = Array.Empty<int>(); return; }
        _round = round;
        _selected = Sample(context, round);
        var message = new Message(FedAvg.ModelKind, round, _global.ToArray());
        foreach (int c in _selected) context.Send(c, message);
        if (double.IsFinite(_options.RoundTimeout)) _timer = context.SetTimer(_options.RoundTimeout, FedAvg.TimeoutTimer, round);
    }

    private int[] Sample(INodeContext context, long round)
    {
        var pool = (int[])_clients.Clone();
        if (_perRound < pool.Length)
        {
            var rng = context.DeriveRng("fedavg/sample", round);
            for (int i = 0; i < _perRound; i++)
            {
                int j = i + rng.NextInt(pool.Length - i);
                (pool[i], pool[j]) = (pool[j], pool[i]);
            }
        }
        var selected = pool.AsSpan(0, _perRound).ToArray();
        Array.Sort(selected);
        return selected;
    }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (_done || message.Kind != FedAvg.UpdateKind || message.Round != _round) return;
        if (Array.BinarySearch(_selected, from) < 0 || message.Model.Length != _global.Length || message.Scalars.Length < 1) return;
        foreach (var r in _replies) if (r.From == from) return;
        _replies.Add((from, message));
        if (_replies.Count == _selected.Length) FinishRound(context);
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer)
    {
        if (!_done && timer.Name == FedAvg.TimeoutTimer && timer.Value == _round) { _timer = -1; FinishRound(context); }
    }

    private void FinishRound(INodeContext context)
    {
        if (_timer >= 0) context.CancelTimer(_timer);
        bool ok = _replies.Count >= _options.MinReplies;
        if (ok)
        {
            _replies.Sort((a, b) => a.From.CompareTo(b.From));
            var inputs = new ReadOnlyMemory<float>[_replies.Count];
            var weights = new float[_replies.Count];
            for (int i = 0; i < inputs.Length; i++)
            {
                inputs[i] = _replies[i].Update.Model;
                weights[i] = (float)_replies[i].Update.Scalar(0);
            }
            if (_options.Aggregator is PreAggregated pre) pre.Aggregate(inputs, weights, _global, context.DeriveRng("aggregate", _round).NextUInt64());
            else _options.Aggregator.Aggregate(inputs, weights, _global);
        }
        context.CompleteRound(_round, ok);
        StartRound(context, _round + 1);
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result) =>
        throw new InvalidOperationException("The FedAvg coordinator does not train.");

    /// <summary>Restarts the current round (same sampled clients); replies received before the crash are discarded.</summary>
    public void OnRecover(INodeContext context)
    {
        if (!_done) StartRound(context, _round);
    }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        writer.WriteFloats(_global);
        writer.Write(_round);
        writer.Write(_timer);
        writer.Write(_done);
        writer.WriteInts(_selected);
        writer.Write(_replies.Count);
        foreach (var (from, update) in _replies) { writer.Write(from); writer.WriteMessage(update); }
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        reader.ReadFloatsInto(_global, "FedAvg global model");
        _round = reader.ReadInt64();
        _timer = reader.ReadInt64();
        _done = reader.ReadBoolean();
        _selected = reader.ReadInts();
        _replies.Clear();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++) _replies.Add((reader.ReadInt32(), reader.ReadMessage() ?? throw new InvalidDataException("Missing FedAvg reply.")));
    }
}

/// <summary>A <see cref="FedAvg"/> client (see there).</summary>
public sealed class FedAvgClient : INodeBehavior
{
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly FedAvgOptions _options;
    private LocalModel? _model;
    private bool _training;
    private long _round;
    private int _server = -1;
    private Message? _pending;
    private int _pendingFrom = -1;

    /// <summary>Creates a client training on <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The data view is empty while local steps are asked.</exception>
    public FedAvgClient(ILearner learner, IOptimizer optimizer, DatasetView data, FedAvgOptions options)
    {
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException("A FedAvg client with local steps needs data; its view is empty.", nameof(data));
        if (!options.ResetClientOptimizer) _model = LocalModel.Create(learner, optimizer);
    }

    /// <inheritdoc />
    public bool ReportsRounds => false;

    /// <inheritdoc />
    public ReadOnlyMemory<float> EvaluationModel => ReadOnlyMemory<float>.Empty;

    /// <inheritdoc />
    public void OnStart(INodeContext context) { }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (message.Kind != FedAvg.ModelKind || message.Model.Length != _learner.Layout.Length || message.Round < _round) return;
        if (_training)
        {
            // Still busy with an older round: train on the newest model when done.
            if (_pending is null || message.Round > _pending.Round) { _pending = message; _pendingFrom = from; }
            return;
        }
        Train(context, from, message);
    }

    private void Train(INodeContext context, int from, Message message)
    {
        _model ??= LocalModel.Create(_learner, _optimizer);
        message.Model.Span.CopyTo(_model.Parameters);
        if (_options.ResetClientOptimizer) _model.ResetOptimizer();
        _server = from;
        _round = message.Round;
        _training = true;
        context.StartTraining(new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, message.Round));
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        _training = false;
        if (_pending is { } next)
        {
            _pending = null;
            Train(context, _pendingFrom, next);
            return;
        }
        context.Send(_server, Message.WithModel(FedAvg.UpdateKind, result.Round, _model!.Parameters, _data.Count));
        if (_options.ResetClientOptimizer) _model = null;
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer) { }

    /// <summary>The job running at the crash is lost; a model that arrived meanwhile is trained now.</summary>
    public void OnRecover(INodeContext context)
    {
        _training = false;
        if (_options.ResetClientOptimizer) _model = null;
        if (_pending is { } next)
        {
            _pending = null;
            Train(context, _pendingFrom, next);
        }
    }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        writer.Write(_model is not null);
        _model?.Write(writer);
        writer.Write(_training);
        writer.Write(_round);
        writer.Write(_server);
        writer.WriteMessage(_pending);
        writer.Write(_pendingFrom);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        if (reader.ReadBoolean())
        {
            _model ??= LocalModel.Create(_learner, _optimizer);
            _model.Read(reader);
        }
        else _model = null;
        _training = reader.ReadBoolean();
        _round = reader.ReadInt64();
        _server = reader.ReadInt32();
        _pending = reader.ReadMessage();
        _pendingFrom = reader.ReadInt32();
    }
}
