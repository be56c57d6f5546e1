using Flock.Data;
using Flock.Models;
using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>
/// A local training job: <see cref="Steps"/> minibatch steps of <see cref="Optimizer"/> on a node's
/// <see cref="LocalModel"/> with its own data. Minibatches come from a <see cref="MinibatchSampler"/>
/// driven by <c>Rng.Derive(seed, node, Round, "batches")</c> and stochastic layers from
/// <c>Rng.Derive(seed, node, Round, "dropout")</c>, so the result depends only on the inputs and can
/// be computed on any thread. The gradient buffer is per-thread scratch, not node state.
/// </summary>
/// <remarks>
/// Hosts call <see cref="Begin"/> (locks the model), <see cref="Execute"/> (on any thread), then
/// <see cref="End"/>. Subclasses change the local objective by overriding
/// <see cref="ComputeLossAndGradient"/> (a proximal term, a sharpness-aware step, ...) and state
/// their compute cost with <see cref="CostSteps"/>.
/// </remarks>
public class TrainingJob
{
    [ThreadStatic] private static float[]? t_gradient;
    [ThreadStatic] private static int[]? t_permutation;
    [ThreadStatic] private static int[]? t_positions;

    /// <summary>Creates a job.</summary>
    /// <param name="model">The node's model, trained in place.</param>
    /// <param name="learner">The (stateless, shared) learner.</param>
    /// <param name="optimizer">The (stateless, shared) optimizer.</param>
    /// <param name="data">The node's data.</param>
    /// <param name="steps">Number of local steps K (≥ 0).</param>
    /// <param name="batchSize">Minibatch size B (≥ 1).</param>
    /// <param name="round">The round (or per-node job counter) keying the job's random streams (≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range.</exception>
    /// <exception cref="ArgumentException">The model's sizes disagree with the learner or optimizer, or the data is empty while steps are asked.</exception>
    public TrainingJob(LocalModel model, ILearner learner, IOptimizer optimizer, DatasetView data, int steps, int batchSize, long round)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(data);
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Invalid number of local steps: {steps}; must be ≥ 0.");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Invalid batch size: {batchSize}; must be ≥ 1.");
        if (round < 0) throw new ArgumentOutOfRangeException(nameof(round), round, $"Invalid round: {round}; must be ≥ 0.");
        int p = learner.Layout.Length;
        if (model.ParameterCount != p) throw new ArgumentException($"The model has {model.ParameterCount} parameters but the learner needs {p}.", nameof(model));
        int s = optimizer.StateLength(p);
        if (model.RawOptimizerState.Length != s)
            throw new ArgumentException($"The model has {model.RawOptimizerState.Length} optimizer-state floats but optimizer '{optimizer.Name}' needs {s}.", nameof(model));
        if (steps > 0 && data.Count == 0) throw new ArgumentException("Cannot train on an empty data view.", nameof(data));
        Model = model;
        Learner = learner;
        Optimizer = optimizer;
        Data = data;
        Steps = steps;
        BatchSize = batchSize;
        Round = round;
    }

    /// <summary>The model trained in place.</summary>
    public LocalModel Model { get; }

    /// <summary>The learner.</summary>
    public ILearner Learner { get; }

    /// <summary>The optimizer.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The node's data.</summary>
    public DatasetView Data { get; }

    /// <summary>Number of local steps.</summary>
    public int Steps { get; }

    /// <summary>
    /// When true, the job copies the trained parameters into <see cref="TrainingResult.Snapshot"/>
    /// on the worker thread, so a protocol can send them without copying on the simulator's
    /// single event-loop thread. A result restored from a checkpoint has no snapshot: callers fall
    /// back to copying.
    /// </summary>
    public bool SnapshotParameters { get; init; }

    /// <summary>
    /// Work that must happen to the model before the local steps, run on the job's worker thread at
    /// the start of <see cref="Execute"/> (or earlier, on the host's thread, through
    /// <see cref="RunPrologue"/>) — e.g. D-SGD's mixing of the models received in the previous
    /// round, so that it runs in parallel with other nodes' jobs instead of on the simulator's single
    /// event-loop thread. It must depend only on data that no one changes while the job runs (the
    /// job's own model and immutable messages). Null (the default): none.
    /// </summary>
    public Action? Prologue { get; init; }

    private int _prologueDone;

    /// <summary>
    /// Runs <see cref="Prologue"/> now if it has not run yet (at most once per job; thread-safe).
    /// Hosts call it when they need the model as the steps will start from it, e.g. to snapshot it
    /// for an evaluation that falls inside the job.
    /// </summary>
    public void RunPrologue()
    {
        if (Prologue is { } p && Interlocked.Exchange(ref _prologueDone, 1) == 0) p();
    }

    /// <summary>Minibatch size.</summary>
    public int BatchSize { get; }

    /// <summary>The round keying the random streams.</summary>
    public long Round { get; }

    /// <summary>
    /// Compute cost in units of one plain minibatch step (a compute model multiplies it by its
    /// per-step time); <see cref="Steps"/> by default, more for jobs that do extra passes.
    /// </summary>
    public virtual double CostSteps => Steps;

    /// <summary>Locks the model for this job (called by the host before <see cref="Execute"/>).</summary>
    /// <exception cref="InvalidOperationException">A job already runs on the model.</exception>
    public void Begin() => Model.SetTraining(true);

    /// <summary>Unlocks the model (called by the host once <see cref="Execute"/> has returned).</summary>
    public void End() => Model.SetTraining(false);

    /// <summary>Runs the job for node <paramref name="nodeId"/> of an experiment seeded with <paramref name="seed"/>. Thread-safe w.r.t. other jobs on other models.</summary>
    public TrainingResult Execute(ulong seed, int nodeId)
    {
        RunPrologue();
        if (Steps == 0) return new TrainingResult(Round, 0, double.NaN);
        int p = Model.ParameterCount;
        var gradient = t_gradient is { } g && g.Length >= p ? g : (t_gradient = new float[p]);
        var perm = t_permutation is { } q && q.Length >= Data.Count ? q : (t_permutation = new int[Data.Count]);
        var positions = t_positions is { } r && r.Length >= BatchSize ? r : (t_positions = new int[BatchSize]);
        var sampler = new MinibatchSampler(Data.Count, Rng.Derive(seed, (ulong)nodeId, (ulong)Round, "batches"), perm);
        var dropout = Rng.Derive(seed, (ulong)nodeId, (ulong)Round, "dropout");
        var parameters = Model.RawParameters;
        var state = Model.RawOptimizerState;
        ref long step = ref Model.RawStep;
        var grad = gradient.AsSpan(0, p);
        var pos = positions.AsSpan(0, BatchSize);
        double lossSum = 0;
        for (int s = 0; s < Steps; s++)
        {
            sampler.Next(pos);
            lossSum += ComputeLossAndGradient(parameters, pos, grad, dropout);
            Optimizer.Step(parameters, grad, state, ++step);
        }
        float[]? snapshot = null;
        if (SnapshotParameters)
        {
            snapshot = GC.AllocateUninitializedArray<float>(p);
            parameters.AsSpan(0, p).CopyTo(snapshot);
        }
        return new TrainingResult(Round, Steps, lossSum / Steps, snapshot);
    }

    /// <summary>
    /// Loss and gradient of the local objective at <paramref name="parameters"/> on the examples at
    /// <paramref name="positions"/> of <see cref="Data"/>; overwrites <paramref name="gradient"/>.
    /// The default is the learner's loss.
    /// </summary>
    protected virtual float ComputeLossAndGradient(ReadOnlySpan<float> parameters, ReadOnlySpan<int> positions, Span<float> gradient, Rng dropoutRng) =>
        Learner.LossAndGradient(parameters, Data, positions, gradient, dropoutRng);
}
