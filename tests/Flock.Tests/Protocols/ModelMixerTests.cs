using Flock.Aggregation;
using Flock.Protocols;
using Flock.Tensors;

namespace Flock.Tests.Protocols;

public class ModelMixerTests
{
    public static TheoryData<string> Rules() => new(RuleSet().Select(r => r.Name));

    private static IAggregator[] RuleSet() =>
    [
        Mean.Instance, new CoordinateWiseMedian(), new TrimmedMean(2), new Krum(2), new MultiKrum(2, 3), new Bulyan(2),
        new GeometricMedian(), new CenteredClipping(1f), new Meamed(2), new FlagAggregator(2), new MultiMetrics(),
        new PreAggregated(new NearestNeighborMixing(2), new TrimmedMean(2)), new PreAggregated(new Bucketing(2), new Krum(1)),
    ];

    [Theory]
    [MemberData(nameof(Rules))]
    public void CanMix_agrees_with_aggregating_real_models(string name)
    {
        // The probe on short vectors must give the same verdict as the rule on model-sized inputs,
        // for every input count: a wrong "no" would silently stop a node from mixing.
        var rule = RuleSet().Single(r => r.Name == name);
        var mixer = ModelMixer.For(rule);
        var rng = new Rng(3);
        for (int n = 1; n <= 20; n++)
        {
            var inputs = new ReadOnlyMemory<float>[n];
            for (int i = 0; i < n; i++)
            {
                var v = new float[1000];
                rng.FillGaussian(v);
                inputs[i] = v;
            }
            var weights = Enumerable.Repeat(1f, n).ToArray();
            bool works;
            try
            {
                mixer.Mix(inputs, weights, 0, new float[1000], 11);
                works = true;
            }
            catch (ArgumentException)
            {
                works = false;
            }
            Assert.True(works == mixer.CanMix(n), $"{name} with {n} inputs: aggregating {(works ? "works" : "fails")} but CanMix says {!works}");
        }
    }
}
