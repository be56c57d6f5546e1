using Flock.Data;
using Flock.Models;

namespace Flock.Runtime.Simulation;

/// <summary>A per-model metric evaluated at evaluation ticks and averaged over the evaluated nodes (e.g. a backdoor's attack success rate). Must be thread-safe.</summary>
public interface IModelMetric
{
    /// <summary>Column name in the metrics rows.</summary>
    string Name { get; }

    /// <summary>The metric of one flat model.</summary>
    double Evaluate(ReadOnlySpan<float> model);
}

/// <summary>
/// When and what the simulator evaluates. Round rows come every <see cref="EveryRounds"/> global
/// rounds (and at the last round) for protocols whose nodes report rounds; time rows every
/// <see cref="EverySeconds"/> virtual seconds (for asynchronous protocols). A row evaluates the
/// models of the evaluated nodes (every node that has a model, or a seeded subset of
/// <see cref="MaxEvaluatedNodes"/>) on the full <see cref="TestSet"/>, in parallel, reduced in
/// node-id order.
/// </summary>
public sealed class MetricsOptions
{
    /// <summary>Round rows every this many global rounds (round 0 = initial models included); 0 for none.</summary>
    public int EveryRounds { get; init; } = 1;

    /// <summary>Time rows every this many virtual seconds (a row at t = 0, T, 2T, ...); 0 for none.</summary>
    public double EverySeconds { get; init; }

    /// <summary>The learner that evaluates models (null: rows carry no accuracy or loss).</summary>
    public ILearner? Learner { get; init; }

    /// <summary>The test set (required with <see cref="Learner"/>).</summary>
    public DatasetView? TestSet { get; init; }

    /// <summary>Evaluate at most this many nodes, a subset drawn once from <c>Rng.Derive(seed, 0, 0, "eval-nodes")</c>; 0 for all.</summary>
    public int MaxEvaluatedNodes { get; init; }

    /// <summary>
    /// Nodes never evaluated, e.g. the Byzantine nodes of an attacked run: rows then report the
    /// honest nodes only (<see cref="MetricsRow.AccuracyMean"/> is the honest mean,
    /// <see cref="MetricsRow.AccuracyMin"/> the worst honest node), and the
    /// <see cref="MaxEvaluatedNodes"/> subset is drawn among the others. Ids must be valid node ids.
    /// </summary>
    public IReadOnlyList<int> ExcludedNodes { get; init; } = Array.Empty<int>();

    /// <summary>Extra per-model metrics, averaged over the evaluated nodes (columns after the standard ones).</summary>
    public IReadOnlyList<IModelMetric> ExtraMetrics { get; init; } = Array.Empty<IModelMetric>();

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public void Validate()
    {
        if (EveryRounds < 0) throw new ArgumentException($"Invalid evaluation period: every {EveryRounds} rounds; must be ≥ 0 (0 = never).", nameof(EveryRounds));
        if (!(EverySeconds >= 0) || !double.IsFinite(EverySeconds)) throw new ArgumentException($"Invalid evaluation period: every {EverySeconds} s; must be finite and ≥ 0 (0 = never).", nameof(EverySeconds));
        if (MaxEvaluatedNodes < 0) throw new ArgumentException($"Invalid number of evaluated nodes: {MaxEvaluatedNodes}; must be ≥ 0 (0 = all).", nameof(MaxEvaluatedNodes));
        if ((Learner is null) != (TestSet is null)) throw new ArgumentException("Evaluation needs both a learner and a test set (or neither).");
        if (TestSet is { Count: 0 }) throw new ArgumentException("The test set is empty.", nameof(TestSet));
        ArgumentNullException.ThrowIfNull(ExcludedNodes);
        foreach (int id in ExcludedNodes)
            if (id < 0) throw new ArgumentException($"Invalid excluded node id {id}; must be ≥ 0.", nameof(ExcludedNodes));
        var names = new HashSet<string>();
        foreach (var m in ExtraMetrics)
            if (!names.Add(m.Name)) throw new ArgumentException($"Duplicate extra metric name '{m.Name}'.", nameof(ExtraMetrics));
    }
}
