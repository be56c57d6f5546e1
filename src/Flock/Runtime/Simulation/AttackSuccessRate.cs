using System.Buffers;
using Flock.Attacks;
using Flock.Data;
using Flock.Models;

namespace Flock.Runtime.Simulation;

/// <summary>
/// The attack success rate of a backdoor as a per-model metric (column
/// <c>attack_success_rate</c>): the share of the triggered test images — test examples whose true
/// label is not the target, stamped with the trigger (<see cref="Backdoor.TriggeredTestSet"/>) —
/// that the model classifies as the target class. For FedAvg the evaluated model is the global
/// model; for decentralized protocols the metric is averaged over the evaluated (honest) nodes.
/// Thread-safe: the triggered set is built once, predictions go to a pooled buffer.
/// </summary>
public sealed class AttackSuccessRate : IModelMetric
{
    /// <summary>Default column name.</summary>
    public const string DefaultName = "attack_success_rate";

    private readonly ILearner _learner;
    private readonly Backdoor _backdoor;

    /// <summary>Creates the metric for <paramref name="backdoor"/> measured on <paramref name="test"/>.</summary>
    /// <param name="learner">The learner that predicts classes.</param>
    /// <param name="backdoor">The backdoor attack (trigger and target class).</param>
    /// <param name="test">The clean test set; its non-target examples are stamped once here.</param>
    /// <param name="name">Column name (default <see cref="DefaultName"/>).</param>
    /// <exception cref="ArgumentException">The test set does not suit the backdoor (no labels, target not a class, wrong image size), has no non-target example, or the name is empty.</exception>
    public AttackSuccessRate(ILearner learner, Backdoor backdoor, DatasetView test, string name = DefaultName)
    {
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _backdoor = backdoor ?? throw new ArgumentNullException(nameof(backdoor));
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0) throw new ArgumentException("The metric name must not be empty.", nameof(name));
        Triggered = backdoor.TriggeredTestSet(test);
        if (Triggered.Count == 0)
            throw new ArgumentException($"The test set has no example outside the target class {backdoor.TargetClass}; the attack success rate is undefined.", nameof(test));
        Name = name;
    }

    /// <summary>The triggered test set (non-target examples, stamped, labelled with the target).</summary>
    public DatasetView Triggered { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public double Evaluate(ReadOnlySpan<float> model)
    {
        int n = Triggered.Count;
        var predictions = ArrayPool<int>.Shared.Rent(n);
        try
        {
            _learner.Predict(model, Triggered, predictions.AsSpan(0, n));
            return _backdoor.AttackSuccessRate(predictions.AsSpan(0, n));
        }
        finally { ArrayPool<int>.Shared.Return(predictions); }
    }
}
