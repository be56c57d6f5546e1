using System.Buffers;
using System.Numerics.Tensors;
using Flock.Aggregation;
using Flock.Data;
using Flock.Models;
using Flock.Optimizers;

namespace Flock.Protocols;

/// <summary>Options of <see cref="Monna"/>. Defaults follow the paper's MNIST setup (learning rate 0.75, batch 25, L2 1e-4, one step per round) except β = 0.9 (the paper uses 0 and 0.99).</summary>
public sealed class MonnaOptions
{
    /// <summary>Default learning rate γ.</summary>
    public const float DefaultLearningRate = 0.75f;

    /// <summary>Default momentum β.</summary>
    public const float DefaultMomentum = 0.9f;

    /// <summary>Default L2 weight decay λ.</summary>
    public const float DefaultWeightDecay = 1e-4f;

    /// <summary>Learning rate γ of the local step x ← x − γ·m.</summary>
    public float LearningRate { get; init; } = DefaultLearningRate;

    /// <summary>Momentum β in [0, 1): m ← β·m + (1 − β)·g.</summary>
    public float Momentum { get; init; } = DefaultMomentum;

    /// <summary>Coupled L2 weight decay λ (added to the gradient before the momentum).</summary>
    public float WeightDecay { get; init; } = DefaultWeightDecay;

    /// <summary>The local optimizer; null (default) for MoNNA's momentum (<see cref="MonnaMomentum"/>) with <see cref="LearningRate"/>, <see cref="Momentum"/> and <see cref="WeightDecay"/>.</summary>
    public IOptimizer? Optimizer { get; init; }

    /// <summary>Local steps per round (the paper: 1, one gradient per communication).</summary>
    public int LocalSteps { get; init; } = 1;

    /// <summary>Local minibatch size (the paper: 25).</summary>
    public int BatchSize { get; init; } = 25;

    /// <summary>Seconds a node waits for its neighbours' models after sending its own (infinity: wait for all).</summary>
    public double RoundTimeout { get; init; } = double.PositiveInfinity;

    /// <summary>Rounds to run (0: until the host stops).</summary>
    public long Rounds { get; init; }

    /// <summary>The number f of Byzantine models a node discards (keeps the count − f nearest); null (default): the number of Byzantine nodes of <see cref="Byzantine"/>, or 0.</summary>
    public int? F { get; init; }

    /// <summary>Byzantine nodes and their attack (null: none). The attack space defaults to <see cref="AttackSpace.Model"/>; "optimal" attacks target <see cref="NearestNeighborAveraging"/>.</summary>
    public ByzantineSetup? Byzantine { get; init; }

    /// <summary>The f in use: <see cref="F"/>, else the number of Byzantine nodes, else 0.</summary>
    public int EffectiveF => F ?? Byzantine?.Nodes.Count ?? 0;

    /// <summary>The local optimizer in use: <see cref="Optimizer"/>, or MoNNA's momentum from the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public IOptimizer LocalOptimizer() => Optimizer ?? new MonnaMomentum(LearningRate, Momentum, WeightDecay);

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (Optimizer is null)
        {
            if (!(LearningRate >= 0) || !float.IsFinite(LearningRate)) throw new ArgumentException($"Invalid learning rate: {LearningRate}; must be finite and ≥ 0.", nameof(LearningRate));
            if (!(Momentum >= 0 && Momentum < 1)) throw new ArgumentException($"Invalid momentum: {Momentum}; must be in [0, 1).", nameof(Momentum));
            if (!(WeightDecay >= 0) || !float.IsFinite(WeightDecay)) throw new ArgumentException($"Invalid weight decay: {WeightDecay}; must be finite and ≥ 0.", nameof(WeightDecay));
        }
        if (F is < 0) throw new ArgumentException($"Invalid number of Byzantine models to discard: {F}; must be ≥ 0.", nameof(F));
        ToDSgd().Validate();
    }

    internal DSgdOptions ToDSgd() => new()
    {
        LocalSteps = LocalSteps, BatchSize = BatchSize, RoundTimeout = RoundTimeout, Rounds = Rounds,
        Aggregator = new NearestNeighborAveraging(Math.Max(0, EffectiveF)),
    };
}

/// <summary>
/// MoNNA — Farhadkhani, Guerraoui, Gupta, Hoang, Pinot, Stephan, "Robust Collaborative Learning
/// with Linear Gradient Overhead" (ICML 2023). Decentralized synchronous rounds on a graph; every
/// honest node (1) takes a local step with heavy-ball momentum on its gradients,
/// <c>m ← β·m + (1 − β)·g; x ← x − γ·m</c> (<see cref="MonnaMomentum"/>; the momentum buffer is
/// the node's optimizer state), (2) sends x to its neighbours, and (3) replaces x by the
/// nearest-neighbour average centred on its own model (<see cref="NearestNeighborAveraging"/>):
/// of its own model and the models received this round, sorted by L2 distance to its own, it keeps
/// the count − f nearest (itself included) and averages them uniformly.
/// </summary>
/// <remarks>
/// <para>Rounds, timeouts, catching up, faults and checkpoints are those of <see cref="DSgd"/>
/// (the nodes are <see cref="DSgdNode"/>s with this mixing rule). With f = 0 and no attack a round
/// is exactly uniform D-SGD with the same local optimizer.</para>
/// <para>Difference from the paper's simulation: there a node averages over n − f vectors
/// (itself, n − 2f − 1 random honest nodes and all f Byzantine ones); here it uses every model it
/// received (on a complete graph, all n − 1 others), so keeping count − f is the same rule on a
/// larger sample.</para>
/// </remarks>
public static class Monna
{
    /// <summary>
    /// Builds one MoNNA node per data view: node i trains on <paramref name="data"/>[i] and
    /// exchanges models with <paramref name="neighbors"/>[i]; every node starts from
    /// <see cref="LocalModel.InitialParameters"/>(learner, seed). The nodes of
    /// <see cref="MonnaOptions.Byzantine"/> are Byzantine (see <see cref="ByzantineSetup"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options, the arrays disagree in length, or a neighbour id is invalid.</exception>
    public static INodeBehavior[] CreateNodes(ILearner learner, IReadOnlyList<DatasetView> data, IReadOnlyList<int[]> neighbors, MonnaOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var dsgd = options.ToDSgd();
        var (weights, self) = DSgd.UniformWeights(neighbors);
        return DSgd.Build(learner, options.LocalOptimizer(), data, neighbors, weights, self, dsgd,
            new NnaMixer((NearestNeighborAveraging)dsgd.Aggregator), options.Byzantine, seed);
    }

    private sealed class NnaMixer(NearestNeighborAveraging nna) : ModelMixer
    {
        public override IAggregator TargetAggregator => nna;

        public override void Mix(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, int self, Span<float> output, ulong seed) =>
            NearestNeighborAveraging.Average(inputs, self, nna.F, output);
    }
}

/// <summary>
/// Nearest-neighbour averaging (NNA), MoNNA's mixing step (Farhadkhani et al., "Robust
/// Collaborative Learning with Linear Gradient Overhead", ICML 2023): of n vectors, keep the
/// max(1, n − f) nearest in L2 distance to the centre vector (the centre itself always included;
/// equal distances broken by lower index) and average them uniformly, in index order. As an
/// <see cref="IAggregator"/> the centre is input 0 (the convention for a node's own model); weights
/// are ignored.
/// </summary>
public sealed class NearestNeighborAveraging : IAggregator
{
    /// <summary>Creates NNA discarding the <paramref name="f"/> farthest vectors.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="f"/> is negative.</exception>
    public NearestNeighborAveraging(int f)
    {
        if (f < 0) throw new ArgumentOutOfRangeException(nameof(f), f, $"Invalid number of discarded vectors f = {f}; must be ≥ 0.");
        F = f;
    }

    /// <summary>Number of vectors discarded (the assumed number of Byzantine inputs).</summary>
    public int F { get; }

    /// <inheritdoc />
    public string Name => "nna";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">No inputs, a length mismatch, or a weight count other than 0 or n.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (weights.Length != 0 && weights.Length != inputs.Count) throw new ArgumentException($"Got {weights.Length} weights for {inputs.Count} inputs; give 0 or one per input (they are ignored).", nameof(weights));
        Average(inputs, 0, F, output);
    }

    /// <summary>
    /// Writes to <paramref name="kept"/> the indices of the max(1, n − f) inputs nearest to
    /// <paramref name="inputs"/>[<paramref name="centre"/>] (the centre included), in increasing
    /// order, and returns their number.
    /// </summary>
    /// <exception cref="ArgumentException">No inputs, a length mismatch, or <paramref name="kept"/> shorter than n.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="centre"/> is not an input index, or <paramref name="f"/> is negative.</exception>
    public static int Select(IReadOnlyList<ReadOnlyMemory<float>> inputs, int centre, int f, Span<int> kept)
    {
        int n = Validate(inputs, centre, f, out var c);
        if (kept.Length < n) throw new ArgumentException($"The index buffer holds {kept.Length} entries; need {n}.", nameof(kept));
        int keep = Math.Max(1, n - f);
        var dist = ArrayPool<float>.Shared.Rent(n);
        var order = ArrayPool<int>.Shared.Rent(n);
        try
        {
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                if (i == centre) continue;
                dist[m] = TensorPrimitives.Distance(inputs[i].Span, c);
                order[m++] = i;
            }
            // Sort by (distance, index): indices enter in increasing order, and an insertion sort is stable.
            for (int a = 1; a < m; a++)
            {
                float d = dist[a];
                int o = order[a], b = a - 1;
                while (b >= 0 && dist[b] > d) { dist[b + 1] = dist[b]; order[b + 1] = order[b]; b--; }
                dist[b + 1] = d;
                order[b + 1] = o;
            }
            kept[0] = centre;
            for (int j = 1; j < keep; j++) kept[j] = order[j - 1];
            kept[..keep].Sort();
            return keep;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dist);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>The NNA of <paramref name="inputs"/> centred on input <paramref name="centre"/>, written to <paramref name="output"/> (which must not overlap an input).</summary>
    /// <exception cref="ArgumentException">No inputs or a length mismatch.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="centre"/> is not an input index, or <paramref name="f"/> is negative.</exception>
    public static void Average(IReadOnlyList<ReadOnlyMemory<float>> inputs, int centre, int f, Span<float> output)
    {
        int n = Validate(inputs, centre, f, out var c);
        if (output.Length != c.Length) throw new ArgumentException($"The output has {output.Length} elements but the inputs have {c.Length}.", nameof(output));
        var kept = ArrayPool<int>.Shared.Rent(n);
        var rows = ArrayPool<ReadOnlyMemory<float>>.Shared.Rent(n);
        var ones = ArrayPool<float>.Shared.Rent(n);
        try
        {
            int k = Select(inputs, centre, f, kept);
            for (int j = 0; j < k; j++) rows[j] = inputs[kept[j]];
            ones.AsSpan(0, k).Fill(1f);
            Mean.Instance.Aggregate(new ArraySegment<ReadOnlyMemory<float>>(rows, 0, k), ones.AsSpan(0, k), output);
        }
        finally
        {
            Array.Clear(rows, 0, n);
            ArrayPool<int>.Shared.Return(kept);
            ArrayPool<ReadOnlyMemory<float>>.Shared.Return(rows);
            ArrayPool<float>.Shared.Return(ones);
        }
    }

    private static int Validate(IReadOnlyList<ReadOnlyMemory<float>> inputs, int centre, int f, out ReadOnlySpan<float> c)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int n = inputs.Count;
        if (n == 0) throw new ArgumentException("NNA needs at least one input.", nameof(inputs));
        if ((uint)centre >= (uint)n) throw new ArgumentOutOfRangeException(nameof(centre), centre, $"Invalid centre index {centre}; must be in [0, {n}).");
        if (f < 0) throw new ArgumentOutOfRangeException(nameof(f), f, $"Invalid number of discarded vectors f = {f}; must be ≥ 0.");
        c = inputs[centre].Span;
        for (int i = 0; i < n; i++)
            if (inputs[i].Length != c.Length) throw new ArgumentException($"Input {i} has {inputs[i].Length} elements but the centre has {c.Length}.", nameof(inputs));
        return n;
    }
}

/// <summary>
/// MoNNA's local optimizer: heavy-ball momentum on the (L2-regularised) gradient with a buffer
/// starting at zero, <c>d = g + λ·θ; m ← β·m + (1 − β)·d; θ ← θ − γ·m</c>, from "Robust
/// Collaborative Learning with Linear Gradient Overhead" (Farhadkhani et al., ICML 2023). Unlike
/// PyTorch's dampened momentum (<see cref="MomentumSgd"/>), the first step is <c>m = (1 − β)·d</c>.
/// State: the momentum buffer (one float per parameter).
/// </summary>
public sealed class MonnaMomentum : IOptimizer
{
    private readonly HyperParameter[] _hyperParameters;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">γ (finite, ≥ 0).</param>
    /// <param name="momentum">β in [0, 1).</param>
    /// <param name="weightDecay">Coupled L2 weight decay λ (finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public MonnaMomentum(float learningRate = MonnaOptions.DefaultLearningRate, float momentum = MonnaOptions.DefaultMomentum, float weightDecay = MonnaOptions.DefaultWeightDecay)
    {
        LearningRate = Check.LearningRate(learningRate, nameof(learningRate));
        Momentum = Check.Unit(momentum, nameof(momentum), "momentum");
        WeightDecay = Check.NonNegative(weightDecay, nameof(weightDecay), "weight decay");
        _hyperParameters =
        [
            new("learning_rate", LearningRate, MonnaOptions.DefaultLearningRate, "Learning rate γ; finite, ≥ 0."),
            new("momentum", Momentum, MonnaOptions.DefaultMomentum, "Momentum β in [0, 1): m ← β·m + (1 − β)·g."),
            new("weight_decay", WeightDecay, MonnaOptions.DefaultWeightDecay, "Coupled L2 weight decay λ (added to the gradient); finite, ≥ 0."),
        ];
    }

    /// <inheritdoc />
    public float LearningRate { get; }

    /// <summary>Momentum β.</summary>
    public float Momentum { get; }

    /// <summary>Coupled L2 weight decay λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public string Name => "monna-momentum";

    /// <inheritdoc />
    public IReadOnlyList<HyperParameter> HyperParameters => _hyperParameters;

    /// <summary>Registry description with defaults.</summary>
    public static OptimizerInfo Describe() => new("monna-momentum", "Robust Collaborative Learning with Linear Gradient Overhead (Farhadkhani et al., 2023)", new MonnaMomentum().HyperParameters);

    /// <inheritdoc />
    public int StateLength(int parameterCount) => Check.ParameterCount(parameterCount);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step) =>
        Step(parameters, gradient, state, step, LearningRate);

    /// <inheritdoc />
    public void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step, float learningRate)
    {
        Check.StepArguments(parameters, gradient, state, parameters.Length, step);
        Check.LearningRate(learningRate, nameof(learningRate));
        Update(parameters, gradient, state, learningRate, Momentum, WeightDecay);
    }

    /// <summary>The kernel (SIMD, three passes): <c>g ← g + λ·θ; m ← β·m + (1 − β)·g; θ ← θ − γ·m</c>. The gradient buffer is overwritten when λ ≠ 0.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Update(Span<float> parameters, Span<float> gradient, Span<float> buffer, float learningRate, float momentum, float weightDecay)
    {
        Check.SameLength(parameters.Length, gradient.Length, nameof(gradient), "gradient");
        Check.SameLength(parameters.Length, buffer.Length, nameof(buffer), "momentum buffer");
        if (weightDecay != 0) TensorPrimitives.MultiplyAdd(parameters, weightDecay, gradient, gradient);
        TensorPrimitives.Lerp(buffer, gradient, 1f - momentum, buffer);
        TensorPrimitives.MultiplyAdd(buffer, -learningRate, parameters, parameters);
    }
}
