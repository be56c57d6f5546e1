using Flock.Attacks;
using Flock.Data;
using Flock.Models;
using Flock.Runtime.Simulation;

namespace Flock.Experiments;

/// <summary>
/// Backdoor attack success rate as a metrics column (<c>attack_success_rate</c>): the share of
/// triggered test images whose true label is not the target that the model classifies as the target.
/// </summary>
public sealed class AttackSuccessRateMetric : IModelMetric
{
    private readonly ILearner _learner;
    private readonly Backdoor _backdoor;
    private readonly DatasetView _triggered;

    /// <summary>Creates the metric for <paramref name="backdoor"/> on the test set <paramref name="test"/>.</summary>
    public AttackSuccessRateMetric(ILearner learner, Backdoor backdoor, DatasetView test)
    {
        _learner = learner;
        _backdoor = backdoor;
        _triggered = backdoor.TriggeredTestSet(test);
    }

    /// <inheritdoc />
    public string Name => "attack_success_rate";

    /// <inheritdoc />
    public double Evaluate(ReadOnlySpan<float> model)
    {
        var predictions = new int[_triggered.Count];
        _learner.Predict(model, _triggered, predictions);
        return _backdoor.AttackSuccessRate(predictions);
    }
}
