using System.Globalization;
using System.Numerics.Tensors;
using Flock.Compression;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>Options of <see cref="OneByteSpsa"/>.</summary>
public sealed class OneByteSpsaOptions
{
    /// <summary>Perturbations S per machine and step, each on its own minibatch (one byte each on the wire).</summary>
    public int Samples { get; init; } = 1;

    /// <summary>Minibatch size B of each loss evaluation.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Perturbation scale ε (finite, &gt; 0; default 1e-3).</summary>
    public float Epsilon { get; init; } = 1e-3f;

    /// <summary>Clipping range c of the projected gradient (finite, &gt; 0; default 10): p is clipped to [−c, c] before quantization.</summary>
    public float Clip { get; init; } = 10f;

    /// <summary>Seconds a machine waits for the others' bytes after sending its own (infinity: wait for all).</summary>
    public double RoundTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Steps to run (0: until the host stops).</summary>
    public long Rounds { get; init; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (Samples < 1) throw new ArgumentException($"Invalid number of samples: {Samples}; must be ≥ 1.", nameof(Samples));
        if (BatchSize < 1) throw new ArgumentException($"Invalid batch size: {BatchSize}; must be ≥ 1.", nameof(BatchSize));
        if (!(Epsilon > 0) || !float.IsFinite(Epsilon)) throw new ArgumentException($"Invalid perturbation scale ε: {Epsilon.ToString(CultureInfo.InvariantCulture)}; must be finite and > 0.", nameof(Epsilon));
        if (!(Clip > 0) || !float.IsFinite(Clip)) throw new ArgumentException($"Invalid clipping range c: {Clip.ToString(CultureInfo.InvariantCulture)}; must be finite and > 0.", nameof(Clip));
        if (!(RoundTimeout > 0)) throw new ArgumentException($"Invalid round timeout: {RoundTimeout} s; must be > 0 (infinity: no timeout).", nameof(RoundTimeout));
        if (Rounds < 0) throw new ArgumentException($"Invalid number of rounds: {Rounds}; must be ≥ 0 (0: unlimited).", nameof(Rounds));
    }
}

/// <summary>
/// Shared-randomness zeroth-order SGD with one byte per projected gradient — Zelikman, Huang,
/// Liang, Haber &amp; Goodman, "Just One Byte (per gradient): A Note on Low-Bandwidth Decentralized
/// Language Model Finetuning Using Shared Randomness" (2023), a distributed extension of MeZO's
/// SPSA (Malladi et al., 2023). Every machine holds the same model θ. Step t, machine m, sample s:
/// the seed <see cref="PerturbationSeed"/>(seed, m, t, s) gives z ~ N(0, I) (<see cref="FastGaussian"/>),
/// and on its own minibatch the machine measures, with forward passes only,
/// <c>p = (L(θ + εz) − L(θ − εz)) / (2ε)</c>. Only p travels, as one byte; the seed identity is
/// implicit in (sender, step, sample). Every machine then regenerates every z and steps its
/// optimizer with the gradient estimate <c>ĝ = mean over (m, s) of p̂·z</c> (SGD: θ ← θ − η·ĝ), so
/// all machines keep bit-identical models.
/// </summary>
/// <remarks>
/// <para>
/// <b>Quantizer</b> (<see cref="Quantize"/>): p is clipped to [−c, c] and mapped to the 255 levels
/// k·c/127, k ∈ {−127, …, 127}, by stochastic rounding (unbiased inside [−c, c]) with a uniform
/// from <c>Rng.Derive(seed, machine, step, "one-byte/rounding")</c>; the byte is k as a signed
/// int8 (−128 is invalid and rejected). A non-finite p is sent as 0. All machines must use the same
/// c (it is a protocol constant, not sent).
/// </para>
/// <para>
/// <b>Round.</b> An estimation job (2S forward passes; its compute cost is counted as 2S/3 steps)
/// computes the S projected gradients; the machine sends its S bytes to every other machine
/// (message of 32 + S bytes) and waits for everyone's bytes of the step or the timeout; an
/// application job (no compute cost) regenerates the z's in machine-id then sample order and steps
/// the optimizer. The mean is over the contributions received, so machines stay identical only if
/// they all received the same set: with a finite timeout and faults they may diverge (as in the
/// note, where machines join and leave between steps). Messages of past steps are ignored;
/// malformed ones are rejected and logged (<see cref="OneByteSpsaNode.Rejections"/>).
/// </para>
/// <para>
/// <b>Memory.</b> θ and the optimizer state, S floats of projections, and the bytes of the steps
/// in flight; z and the perturbed parameters are per-thread scratch.
/// </para>
/// </remarks>
public static class OneByteSpsa
{
    /// <summary>Kind of the message carrying a machine's S quantized projected gradients.</summary>
    public const string ProjectionKind = "onebyte/p";

    /// <summary>Name of the step-timeout timer.</summary>
    public const string TimeoutTimer = "onebyte/timeout";

    /// <summary>Quantization levels on each side of 0: a byte is k ∈ [−127, 127], the value k·c/127.</summary>
    public const int Levels = 127;

    /// <summary>
    /// Builds one machine per data view (machine i trains on <paramref name="data"/>[i]), all
    /// exchanging with all, starting from <see cref="LocalModel.InitialParameters"/>(learner, seed).
    /// <paramref name="seed"/> must be the experiment seed: it keys the shared perturbations.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options, no machines, or a machine without data.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IOptimizer optimizer, IReadOnlyList<DatasetView> data, OneByteSpsaOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count < 1) throw new ArgumentException("One-byte SPSA needs at least one machine.", nameof(data));
        var init = LocalModel.InitialParameters(learner, seed);
        var machines = Enumerable.Range(0, data.Count).ToArray();
        var nodes = new INodeBehavior[data.Count];
        for (int i = 0; i < data.Count; i++) nodes[i] = new OneByteSpsaNode(i, machines, learner, optimizer, data[i], init, options, seed);
        return nodes;
    }

    /// <summary>The seed of the perturbation z of (<paramref name="machine"/>, <paramref name="step"/>, <paramref name="sample"/>) in an experiment seeded with <paramref name="seed"/>.</summary>
    public static ulong PerturbationSeed(ulong seed, int machine, long step, int sample) =>
        Rng.DeriveSeed(seed, (ulong)machine, (ulong)step, (ulong)sample, Rng.StableHash("one-byte/z"));

    /// <summary>
    /// Quantizes <paramref name="p"/> to a signed byte k ∈ [−127, 127]: clip to [−c, c], scale to
    /// [−127, 127], round down or up with probability equal to the fractional part
    /// (<paramref name="uniform"/> in [0, 1) is the random draw). Non-finite p gives 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clip"/> is not finite and positive.</exception>
    public static sbyte Quantize(double p, float clip, float uniform)
    {
        if (!(clip > 0) || !float.IsFinite(clip)) throw new ArgumentOutOfRangeException(nameof(clip), clip, $"Invalid clipping range: {clip}; must be finite and > 0.");
        if (double.IsNaN(p)) return 0;
        double x = Math.Clamp(p, -clip, clip) / clip * Levels;
        double lo = Math.Floor(x);
        int k = (int)lo + (uniform < x - lo ? 1 : 0);
        return (sbyte)Math.Clamp(k, -Levels, Levels);
    }

    /// <summary>The value of byte <paramref name="code"/>: k·(c/127) in float.</summary>
    public static float Dequantize(sbyte code, float clip) => code * (clip / Levels);
}

/// <summary>Estimates S projected gradients at the model's parameters, leaving them unchanged.</summary>
internal sealed class SpsaEstimateJob : TrainingJob
{
    [ThreadStatic] private static float[]? t_z;
    [ThreadStatic] private static float[]? t_probe;

    private readonly ulong _seed;
    private readonly int _machine;
    private readonly float _epsilon;
    private readonly float[] _projections;
    private int _next;

    public SpsaEstimateJob(LocalModel model, ILearner learner, IOptimizer optimizer, DatasetView data, int batchSize, long round,
        ulong seed, int machine, float epsilon, float[] projections)
        : base(model, learner, new FrozenOptimizer(optimizer), data, projections.Length, batchSize, round)
    {
        _seed = seed;
        _machine = machine;
        _epsilon = epsilon;
        _projections = projections;
    }

    /// <summary>Two forward passes per sample, a forward pass being about a third of a training step.</summary>
    public override double CostSteps => 2.0 * Steps / 3.0;

    protected override float ComputeLossAndGradient(ReadOnlySpan<float> parameters, ReadOnlySpan<int> positions, Span<float> gradient, Rng dropoutRng)
    {
        int s = _next++;
        int d = parameters.Length;
        var z = (t_z is { } a && a.Length >= d ? a : (t_z = new float[d])).AsSpan(0, d);
        var probe = (t_probe is { } b && b.Length >= d ? b : (t_probe = new float[d])).AsSpan(0, d);
        FastGaussian.Fill(OneByteSpsa.PerturbationSeed(_seed, _machine, Round, s), z);
        TensorPrimitives.MultiplyAdd(z, _epsilon, parameters, probe);
        float plus = Learner.Loss(probe, Data, positions);
        TensorPrimitives.MultiplyAdd(z, -_epsilon, parameters, probe);
        float minus = Learner.Loss(probe, Data, positions);
        _projections[s] = (float)(((double)plus - minus) / (2.0 * _epsilon));
        return 0.5f * (plus + minus);
    }
}

/// <summary>Regenerates every contribution's z and steps the optimizer with ĝ = mean p̂·z.</summary>
internal sealed class SpsaApplyJob : TrainingJob
{
    private readonly ulong _seed;
    private readonly (int Machine, byte[] Codes)[] _contributions;
    private readonly float _clip;

    public SpsaApplyJob(LocalModel model, ILearner learner, IOptimizer optimizer, DatasetView data, int batchSize, long round,
        ulong seed, (int Machine, byte[] Codes)[] contributions, float clip)
        : base(model, learner, optimizer, data, 1, batchSize, round)
    {
        _seed = seed;
        _contributions = contributions;
        _clip = clip;
    }

    /// <summary>Regenerating the perturbations is not counted as compute.</summary>
    public override double CostSteps => 0;

    protected override float ComputeLossAndGradient(ReadOnlySpan<float> parameters, ReadOnlySpan<int> positions, Span<float> gradient, Rng dropoutRng)
    {
        gradient.Clear();
        int count = 0;
        foreach (var c in _contributions) count += c.Codes.Length;
        foreach (var (machine, codes) in _contributions)
            for (int s = 0; s < codes.Length; s++)
            {
                sbyte k = (sbyte)codes[s];
                if (k != 0) FastGaussian.AddScaled(OneByteSpsa.PerturbationSeed(_seed, machine, Round, s), OneByteSpsa.Dequantize(k, _clip) / count, gradient);
            }
        return float.NaN;
    }
}

/// <summary>A <see cref="OneByteSpsa"/> machine (see there).</summary>
public sealed class OneByteSpsaNode : INodeBehavior
{
    private enum Phase { Idle, Estimating, Waiting, Applying, Done }

    private readonly int _id;
    private readonly int[] _machines;
    private readonly int _self;
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly OneByteSpsaOptions _options;
    private readonly ulong _seed;
    private readonly LocalModel _model;
    private readonly float[] _projections;
    private readonly SortedDictionary<long, byte[]?[]> _inbox = new();
    private readonly RejectionLog _rejections = new();
    private long _round;
    private Phase _phase;
    private long _timer = -1;
    private long _stepBefore;

    /// <summary>Creates machine <paramref name="id"/> of the group <paramref name="machines"/>.</summary>
    /// <param name="id">This machine's node id (it must be the id the host gives it).</param>
    /// <param name="machines">Node ids of every machine of the group, this one included (distinct).</param>
    /// <param name="learner">The learner (only <see cref="ILearner.Loss"/> is used).</param>
    /// <param name="optimizer">The optimizer stepped with the shared gradient estimate (the same on every machine).</param>
    /// <param name="data">The machine's data (non-empty).</param>
    /// <param name="initialParameters">Starting parameters (copied; the same on every machine).</param>
    /// <param name="options">Protocol options (the same on every machine).</param>
    /// <param name="seed">The experiment seed (keys the shared perturbations).</param>
    /// <exception cref="ArgumentException">Invalid options, machine list or data.</exception>
    public OneByteSpsaNode(int id, IReadOnlyList<int> machines, ILearner learner, IOptimizer optimizer, DatasetView data,
        ReadOnlySpan<float> initialParameters, OneByteSpsaOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(machines);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _machines = machines.OrderBy(m => m).ToArray();
        for (int k = 1; k < _machines.Length; k++)
            if (_machines[k] == _machines[k - 1]) throw new ArgumentException($"Machine {_machines[k]} is listed twice.", nameof(machines));
        _self = Array.BinarySearch(_machines, id);
        if (_self < 0) throw new ArgumentException($"Machine {id} is not in its own machine list.", nameof(machines));
        _id = id;
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        if (data.Count == 0) throw new ArgumentException($"One-byte SPSA machine {id} has no data.", nameof(data));
        _options = options;
        _seed = seed;
        _model = LocalModel.Create(learner, optimizer, initialParameters);
        _projections = new float[options.Samples];
    }

    /// <summary>The machine's model (its parameters and optimizer state).</summary>
    public LocalModel Model => _model;

    /// <summary>The unquantized projected gradients of the machine's last estimate (S values).</summary>
    public ReadOnlySpan<float> LastProjections => _projections;

    /// <summary>The step in progress (0 before the first).</summary>
    public long CurrentRound => _round;

    /// <summary>Messages rejected so far (wrong length, invalid byte).</summary>
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
        _phase = Phase.Estimating;
        _stepBefore = _model.Step;
        context.StartTraining(new SpsaEstimateJob(_model, _learner, _optimizer, _data, _options.BatchSize, round, _seed, _id, _options.Epsilon, _projections));
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        if (_phase == Phase.Estimating)
        {
            _model.Step = _stepBefore;                                   // the frozen optimizer's steps do not count
            var rng = context.DeriveRng("one-byte/rounding", _round);
            var codes = new byte[_projections.Length];
            for (int s = 0; s < codes.Length; s++) codes[s] = (byte)OneByteSpsa.Quantize(_projections[s], _options.Clip, rng.NextFloat());
            Slots(_round)[_self] = codes;
            var message = new Message(OneByteSpsa.ProjectionKind, _round, data: codes);
            foreach (int m in _machines) if (m != _id) context.Send(m, message);
            _phase = Phase.Waiting;
            _timer = double.IsFinite(_options.RoundTimeout) ? context.SetTimer(_options.RoundTimeout, OneByteSpsa.TimeoutTimer, _round) : -1;
            TryApply(context);
        }
        else if (_phase == Phase.Applying) EndRound(context);
    }

    private byte[]?[] Slots(long round)
    {
        if (!_inbox.TryGetValue(round, out var slots)) _inbox[round] = slots = new byte[]?[_machines.Length];
        return slots;
    }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (_phase == Phase.Done || message.Kind != OneByteSpsa.ProjectionKind) return;
        int k = Array.BinarySearch(_machines, from);
        if (k < 0 || k == _self) return;
        if (message.Round < _round || (message.Round == _round && _phase is Phase.Applying or Phase.Idle)) return;
        var data = message.Data.Span;
        if (data.Length != _options.Samples)
        {
            _rejections.Add(message.Round, from, $"{data.Length} byte(s); expected one per sample ({_options.Samples}).");
            return;
        }
        foreach (byte b in data)
            if (b == 0x80)
            {
                _rejections.Add(message.Round, from, "byte -128 is not a valid level (levels are -127..127).");
                return;
            }
        var slots = Slots(message.Round);
        if (slots[k] is not null) return;
        slots[k] = data.ToArray();
        if (_phase == Phase.Waiting && message.Round == _round) TryApply(context);
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer)
    {
        if (timer.Name == OneByteSpsa.TimeoutTimer && timer.Value == _round && _phase == Phase.Waiting)
        {
            _timer = -1;
            Apply(context);
        }
    }

    private void TryApply(INodeContext context)
    {
        foreach (var s in Slots(_round)) if (s is null) return;
        Apply(context);
    }

    private void Apply(INodeContext context)
    {
        NodeTimers.Cancel(context, ref _timer);
        var slots = Slots(_round);
        var contributions = new List<(int, byte[])>(slots.Length);
        for (int k = 0; k < slots.Length; k++) if (slots[k] is { } codes) contributions.Add((_machines[k], codes));
        _phase = Phase.Applying;
        context.StartTraining(new SpsaApplyJob(_model, _learner, _optimizer, _data, _options.BatchSize, _round, _seed, contributions.ToArray(), _options.Clip));
    }

    private void EndRound(INodeContext context)
    {
        _inbox.Remove(_round);
        _phase = Phase.Idle;
        context.CompleteRound(_round);
        BeginRound(context, _round + 1);
    }

    /// <summary>
    /// A crash during the estimate re-estimates the step (deterministically); during the wait the
    /// timeout is re-armed; during the application the update was already applied, so the step ends.
    /// </summary>
    public void OnRecover(INodeContext context)
    {
        switch (_phase)
        {
            case Phase.Estimating:
                _model.Step = _stepBefore;
                BeginRound(context, _round);
                break;
            case Phase.Waiting:
                _timer = double.IsFinite(_options.RoundTimeout) ? context.SetTimer(_options.RoundTimeout, OneByteSpsa.TimeoutTimer, _round) : -1;
                TryApply(context);
                break;
            case Phase.Applying:
                EndRound(context);
                break;
        }
    }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        _model.Write(writer);
        writer.WriteFloats(_projections);
        writer.Write(_round);
        writer.Write((int)_phase);
        writer.Write(_timer);
        writer.Write(_stepBefore);
        writer.Write(_inbox.Count);
        foreach (var (round, slots) in _inbox)
        {
            writer.Write(round);
            foreach (var s in slots)
            {
                writer.Write(s is not null);
                if (s is not null) writer.WriteBytes(s);
            }
        }
        _rejections.Write(writer);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        _model.Read(reader);
        reader.ReadFloatsInto(_projections, "one-byte projections");
        _round = reader.ReadInt64();
        _phase = (Phase)reader.ReadInt32();
        _timer = reader.ReadInt64();
        _stepBefore = reader.ReadInt64();
        _inbox.Clear();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            long round = reader.ReadInt64();
            var slots = new byte[]?[_machines.Length];
            for (int k = 0; k < slots.Length; k++) slots[k] = reader.ReadBoolean() ? reader.ReadBytes() : null;
            _inbox[round] = slots;
        }
        _rejections.Read(reader);
    }
}
