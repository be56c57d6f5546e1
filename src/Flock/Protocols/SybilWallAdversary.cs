using Flock.Attacks;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>Options of a <see cref="SybilWallAdversary"/>.</summary>
public sealed class SybilWallAdversaryOptions
{
    /// <summary>Local steps K the adversary trains per round on its (poisoned) data.</summary>
    public int LocalSteps { get; init; } = 1;

    /// <summary>Minibatch size B.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Per-identity noise scale s of <see cref="Sybil"/> (identities differ by ≤ s per coordinate; default <see cref="Sybil.DefaultNoiseScale"/>).</summary>
    public float NoiseScale { get; init; } = Sybil.DefaultNoiseScale;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (LocalSteps < 0) throw new ArgumentException($"Invalid number of local steps: {LocalSteps}; must be ≥ 0.", nameof(LocalSteps));
        if (BatchSize < 1) throw new ArgumentException($"Invalid batch size: {BatchSize}; must be ≥ 1.", nameof(BatchSize));
        if (!(NoiseScale >= 0) || float.IsInfinity(NoiseScale)) throw new ArgumentException($"Invalid Sybil noise scale: {NoiseScale}; must be finite and ≥ 0.", nameof(NoiseScale));
    }
}

/// <summary>
/// One adversary behind k identities in a <see cref="SybilWall"/> network (the attacker of the
/// SybilWall paper's evaluation): it keeps one model, averages every honest model any identity
/// receives, trains on its own (typically poisoned, e.g. <see cref="Backdoor"/>) data, and every
/// identity answers each honest neighbour's model of a round with the adversary's model plus tiny
/// per-identity noise (<see cref="Sybil"/>), so the identities send near-identical poisoned models.
/// Identities do not gossip records and are not evaluated.
/// </summary>
/// <remarks>
/// <para>The identities are separate node behaviours (ids chosen by the caller) sharing this
/// object, as one attacker would run them. Round r's model is computed once, when an identity
/// first needs it: θ_A ← (θ_A + Σ models received since the last training) / (1 + their number),
/// then K steps on the adversary's data with minibatches from <c>Rng.Derive(seed, key, r, "batches")</c>
/// (key = the first identity's id), synchronously in the identity's callback (the attacker's
/// compute time is not simulated). An identity answers only its neighbours' own-model messages, once
/// per neighbour and round, with the round of the request; noise comes from
/// <c>Rng.Derive(seed, key, r, "attack")</c> as <see cref="Sybil"/> specifies.</para>
/// <para>Checkpoints: every identity writes the whole shared state; reading it back k times is idempotent.</para>
/// </remarks>
public sealed class SybilWallAdversary
{
    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly SybilWallAdversaryOptions _options;
    private readonly ulong _seed;
    private readonly LocalModel _model;
    private readonly float[] _pool;
    private int _pooled;
    private long _trainedRound;
    private float[] _current;
    private int _key = -1;
    private Sybil? _sybil;

    /// <summary>Creates the adversary.</summary>
    /// <param name="learner">The learner (the honest nodes').</param>
    /// <param name="optimizer">The adversary's local optimizer.</param>
    /// <param name="data">What the adversary trains on (e.g. <c>new Backdoor().Poison(view, rng)</c>).</param>
    /// <param name="initialParameters">Its starting model (normally the honest nodes' θ₀; copied).</param>
    /// <param name="options">Options.</param>
    /// <param name="seed">The experiment seed.</param>
    /// <exception cref="ArgumentException">Invalid options, parameters, or empty data with local steps.</exception>
    public SybilWallAdversary(ILearner learner, IOptimizer optimizer, DatasetView data, ReadOnlySpan<float> initialParameters, SybilWallAdversaryOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException("The Sybil adversary has local steps but no data.", nameof(data));
        _options = options;
        _seed = seed;
        _model = LocalModel.Create(learner, optimizer, initialParameters);
        _pool = new float[_model.ParameterCount];
        _current = _model.Parameters.ToArray();
    }

    /// <summary>The adversary's model (after its last training).</summary>
    public LocalModel Model => _model;

    /// <summary>The last round the adversary trained for (0 before any).</summary>
    public long TrainedRound => _trainedRound;

    /// <summary>Number of identities (0 before <see cref="CreateIdentities"/>).</summary>
    public int Identities => _sybil?.Identities ?? 0;

    /// <summary>
    /// Creates the k = <paramref name="neighbors"/>.Count identities: identity i runs as node
    /// <paramref name="firstId"/> + i with neighbours <paramref name="neighbors"/>[i]. Call once.
    /// </summary>
    /// <exception cref="ArgumentException">No identities, or a neighbour list is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="firstId"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Identities were already created.</exception>
    public INodeBehavior[] CreateIdentities(int firstId, IReadOnlyList<int[]> neighbors)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        if (_sybil is not null) throw new InvalidOperationException("This adversary's identities were already created.");
        if (firstId < 0) throw new ArgumentOutOfRangeException(nameof(firstId), firstId, $"Invalid first identity id: {firstId}; must be ≥ 0.");
        if (neighbors.Count == 0) throw new ArgumentException("A Sybil adversary needs at least one identity.", nameof(neighbors));
        _key = firstId;
        _sybil = new Sybil(OwnModel.Instance, neighbors.Count, _options.NoiseScale);
        var ids = new INodeBehavior[neighbors.Count];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = new SybilWallIdentity(this, i, neighbors[i] ?? throw new ArgumentException($"Identity {i} has no neighbour list.", nameof(neighbors)));
        return ids;
    }

    internal void Observe(ReadOnlySpan<float> model)
    {
        if (model.Length != _pool.Length) return;
        System.Numerics.Tensors.TensorPrimitives.Add(_pool, model, _pool);
        _pooled++;
    }

    /// <summary>The adversary's model of <paramref name="round"/> (trained on first use; older rounds get the latest).</summary>
    internal float[] ModelFor(long round)
    {
        if (round <= _trainedRound) return _current;
        var theta = _model.Parameters;
        if (_pooled > 0)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(theta, _pool, theta);
            System.Numerics.Tensors.TensorPrimitives.Multiply(theta, 1f / (1 + _pooled), theta);
            Array.Clear(_pool);
            _pooled = 0;
        }
        var job = new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, round);
        job.Begin();
        try { job.Execute(_seed, _key); }
        finally { job.End(); }
        _trainedRound = round;
        _current = _model.Parameters.ToArray();
        return _current;
    }

    /// <summary>Identity <paramref name="identity"/>'s vector for <paramref name="round"/>: the round's model plus its <see cref="Sybil"/> noise.</summary>
    internal float[] Craft(long round, int identity)
    {
        var own = ModelFor(round);
        var output = new float[own.Length];
        var context = new AttackContext { Own = own, Rng = Rng.Derive(_seed, (ulong)_key, (ulong)round, "attack"), Identity = identity };
        _sybil!.Craft(context, output);
        return output;
    }

    internal void Write(StateWriter writer)
    {
        _model.Write(writer);
        writer.WriteFloats(_pool);
        writer.Write(_pooled);
        writer.Write(_trainedRound);
        writer.WriteFloats(_current);
    }

    internal void Read(StateReader reader)
    {
        _model.Read(reader);
        reader.ReadFloatsInto(_pool, "Sybil pool");
        _pooled = reader.ReadInt32();
        _trainedRound = reader.ReadInt64();
        _current = reader.ReadFloats();
        if (_current.Length != _pool.Length) throw new InvalidDataException($"The Sybil adversary's model has {_current.Length} floats; expected {_pool.Length}.");
    }

    /// <summary>The inner attack of the identities' <see cref="Sybil"/>: send the adversary's own model.</summary>
    private sealed class OwnModel : IModelAttack
    {
        public static readonly OwnModel Instance = new();

        public string Name => "own-model";

        public IReadOnlyList<AttackParameter> Parameters => Array.Empty<AttackParameter>();

        public bool UsesHonestVectors => false;

        public bool UsesAggregator => false;

        public void Craft(AttackContext context, Span<float> output) => context.Own.Span.CopyTo(output);
    }
}

/// <summary>One identity of a <see cref="SybilWallAdversary"/> (see there).</summary>
public sealed class SybilWallIdentity : INodeBehavior
{
    private readonly SybilWallAdversary _adversary;
    private readonly int _identity;
    private readonly int[] _neighbors;
    private readonly long[] _answered;

    internal SybilWallIdentity(SybilWallAdversary adversary, int identity, int[] neighbors)
    {
        _adversary = adversary;
        _identity = identity;
        _neighbors = neighbors.OrderBy(j => j).Distinct().ToArray();
        _answered = new long[_neighbors.Length];
        Array.Fill(_answered, -1);
    }

    /// <summary>This identity's index among the adversary's identities.</summary>
    public int Identity => _identity;

    /// <inheritdoc />
    public bool ReportsRounds => false;

    /// <summary>Empty: identities are not evaluated.</summary>
    public ReadOnlyMemory<float> EvaluationModel => ReadOnlyMemory<float>.Empty;

    /// <inheritdoc />
    public void OnStart(INodeContext context) { }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (message.Kind != SybilWall.ModelKind) return;
        int k = Array.BinarySearch(_neighbors, from);
        if (k < 0) return;
        _adversary.Observe(message.Model.Span);
        if (message.Round <= _answered[k]) return;
        _answered[k] = message.Round;
        context.Send(from, new Message(SybilWall.ModelKind, message.Round, _adversary.Craft(message.Round, _identity)));
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer) { }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result) { }

    /// <inheritdoc />
    public void OnRecover(INodeContext context) { }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        _adversary.Write(writer);
        writer.Write(_answered.Length);
        foreach (long r in _answered) writer.Write(r);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        _adversary.Read(reader);
        int count = reader.ReadInt32();
        if (count != _answered.Length) throw new InvalidDataException($"Sybil identity {_identity} state has {count} neighbours; expected {_answered.Length}.");
        for (int k = 0; k < count; k++) _answered[k] = reader.ReadInt64();
    }
}
