using System.Numerics.Tensors;
using Flock.Aggregation;
using Flock.Compression;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;

namespace Flock.Protocols;

/// <summary>What a <see cref="CompressedFedAvg"/> client compresses and sends.</summary>
public enum ClientUpdateKind
{
    /// <summary>
    /// The model change Δ = θ_local − θ_start after K local steps of the client's optimizer
    /// (FedAvg); the coordinator applies <c>θ ← θ + server_lr·aggregate(Δ)</c>.
    /// </summary>
    ModelDelta = 0,

    /// <summary>
    /// One minibatch gradient g at the round's model, no local step (data-parallel SGD, the
    /// setting of Deep Gradient Compression); the coordinator steps its optimizer with
    /// <c>server_lr·aggregate(g)</c> as the gradient.
    /// </summary>
    Gradient = 1,
}

/// <summary>A message a node rejected (malformed payload, bad scalars), for logs and tests.</summary>
/// <param name="Round">The round of the message.</param>
/// <param name="From">The sender.</param>
/// <param name="Reason">Why it was rejected (the decoder's message for malformed payloads).</param>
public sealed record RejectedMessage(long Round, int From, string Reason);

/// <summary>Options of <see cref="CompressedFedAvg"/>.</summary>
public sealed class CompressedFedAvgOptions
{
    /// <summary>Fraction C of the clients sampled per round, in (0, 1]; the round samples max(1, round(C·n)) clients.</summary>
    public double ClientFraction { get; init; } = 1.0;

    /// <summary>Local steps K per round (model-delta mode; gradient mode needs 1).</summary>
    public int LocalSteps { get; init; } = 1;

    /// <summary>Local minibatch size B.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seconds the coordinator waits for replies after sending the model (infinity: wait for every sampled client).</summary>
    public double RoundTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Decoded replies needed to aggregate; with fewer the round fails and the global model is unchanged.</summary>
    public int MinReplies { get; init; } = 1;

    /// <summary>Rounds to run (0: until the host stops).</summary>
    public long Rounds { get; init; }

    /// <summary>True (default) to give clients a fresh optimizer state every round (and free their model between rounds); false to keep it (model-delta mode).</summary>
    public bool ResetClientOptimizer { get; init; } = true;

    /// <summary>The aggregation rule over the decoded client updates, weighted by sample counts (default: <see cref="Mean"/>).</summary>
    public IAggregator Aggregator { get; init; } = Mean.Instance;

    /// <summary>What clients send (default: <see cref="ClientUpdateKind.ModelDelta"/>).</summary>
    public ClientUpdateKind Update { get; init; } = ClientUpdateKind.ModelDelta;

    /// <summary>The client → coordinator codec (default: <see cref="Identity"/>, dense float32). Its per-node state (error-feedback residual, DGC momentum) lives in each client.</summary>
    public ICompressor Uplink { get; init; } = new Identity();

    /// <summary>
    /// The coordinator → client codec, or null (default) for a dense model. When set, the coordinator
    /// keeps the public model x̂ every synchronized client holds and sends <c>Q(θ − x̂)</c>; clients that
    /// missed the previous round get x̂ densely.
    /// </summary>
    public ICompressor? Downlink { get; init; }

    /// <summary>Server learning rate (finite, &gt; 0; default 1): the aggregate is scaled by it before it is applied.</summary>
    public float ServerLearningRate { get; init; } = 1f;

    /// <summary>Checks the options for <paramref name="clients"/> clients.</summary>
    /// <exception cref="ArgumentException">A value is out of range (the message names it and the allowed range).</exception>
    public void Validate(int clients)
    {
        if (clients < 1) throw new ArgumentException($"Compressed FedAvg needs at least one client; got {clients}.", nameof(clients));
        if (!(ClientFraction > 0 && ClientFraction <= 1)) throw new ArgumentException($"Invalid client fraction: {ClientFraction}; must be in (0, 1].", nameof(ClientFraction));
        if (LocalSteps < 0) throw new ArgumentException($"Invalid number of local steps: {LocalSteps}; must be ≥ 0.", nameof(LocalSteps));
        if (Update == ClientUpdateKind.Gradient && LocalSteps != 1)
            throw new ArgumentException($"Invalid number of local steps: {LocalSteps}; gradient updates compute one gradient per round, so it must be 1.", nameof(LocalSteps));
        if (!Enum.IsDefined(Update)) throw new ArgumentException($"Invalid update kind: {(int)Update}; must be ModelDelta or Gradient.", nameof(Update));
        if (BatchSize < 1) throw new ArgumentException($"Invalid batch size: {BatchSize}; must be ≥ 1.", nameof(BatchSize));
        if (!(RoundTimeout > 0)) throw new ArgumentException($"Invalid round timeout: {RoundTimeout} s; must be > 0 (infinity: no timeout).", nameof(RoundTimeout));
        int m = FedAvg.ClientsPerRound(ClientFraction, clients);
        if (MinReplies < 1 || MinReplies > m) throw new ArgumentException($"Invalid minimum number of replies: {MinReplies}; must be in [1, {m}] (the clients sampled per round).", nameof(MinReplies));
        if (Rounds < 0) throw new ArgumentException($"Invalid number of rounds: {Rounds}; must be ≥ 0 (0: unlimited).", nameof(Rounds));
        if (!(ServerLearningRate > 0) || !float.IsFinite(ServerLearningRate)) throw new ArgumentException($"Invalid server learning rate: {ServerLearningRate}; must be finite and > 0.", nameof(ServerLearningRate));
        ArgumentNullException.ThrowIfNull(Aggregator);
        ArgumentNullException.ThrowIfNull(Uplink);
    }
}

/// <summary>
/// Federated averaging with compressed communication: FedAvg (McMahan et al., "Communication-Efficient
/// Learning of Deep Networks from Decentralized Data", AISTATS 2017) where every client sends its
/// update encoded with any <see cref="ICompressor"/> as real payload bytes (<see cref="Message.Data"/>),
/// so the simulator charges the exact encoded length. With <see cref="ClientUpdateKind.Gradient"/>
/// updates and <see cref="DeepGradientCompression"/> as the uplink codec it is Deep Gradient
/// Compression (Lin, Han, Mao, Wang &amp; Dally, "Deep Gradient Compression: Reducing the
/// Communication Bandwidth for Distributed Training", ICLR 2018) in its data-parallel form.
/// </summary>
/// <remarks>
/// <para>
/// <b>Round.</b> The coordinator samples clients (seeded by the round, as FedAvg), sends them the
/// model, and waits for all replies or the round timeout. Each client trains (or computes one
/// gradient), encodes its update with its own compressor state (error-feedback residual, DGC's
/// momentum u and velocity v: <see cref="ICompressor.StateLength"/> floats per client, kept across
/// rounds, also when the client is not sampled) and the context (seed, client id, round − 1), and
/// replies with the payload and its sample count. The coordinator decodes every reply with the
/// uplink codec; a malformed payload (or a missing/invalid sample count) is rejected and logged
/// (<see cref="CompressedFedAvgCoordinator.Rejections"/>) and the round proceeds with the replies
/// that decoded; with at least <see cref="CompressedFedAvgOptions.MinReplies"/> of them the
/// aggregator (sample-count weighted) combines them in client-id order and the update is applied.
/// </para>
/// <para>
/// <b>DGC variant.</b> The paper compresses gradients in synchronous data-parallel SGD: every
/// worker computes one minibatch gradient per iteration, accumulates it with momentum correction
/// (u ← μu + g, v ← v + u), sends the entries of v above the threshold and masks u and v there;
/// the sparse gradients are summed and divided by N and the optimizer steps without its own
/// momentum. This protocol reproduces exactly that with <see cref="ClientUpdateKind.Gradient"/>:
/// a client computes one gradient at the round's model (no local step, its optimizer is unused),
/// the coordinator averages the decoded sparse vectors (equal partitions give the paper's 1/N) and
/// steps the optimizer given to <see cref="CompressedFedAvg.CreateNodes"/> — which must be plain
/// SGD for the paper's semantics, since momentum is already in the payload. The warm-up schedule
/// follows the protocol round: round r encodes with <see cref="CompressionContext.Round"/> = r − 1,
/// so with <see cref="DeepGradientCompression.WarmupRoundsPerStage"/> = rounds per epoch the
/// density is the paper's 25% → 0.1% over the first epochs. (The "sum of K local gradient steps"
/// alternative is model-delta mode with SGD at learning rate 1, up to the sign.)
/// </para>
/// <para>
/// <b>Downlink.</b> Dense by default (the model as float32). With a downlink codec the coordinator
/// keeps θ (exact) and the public model x̂ held by synchronized clients; each round it sends
/// q = Q(θ − x̂) (difference compression, whose error is re-sent later) and sets x̂ ← x̂ + q. Every
/// client starts with x̂ = the initial model; a client that did not reply in the previous round
/// (not sampled, crashed, lost message) gets x̂ densely, and a client whose copy does not match asks
/// for it (a 32-byte resync message). Clients keep x̂ (d floats) between rounds.
/// </para>
/// <para>
/// <b>Bytes.</b> Downlink: 32 + 4d per dense model, 32 + 8 + |q| per compressed one. Uplink:
/// 32 + 8 (the sample count) + the payload length. The coordinator counts payload bytes
/// (<see cref="CompressedFedAvgCoordinator.UplinkPayloadBytes"/>, <see cref="CompressedFedAvgCoordinator.DownlinkPayloadBytes"/>);
/// the simulator counts message bytes per node (<c>Simulator.BytesSentBy</c>).
/// </para>
/// <para>Node ids: clients are 0..n−1 (client i holds data partition i), the coordinator is node n.</para>
/// </remarks>
public static class CompressedFedAvg
{
    /// <summary>Kind of a dense model message (coordinator → client).</summary>
    public const string ModelKind = "cfedavg/model";

    /// <summary>Kind of a compressed model-difference message (coordinator → client; scalar 0 = the round of the public model it applies to).</summary>
    public const string DeltaKind = "cfedavg/delta";

    /// <summary>Kind of the client → coordinator update (data = payload; scalar 0 = sample count).</summary>
    public const string UpdateKind = "cfedavg/update";

    /// <summary>Kind of a client's request for the dense model when its copy of the public model is out of date.</summary>
    public const string ResyncKind = "cfedavg/resync";

    /// <summary>Name of the coordinator's round-timeout timer.</summary>
    public const string TimeoutTimer = "cfedavg/timeout";

    /// <summary>
    /// Builds the behaviours: clients 0..n−1 (client i trains on <paramref name="clientData"/>[i]) and
    /// the coordinator as node n, starting from <see cref="LocalModel.InitialParameters"/>(learner, seed).
    /// <paramref name="optimizer"/> is the clients' local optimizer in model-delta mode and the
    /// coordinator's optimizer in gradient mode. <paramref name="seed"/> must be the experiment seed
    /// (it keys the compressors' randomness and shared sketch seeds).
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options or no clients.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> clientData, CompressedFedAvgOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(clientData);
        ArgumentNullException.ThrowIfNull(options);
        int n = clientData.Count;
        options.Validate(n);
        var init = LocalModel.InitialParameters(learner, seed);
        var nodes = new INodeBehavior[n + 1];
        for (int i = 0; i < n; i++) nodes[i] = new CompressedFedAvgClient(learner, optimizer, clientData[i], options, init, seed);
        nodes[n] = new CompressedFedAvgCoordinator(Enumerable.Range(0, n).ToArray(), init, optimizer, options, seed);
        return nodes;
    }
}

/// <summary>The <see cref="CompressedFedAvg"/> coordinator (see there).</summary>
public sealed class CompressedFedAvgCoordinator : INodeBehavior
{
    private readonly int[] _clients;
    private readonly Dictionary<int, int> _clientIndex;
    private readonly float[] _global;
    private readonly float[]? _public;
    private readonly float[] _downlinkState;
    private readonly long[] _replicaRound;
    private readonly IOptimizer _optimizer;
    private readonly float[] _serverState;
    private readonly CompressedFedAvgOptions _options;
    private readonly ulong _seed;
    private readonly int _perRound;
    private readonly List<(int From, Message Update)> _replies = new();
    private readonly RejectionLog _rejections = new();
    private readonly List<float[]> _buffers = new();
    private float[]? _scratch;
    private long _serverStep;
    private int[] _selected = Array.Empty<int>();
    private long _round;
    private long _timer = -1;
    private bool _done;
    private long _uplinkBytes, _downlinkBytes;

    /// <summary>Creates a coordinator over client node ids <paramref name="clients"/>, starting from <paramref name="initialModel"/> (copied).</summary>
    /// <param name="clients">Client node ids (distinct).</param>
    /// <param name="initialModel">θ₀, also the public model every client starts with.</param>
    /// <param name="optimizer">The server optimizer of gradient mode (unused in model-delta mode).</param>
    /// <param name="options">Protocol options.</param>
    /// <param name="seed">The experiment seed (keys the downlink codec's randomness).</param>
    /// <exception cref="ArgumentException">Invalid options, no clients or duplicate ids.</exception>
    public CompressedFedAvgCoordinator(IReadOnlyList<int> clients, ReadOnlySpan<float> initialModel, IOptimizer optimizer, CompressedFedAvgOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(options);
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        options.Validate(clients.Count);
        _clients = clients.ToArray();
        _clientIndex = new Dictionary<int, int>();
        for (int i = 0; i < _clients.Length; i++)
            if (!_clientIndex.TryAdd(_clients[i], i)) throw new ArgumentException($"Client ids must be distinct; {_clients[i]} appears twice.", nameof(clients));
        _global = initialModel.ToArray();
        int d = _global.Length;
        _options = options;
        _seed = seed;
        _perRound = FedAvg.ClientsPerRound(options.ClientFraction, _clients.Length);
        _serverState = options.Update == ClientUpdateKind.Gradient ? new float[optimizer.StateLength(d)] : Array.Empty<float>();
        _replicaRound = new long[_clients.Length];
        if (options.Downlink is { } dl)
        {
            _public = initialModel.ToArray();
            _downlinkState = new float[dl.StateLength(d)];
        }
        else _downlinkState = Array.Empty<float>();
    }

    /// <summary>The current global model θ.</summary>
    public ReadOnlySpan<float> GlobalModel => _global;

    /// <summary>The public model x̂ that synchronized clients hold (empty without downlink compression).</summary>
    public ReadOnlySpan<float> PublicModel => _public;

    /// <summary>The round in progress (0 before the first).</summary>
    public long CurrentRound => _round;

    /// <summary>Replies rejected so far (malformed payloads, invalid sample counts).</summary>
    public long RejectedCount => _rejections.Count;

    /// <summary>The most recent rejected replies (at most 1000), oldest first.</summary>
    public IReadOnlyList<RejectedMessage> Rejections => _rejections.Items;

    /// <summary>Raised when a reply is rejected (on the host's loop thread).</summary>
    public event Action<RejectedMessage>? MessageRejected;

    /// <summary>Payload bytes of every reply received (decoded or not), excluding message headers and scalars.</summary>
    public long UplinkPayloadBytes => _uplinkBytes;

    /// <summary>Payload bytes of every compressed model difference sent (one count per recipient); dense models are not included.</summary>
    public long DownlinkPayloadBytes => _downlinkBytes;

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
        if (_options.Downlink is { } dl)
        {
            var diff = Scratch();
            TensorPrimitives.Subtract(_global, _public!, diff);
            byte[] q = dl.EncodeToArray(diff, _downlinkState, new CompressionContext(_seed, (ulong)context.NodeId, round - 1));
            dl.DecodeAdd(q, _public, 1f);
            Message? delta = null, dense = null;
            foreach (int c in _selected)
            {
                if (_replicaRound[_clientIndex[c]] == round - 1)
                {
                    delta ??= new Message(CompressedFedAvg.DeltaKind, round, scalars: new double[] { round - 1 }, data: q);
                    context.Send(c, delta);
                    _downlinkBytes += q.Length;
                }
                else context.Send(c, dense ??= new Message(CompressedFedAvg.ModelKind, round, _public!.ToArray()));
            }
        }
        else
        {
            var message = new Message(CompressedFedAvg.ModelKind, round, _global.ToArray());
            foreach (int c in _selected) context.Send(c, message);
        }
        if (double.IsFinite(_options.RoundTimeout)) _timer = context.SetTimer(_options.RoundTimeout, CompressedFedAvg.TimeoutTimer, round);
    }

    private float[] Scratch() => _scratch ??= new float[_global.Length];

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
        if (_done || message.Round != _round || Array.BinarySearch(_selected, from) < 0) return;
        foreach (var r in _replies) if (r.From == from) return;
        if (message.Kind == CompressedFedAvg.ResyncKind)
        {
            if (_public is not null) context.Send(from, new Message(CompressedFedAvg.ModelKind, _round, _public.ToArray()));
            return;
        }
        if (message.Kind != CompressedFedAvg.UpdateKind) return;
        _replies.Add((from, message));
        _uplinkBytes += message.Data.Length;
        _replicaRound[_clientIndex[from]] = _round;
        if (_replies.Count == _selected.Length) FinishRound(context);
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer)
    {
        if (!_done && timer.Name == CompressedFedAvg.TimeoutTimer && timer.Value == _round) { _timer = -1; FinishRound(context); }
    }

    private void Reject(long round, int from, string reason)
    {
        var r = _rejections.Add(round, from, reason);
        MessageRejected?.Invoke(r);
    }

    private void FinishRound(INodeContext context)
    {
        if (_timer >= 0) context.CancelTimer(_timer);
        _replies.Sort((a, b) => a.From.CompareTo(b.From));
        int d = _global.Length;
        var inputs = new List<ReadOnlyMemory<float>>(_replies.Count);
        var weights = new List<float>(_replies.Count);
        foreach (var (from, update) in _replies)
        {
            double w = update.Scalars.Length > 0 ? update.Scalar(0) : double.NaN;
            if (!(w >= 0) || !float.IsFinite((float)w))
            {
                Reject(_round, from, $"invalid sample count {w}; must be finite and ≥ 0.");
                continue;
            }
            if (_buffers.Count <= inputs.Count) _buffers.Add(new float[d]);
            var buffer = _buffers[inputs.Count];
            try
            {
                _options.Uplink.Decode(update.Data.Span, buffer);
            }
            catch (PayloadFormatException e)
            {
                Reject(_round, from, e.Message);
                continue;
            }
            inputs.Add(buffer);
            weights.Add((float)w);
        }
        bool ok = inputs.Count >= _options.MinReplies && weights.Sum() > 0;
        if (ok)
        {
            var aggregate = Scratch();
            _options.Aggregator.Aggregate(inputs, weights.ToArray(), aggregate);
            float lr = _options.ServerLearningRate;
            if (_options.Update == ClientUpdateKind.ModelDelta)
            {
                if (lr == 1f) TensorPrimitives.Add(_global, aggregate, _global);
                else TensorPrimitives.MultiplyAdd(aggregate, lr, _global, _global);
            }
            else
            {
                if (lr != 1f) TensorPrimitives.Multiply(aggregate, lr, aggregate);
                _optimizer.Step(_global, aggregate, _serverState, ++_serverStep);
            }
        }
        context.CompleteRound(_round, ok);
        StartRound(context, _round + 1);
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result) =>
        throw new InvalidOperationException("The compressed FedAvg coordinator does not train.");

    /// <summary>
    /// Restarts the current round (same sampled clients); replies received before the crash are
    /// discarded. With downlink compression every client then gets the public model densely once.
    /// </summary>
    public void OnRecover(INodeContext context)
    {
        if (_done) return;
        Array.Fill(_replicaRound, -1L);
        StartRound(context, _round);
    }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        writer.WriteFloats(_global);
        writer.WriteFloats(_public);
        writer.WriteFloats(_downlinkState);
        writer.WriteFloats(_serverState);
        writer.Write(_serverStep);
        writer.Write(_replicaRound.Length);
        foreach (long r in _replicaRound) writer.Write(r);
        writer.Write(_round);
        writer.Write(_timer);
        writer.Write(_done);
        writer.WriteInts(_selected);
        writer.Write(_replies.Count);
        foreach (var (from, update) in _replies) { writer.Write(from); writer.WriteMessage(update); }
        writer.Write(_uplinkBytes);
        writer.Write(_downlinkBytes);
        _rejections.Write(writer);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        reader.ReadFloatsInto(_global, "compressed FedAvg global model");
        reader.ReadFloatsInto(_public, "compressed FedAvg public model");
        reader.ReadFloatsInto(_downlinkState, "downlink compressor state");
        reader.ReadFloatsInto(_serverState, "server optimizer state");
        _serverStep = reader.ReadInt64();
        int n = reader.ReadInt32();
        if (n != _replicaRound.Length) throw new InvalidDataException($"The checkpoint has {n} clients; this coordinator has {_replicaRound.Length}.");
        for (int i = 0; i < n; i++) _replicaRound[i] = reader.ReadInt64();
        _round = reader.ReadInt64();
        _timer = reader.ReadInt64();
        _done = reader.ReadBoolean();
        _selected = reader.ReadInts();
        _replies.Clear();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++) _replies.Add((reader.ReadInt32(), reader.ReadMessage() ?? throw new InvalidDataException("Missing compressed FedAvg reply.")));
        _uplinkBytes = reader.ReadInt64();
        _downlinkBytes = reader.ReadInt64();
        _rejections.Read(reader);
    }
}

/// <summary>A <see cref="CompressedFedAvg"/> client (see there).</summary>
public sealed class CompressedFedAvgClient : INodeBehavior
{
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly CompressedFedAvgOptions _options;
    private readonly ulong _seed;
    private readonly float[] _compressorState;
    private readonly float[]? _replica;
    private long _replicaRound;
    private LocalModel? _model;
    private float[]? _gradient;
    private Message? _start;
    private bool _training;
    private long _round;
    private int _server = -1;
    private Message? _pending;
    private int _pendingFrom = -1;

    /// <summary>Creates a client training on <paramref name="data"/>.</summary>
    /// <param name="learner">The learner.</param>
    /// <param name="optimizer">The local optimizer (model-delta mode; unused in gradient mode).</param>
    /// <param name="data">The client's data.</param>
    /// <param name="options">Protocol options.</param>
    /// <param name="initialModel">θ₀, the public model the client starts with (used with downlink compression).</param>
    /// <param name="seed">The experiment seed (keys the uplink codec's randomness).</param>
    /// <exception cref="ArgumentException">The data view is empty while local steps are asked, or the initial model has the wrong length.</exception>
    public CompressedFedAvgClient(ILearner learner, IOptimizer optimizer, DatasetView data, CompressedFedAvgOptions options, ReadOnlySpan<float> initialModel, ulong seed)
    {
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException("A compressed FedAvg client with local steps needs data; its view is empty.", nameof(data));
        int d = learner.Layout.Length;
        if (initialModel.Length != d) throw new ArgumentException($"The initial model has {initialModel.Length} floats; the learner has {d} parameters.", nameof(initialModel));
        _seed = seed;
        _compressorState = new float[options.Uplink.StateLength(d)];
        if (options.Downlink is not null) _replica = initialModel.ToArray();
        if (!options.ResetClientOptimizer && options.Update == ClientUpdateKind.ModelDelta) _model = LocalModel.Create(learner, optimizer);
    }

    /// <summary>The client's compressor state (error-feedback residual, DGC's u then v, ...), kept across rounds.</summary>
    public ReadOnlySpan<float> CompressorState => _compressorState;

    /// <summary>The client's copy of the public model (empty without downlink compression).</summary>
    public ReadOnlySpan<float> PublicModel => _replica;

    /// <inheritdoc />
    public bool ReportsRounds => false;

    /// <inheritdoc />
    public ReadOnlyMemory<float> EvaluationModel => ReadOnlyMemory<float>.Empty;

    /// <inheritdoc />
    public void OnStart(INodeContext context) { }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        bool dense = message.Kind == CompressedFedAvg.ModelKind && message.Model.Length == _learner.Layout.Length;
        bool delta = message.Kind == CompressedFedAvg.DeltaKind && _replica is not null;
        if (!(dense || delta) || message.Round < _round) return;
        if (_training)
        {
            // Still busy with an older round: handle the newest model when done.
            if (_pending is null || message.Round > _pending.Round || (message.Round == _pending.Round && dense)) { _pending = message; _pendingFrom = from; }
            return;
        }
        Handle(context, from, message);
    }

    private void Handle(INodeContext context, int from, Message message)
    {
        if (message.Kind == CompressedFedAvg.DeltaKind)
        {
            long baseRound = message.Scalars.Length > 0 ? (long)message.Scalar(0) : -1;
            if (baseRound != _replicaRound)
            {
                context.Send(from, new Message(CompressedFedAvg.ResyncKind, message.Round));
                return;
            }
            try
            {
                _options.Downlink!.DecodeAdd(message.Data.Span, _replica, 1f);
            }
            catch (PayloadFormatException)
            {
                context.Send(from, new Message(CompressedFedAvg.ResyncKind, message.Round));
                return;
            }
            _replicaRound = message.Round;
        }
        else if (_replica is not null)
        {
            message.Model.Span.CopyTo(_replica);
            _replicaRound = message.Round;
        }
        Train(context, from, message);
    }

    private ReadOnlySpan<float> StartModel => _replica is not null ? _replica : _start!.Model.Span;

    private void Train(INodeContext context, int from, Message message)
    {
        int d = _learner.Layout.Length;
        _start = message;
        _server = from;
        _round = message.Round;
        _training = true;
        if (_options.Update == ClientUpdateKind.Gradient)
        {
            _model ??= new LocalModel(d, 0);
            _gradient ??= new float[d];
            StartModel.CopyTo(_model.Parameters);
            context.StartTraining(new GradientJob(_model, _learner, _data, _options.BatchSize, message.Round, _gradient));
        }
        else
        {
            _model ??= LocalModel.Create(_learner, _optimizer);
            StartModel.CopyTo(_model.Parameters);
            if (_options.ResetClientOptimizer) _model.ResetOptimizer();
            context.StartTraining(new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, message.Round));
        }
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        _training = false;
        if (_pending is { } next)
        {
            _pending = null;
            Handle(context, _pendingFrom, next);
            return;
        }
        float[] update;
        if (_options.Update == ClientUpdateKind.Gradient) update = _gradient!;
        else
        {
            update = _model!.Parameters;
            TensorPrimitives.Subtract(update, StartModel, update);       // Δ = θ_local − θ_start, in place
        }
        byte[] payload = _options.Uplink.EncodeToArray(update, _compressorState, new CompressionContext(_seed, (ulong)context.NodeId, result.Round - 1));
        context.Send(_server, new Message(CompressedFedAvg.UpdateKind, result.Round, scalars: new double[] { _data.Count }, data: payload));
        _start = null;
        if (_options.ResetClientOptimizer) { _model = null; _gradient = null; }
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer) { }

    /// <summary>The job running at the crash is lost; a model that arrived meanwhile is handled now.</summary>
    public void OnRecover(INodeContext context)
    {
        _training = false;
        _start = null;
        if (_options.ResetClientOptimizer) { _model = null; _gradient = null; }
        if (_pending is { } next)
        {
            _pending = null;
            Handle(context, _pendingFrom, next);
        }
    }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        writer.WriteFloats(_compressorState);
        writer.WriteFloats(_replica);
        writer.Write(_replicaRound);
        writer.Write(_model is not null);
        _model?.Write(writer);
        writer.Write(_gradient is not null);
        writer.WriteFloats(_gradient);
        writer.WriteMessage(_start);
        writer.Write(_training);
        writer.Write(_round);
        writer.Write(_server);
        writer.WriteMessage(_pending);
        writer.Write(_pendingFrom);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        int d = _learner.Layout.Length;
        reader.ReadFloatsInto(_compressorState, "uplink compressor state");
        reader.ReadFloatsInto(_replica, "public model copy");
        _replicaRound = reader.ReadInt64();
        if (reader.ReadBoolean())
        {
            _model ??= _options.Update == ClientUpdateKind.Gradient ? new LocalModel(d, 0) : LocalModel.Create(_learner, _optimizer);
            _model.Read(reader);
        }
        else _model = null;
        bool hasGradient = reader.ReadBoolean();
        var gradient = reader.ReadFloats();
        _gradient = hasGradient ? gradient : null;
        _start = reader.ReadMessage();
        _training = reader.ReadBoolean();
        _round = reader.ReadInt64();
        _server = reader.ReadInt32();
        _pending = reader.ReadMessage();
        _pendingFrom = reader.ReadInt32();
    }
}
