using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Flock.Compression;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;

namespace Flock.Protocols;

/// <summary>Options of <see cref="ChocoSgd"/>.</summary>
public sealed class ChocoSgdOptions
{
    /// <summary>Local steps K per round (1 in the paper; 0 gives CHOCO-Gossip, pure compressed consensus).</summary>
    public int LocalSteps { get; init; } = 1;

    /// <summary>Local minibatch size B.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seconds a node waits for its neighbours' messages after sending its own (infinity: wait for all).</summary>
    public double RoundTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Rounds to run (0: until the host stops).</summary>
    public long Rounds { get; init; }

    /// <summary>The codec Q applied to <c>x_i − x̂_i</c> (default: <see cref="Identity"/>).</summary>
    public ICompressor Compressor { get; init; } = new Identity();

    /// <summary>
    /// Consensus step size γ (finite, &gt; 0; default 1, which with an exact codec is D-SGD's mixing).
    /// With a lossy codec it must be small, of the order of the codec's quality δ (e.g. about the
    /// density for top-k): the paper tunes γ per codec.
    /// </summary>
    public float ConsensusStepSize { get; init; } = 1f;

    /// <summary>
    /// False (default): every public copy x̂_j starts at the shared initial model, which every node
    /// knows; true: they start at 0 as in the paper's pseudo-code (the first rounds then transmit
    /// the model itself through the codec).
    /// </summary>
    public bool ZeroInitialCopies { get; init; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (LocalSteps < 0) throw new ArgumentException($"Invalid number of local steps: {LocalSteps}; must be ≥ 0.", nameof(LocalSteps));
        if (BatchSize < 1) throw new ArgumentException($"Invalid batch size: {BatchSize}; must be ≥ 1.", nameof(BatchSize));
        if (!(RoundTimeout > 0)) throw new ArgumentException($"Invalid round timeout: {RoundTimeout} s; must be > 0 (infinity: no timeout).", nameof(RoundTimeout));
        if (Rounds < 0) throw new ArgumentException($"Invalid number of rounds: {Rounds}; must be ≥ 0 (0: unlimited).", nameof(Rounds));
        if (!(ConsensusStepSize > 0) || !float.IsFinite(ConsensusStepSize)) throw new ArgumentException($"Invalid consensus step size γ: {ConsensusStepSize}; must be finite and > 0.", nameof(ConsensusStepSize));
        ArgumentNullException.ThrowIfNull(Compressor);
    }
}

/// <summary>
/// CHOCO-SGD and CHOCO-Gossip — Koloskova, Stich &amp; Jaggi, "Decentralized Stochastic Optimization
/// and Gossip Algorithms with Compressed Communication" (ICML 2019). Every node i keeps its model
/// x_i and public copies x̂_j of itself and of each neighbour. Round t: K local steps of the node's
/// optimizer on x_i (x_i^{t+½}); q_i = Q(x_i − x̂_i) is encoded and sent to the neighbours; every
/// node adds the decoded q_j to its copy x̂_j (its own included); then
/// <c>x_i ← x_i + γ Σ_j W_ij (x̂_j − x̂_i)</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>State and memory.</b> x_i and the optimizer state (a <see cref="LocalModel"/>), the copies in
/// one flat array of (degree + 1)·d floats (x̂_i first, then the neighbours' in increasing id order),
/// and the codec's state (<see cref="ICompressor.StateLength"/>): about (degree + 2)·d floats per
/// node. (The paper's memory-efficient variant keeps only Σ_j W_ij x̂_j; keeping the copies lets a
/// late message be applied to the right copy.) The copies of x̂_j held by j and by its neighbours
/// are bit-identical as long as every message arrives, since all apply the same decoded q_j with the
/// same float additions.
/// </para>
/// <para>
/// <b>Mixing weights.</b> W_ij for the neighbours; W_ii is implied (1 − Σ_j W_ij) since
/// x̂_i − x̂_i = 0. With the identity codec and γ = 1 the round is D-SGD's
/// <c>x_i ← W_ii x_i + Σ_j W_ij x_j</c> up to float rounding.
/// </para>
/// <para>
/// <b>Faults.</b> A node waits for its neighbours' messages of the round or the timeout; a missing
/// neighbour's copy simply stays stale (its last value is still the best estimate, and the mix
/// keeps the neighbour's weight). Messages of past rounds (late) are applied to the copy on
/// arrival (also after the last round), messages of future rounds are kept until that round: since a copy is the sum of the
/// decoded differences, arrival order does not matter. A lost message (dropped, receiver down)
/// leaves a permanent gap in that copy: CHOCO assumes reliable links. Malformed payloads are
/// rejected and logged (<see cref="ChocoSgdNode.Rejections"/>). Rounds are never skipped.
/// </para>
/// <para>
/// <b>Bytes.</b> One message per neighbour and round: 32 + |payload| bytes. The codec context is
/// (seed, node, round − 1).
/// </para>
/// </remarks>
public static class ChocoSgd
{
    /// <summary>Kind of the compressed-difference message (data = Q(x_i − x̂_i)).</summary>
    public const string DifferenceKind = "choco/q";

    /// <summary>Name of the round-timeout timer.</summary>
    public const string TimeoutTimer = "choco/timeout";

    /// <summary>
    /// Builds one CHOCO node per data view: node i trains on <paramref name="data"/>[i] and has
    /// neighbours <paramref name="neighbors"/>[i] with mixing weights <paramref name="weights"/>[i]
    /// (W_ij, same order). Every node starts from <see cref="LocalModel.InitialParameters"/>(learner, seed);
    /// <paramref name="seed"/> must be the experiment seed (it keys the codec's randomness).
    /// </summary>
    /// <exception cref="ArgumentException">The arrays disagree in length, a neighbour id is invalid, or a weight is invalid.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data,
        IReadOnlyList<int[]> neighbors, IReadOnlyList<double[]> weights, ChocoSgdOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(learner);
        int n = data.Count;
        if (neighbors.Count != n || weights.Count != n)
            throw new ArgumentException($"Got {n} data views, {neighbors.Count} neighbour lists and {weights.Count} weight lists; all must match.");
        var init = LocalModel.InitialParameters(learner, seed);
        var nodes = new INodeBehavior[n];
        for (int i = 0; i < n; i++)
        {
            foreach (int j in neighbors[i])
                if ((uint)j >= (uint)n) throw new ArgumentException($"Node {i} has neighbour {j}; nodes are 0..{n - 1}.", nameof(neighbors));
            nodes[i] = new ChocoSgdNode(i, neighbors[i], weights[i], learner, optimizer, data[i], init, options, seed);
        }
        return nodes;
    }

    /// <summary>The mixing kernel: <c>x ← x + γ Σ_k w_k (copies[k] − own)</c>, accumulated in neighbour order in <paramref name="scratch"/> (d floats).</summary>
    internal static void Mix(Span<float> x, ReadOnlySpan<float> own, ReadOnlySpan<float> neighborCopies, ReadOnlySpan<float> weights, float gamma, Span<float> scratch)
    {
        int d = x.Length;
        scratch.Clear();
        for (int k = 0; k < weights.Length; k++) AddWeightedDifference(scratch, neighborCopies.Slice(k * d, d), own, weights[k]);
        TensorPrimitives.MultiplyAdd(scratch, gamma, x, x);
    }

    /// <summary>s ← s + w·(a − b), each operation rounded separately.</summary>
    private static void AddWeightedDifference(Span<float> s, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float w)
    {
        int n = s.Length, i = 0;
        ref float sr = ref MemoryMarshal.GetReference(s);
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        if (Vector512.IsHardwareAccelerated)
        {
            var vw = Vector512.Create(w);
            for (; i <= n - 16; i += 16)
                (Vector512.LoadUnsafe(ref sr, (nuint)i) + vw * (Vector512.LoadUnsafe(ref ar, (nuint)i) - Vector512.LoadUnsafe(ref br, (nuint)i))).StoreUnsafe(ref sr, (nuint)i);
        }
        {
            var vw = Vector256.Create(w);
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref sr, (nuint)i) + vw * (Vector256.LoadUnsafe(ref ar, (nuint)i) - Vector256.LoadUnsafe(ref br, (nuint)i))).StoreUnsafe(ref sr, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref sr, i) += w * (Unsafe.Add(ref ar, i) - Unsafe.Add(ref br, i));
    }
}

/// <summary>A <see cref="ChocoSgd"/> node (see there).</summary>
public sealed class ChocoSgdNode : INodeBehavior
{
    [ThreadStatic] private static float[]? t_scratch;

    private enum Phase { Idle, Training, Waiting, Done }

    private readonly int _id;
    private readonly int[] _neighbors;
    private readonly float[] _weights;
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly ChocoSgdOptions _options;
    private readonly ulong _seed;
    private readonly LocalModel _model;
    private readonly float[] _copies;
    private readonly float[] _compressorState;
    private readonly RoundInbox _inbox = new();
    private readonly RejectionLog _rejections = new();
    private long _round;
    private Phase _phase;
    private long _timer = -1;

    /// <summary>Creates node <paramref name="id"/>.</summary>
    /// <param name="id">This node's id (it must be the id the host gives it).</param>
    /// <param name="neighbors">Neighbour ids (distinct, not <paramref name="id"/>).</param>
    /// <param name="weights">Mixing weights W_ij, in <paramref name="neighbors"/> order (finite, ≥ 0).</param>
    /// <param name="learner">The learner.</param>
    /// <param name="optimizer">The local optimizer.</param>
    /// <param name="data">The node's data.</param>
    /// <param name="initialParameters">Starting parameters (copied), also the initial public copies unless <see cref="ChocoSgdOptions.ZeroInitialCopies"/>.</param>
    /// <param name="options">Protocol options.</param>
    /// <param name="seed">The experiment seed.</param>
    /// <exception cref="ArgumentException">Invalid neighbours, weights or options.</exception>
    public ChocoSgdNode(int id, IReadOnlyList<int> neighbors, IReadOnlyList<double> weights, ILearner learner, IOptimizer optimizer,
        DatasetView data, ReadOnlySpan<float> initialParameters, ChocoSgdOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (neighbors.Count != weights.Count) throw new ArgumentException($"Node {id} has {neighbors.Count} neighbours but {weights.Count} weights.", nameof(weights));
        var order = Enumerable.Range(0, neighbors.Count).OrderBy(k => neighbors[k]).ToArray();
        _neighbors = order.Select(k => neighbors[k]).ToArray();
        _weights = order.Select(k => (float)weights[k]).ToArray();
        for (int k = 0; k < _neighbors.Length; k++)
        {
            if (_neighbors[k] == id) throw new ArgumentException($"Node {id} lists itself as a neighbour; its weight is implied.", nameof(neighbors));
            if (k > 0 && _neighbors[k] == _neighbors[k - 1]) throw new ArgumentException($"Node {id} lists neighbour {_neighbors[k]} twice.", nameof(neighbors));
            if (!(_weights[k] >= 0) || float.IsInfinity(_weights[k])) throw new ArgumentException($"Invalid mixing weight W[{id},{_neighbors[k]}] = {_weights[k]}; must be finite and ≥ 0.", nameof(weights));
        }
        _id = id;
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException($"CHOCO node {id} has local steps but no data.", nameof(data));
        _options = options;
        _seed = seed;
        _model = LocalModel.Create(learner, optimizer, initialParameters);
        int d = _model.ParameterCount;
        _copies = new float[checked((_neighbors.Length + 1) * d)];
        if (!options.ZeroInitialCopies)
            for (int k = 0; k <= _neighbors.Length; k++) _model.Parameters.CopyTo(_copies, k * d);
        _compressorState = new float[options.Compressor.StateLength(d)];
    }

    /// <summary>The node's model x_i (its parameters and optimizer state).</summary>
    public LocalModel Model => _model;

    /// <summary>The node's neighbours, in increasing id order (the order of <see cref="NeighborCopy"/>).</summary>
    public IReadOnlyList<int> Neighbors => _neighbors;

    /// <summary>The node's public copy of itself, x̂_i.</summary>
    public ReadOnlySpan<float> OwnCopy => _copies.AsSpan(0, _model.ParameterCount);

    /// <summary>The node's copy x̂_j of neighbour number <paramref name="index"/> (in <see cref="Neighbors"/> order).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such neighbour.</exception>
    public ReadOnlySpan<float> NeighborCopy(int index)
    {
        if ((uint)index >= (uint)_neighbors.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"Node {_id} has {_neighbors.Length} neighbours.");
        int d = _model.ParameterCount;
        return _copies.AsSpan((index + 1) * d, d);
    }

    /// <summary>The round in progress (0 before the first).</summary>
    public long CurrentRound => _round;

    /// <summary>Messages rejected so far (malformed payloads).</summary>
    public long RejectedCount => _rejections.Count;

    /// <summary>The most recent rejected messages (at most 1000), oldest first.</summary>
    public IReadOnlyList<RejectedMessage> Rejections => _rejections.Items;

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
        _phase = Phase.Training;
        context.StartTraining(new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, round));
    }

    private static float[] Scratch(int d) => t_scratch is { } t && t.Length >= d ? t : (t_scratch = new float[d]);

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        int d = _model.ParameterCount;
        var x = _model.Parameters;
        var own = _copies.AsSpan(0, d);
        var diff = Scratch(d).AsSpan(0, d);
        TensorPrimitives.Subtract(x, own, diff);
        var codec = _options.Compressor;
        byte[] q = codec.EncodeToArray(diff, _compressorState, new CompressionContext(_seed, (ulong)_id, _round - 1));
        codec.DecodeAdd(q, own, 1f);
        var message = new Message(ChocoSgd.DifferenceKind, _round, data: q);
        foreach (int j in _neighbors) context.Send(j, message);
        _phase = Phase.Waiting;
        ArmTimeout(context);
        TryFinish(context);
    }

    private void ArmTimeout(INodeContext context)
    {
        _timer = double.IsFinite(_options.RoundTimeout) ? context.SetTimer(_options.RoundTimeout, ChocoSgd.TimeoutTimer, _round) : -1;
    }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (message.Kind != ChocoSgd.DifferenceKind) return;
        int k = Array.BinarySearch(_neighbors, from);
        if (k < 0) return;
        if (message.Round < _round || (_phase == Phase.Done && message.Round == _round))
        {
            Apply(k, message);                                           // late: the copy is a sum, order does not matter
            return;
        }
        if (_phase == Phase.Done) return;
        var slots = _inbox.SlotsFor(message.Round, _neighbors.Length);
        if (slots[k] is not null) return;
        slots[k] = message;
        if (_phase == Phase.Waiting && message.Round == _round) TryFinish(context);
    }

    private void Apply(int k, Message message)
    {
        int d = _model.ParameterCount;
        try
        {
            _options.Compressor.DecodeAdd(message.Data.Span, _copies.AsSpan((k + 1) * d, d), 1f);
        }
        catch (PayloadFormatException e)
        {
            _rejections.Add(message.Round, _neighbors[k], e.Message);
        }
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer)
    {
        if (timer.Name == ChocoSgd.TimeoutTimer && timer.Value == _round && _phase == Phase.Waiting)
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
        if (_inbox.Take(_round) is { } slots)
            for (int k = 0; k < slots.Length; k++)
                if (slots[k] is { } m) Apply(k, m);
        int d = _model.ParameterCount;
        if (_neighbors.Length > 0)
            ChocoSgd.Mix(_model.Parameters, _copies.AsSpan(0, d), _copies.AsSpan(d), _weights, _options.ConsensusStepSize, Scratch(d).AsSpan(0, d));
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
                BeginRound(context, _round);
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
        writer.WriteFloats(_copies);
        writer.WriteFloats(_compressorState);
        writer.Write(_round);
        writer.Write((int)_phase);
        writer.Write(_timer);
        _inbox.Write(writer);
        _rejections.Write(writer);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        _model.Read(reader);
        reader.ReadFloatsInto(_copies, "CHOCO public copies");
        reader.ReadFloatsInto(_compressorState, "CHOCO compressor state");
        _round = reader.ReadInt64();
        _phase = (Phase)reader.ReadInt32();
        _timer = reader.ReadInt64();
        _inbox.Read(reader, _ => _neighbors.Length);
        _rejections.Read(reader);
    }
}
