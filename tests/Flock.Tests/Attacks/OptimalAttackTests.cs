using Flock.Aggregation;
using Flock.Attacks;
using static Flock.Tests.Attacks.AttackTestSupport;

namespace Flock.Tests.Attacks;

/// <summary>The line-searched attacks are never worse than their default factor, deterministic, and bounded in aggregator calls.</summary>
public sealed class OptimalAttackTests
{
    private const int D = 60, H = 10, N = 13, F = 3;

    private static float[][] Honest() => RandomVectors(H, D, seed: 21, offset: 0.5f, scale: 1f);

    public static TheoryData<string> Aggregators => ["mean", "median"];

    private static IAggregator Make(string name) => name == "mean" ? new TestMean() : new TestCoordinateWiseMedian();

    private static int Calls(IAggregator a) => a is TestMean m ? m.Calls : ((TestCoordinateWiseMedian)a).Calls;

    [Theory]
    [MemberData(nameof(Aggregators))]
    public void Optimal_alie_beats_or_equals_plain_alie(string aggregatorName)
    {
        var honest = Honest();
        var aggregator = Make(aggregatorName);
        var ctx = Context(new float[D], honest, n: N, f: F, aggregator: aggregator);
        var output = new float[D];
        var result = new OptimalALittleIsEnough().CraftAndReport(ctx, output);
        Assert.Equal(16, result.AggregatorCalls);
        Assert.Equal(16, Calls(aggregator));
        Assert.Equal((float)ALittleIsEnough.ZMax(N, F), result.DefaultFactor);

        // Independent re-evaluation of both vectors with a fresh aggregator.
        var plain = new float[D];
        new ALittleIsEnough().Craft(ctx, plain);
        double plainDistance = AggregateDistance(Make(aggregatorName), honest, plain, F);
        double optimalDistance = AggregateDistance(Make(aggregatorName), honest, output, F);
        Assert.Equal(plainDistance, result.DefaultDistance, 1e-5 * Math.Max(1, plainDistance));
        Assert.Equal(optimalDistance, result.Distance, 1e-5 * Math.Max(1, optimalDistance));
        Assert.True(optimalDistance >= plainDistance - 1e-6, $"optimal {optimalDistance} < plain {plainDistance}");
        // The output is ALIE with the reported factor.
        var check = new float[D];
        new ALittleIsEnough(z: result.Factor).Craft(ctx, check);
        Assert.Equal(check, output);
        if (aggregatorName == "mean") Assert.True(result.Factor > 10 * result.DefaultFactor, $"z = {result.Factor}"); // the mean is unbounded in z
    }

    [Theory]
    [MemberData(nameof(Aggregators))]
    public void Optimal_ipm_beats_or_equals_plain_ipm(string aggregatorName)
    {
        var honest = Honest();
        var aggregator = Make(aggregatorName);
        var ctx = Context(new float[D], honest, n: N, f: F, aggregator: aggregator);
        var output = new float[D];
        var result = new OptimalInnerProductManipulation(new LineSearch(evaluations: 12)).CraftAndReport(ctx, output);
        Assert.Equal(12, Calls(aggregator));
        Assert.Equal(0.1f, result.DefaultFactor);
        var plain = new float[D];
        new InnerProductManipulation().Craft(ctx, plain);
        double plainDistance = AggregateDistance(Make(aggregatorName), honest, plain, F);
        double optimalDistance = AggregateDistance(Make(aggregatorName), honest, output, F);
        Assert.True(optimalDistance >= plainDistance - 1e-6, $"optimal {optimalDistance} < plain {plainDistance}");
        Assert.True(optimalDistance > plainDistance, "the search should find a stronger ε than 0.1");
        var check = new float[D];
        new InnerProductManipulation(result.Factor).Craft(ctx, check);
        Assert.Equal(check, output);
    }

    [Fact]
    public void Optimal_attacks_are_deterministic()
    {
        var honest = Honest();
        foreach (IModelAttack attack in new IModelAttack[] { new OptimalALittleIsEnough(), new OptimalInnerProductManipulation() })
        {
            var a = new float[D];
            var b = new float[D];
            attack.Craft(Context(new float[D], honest, n: N, f: F, aggregator: new TestCoordinateWiseMedian(), seed: 1), a);
            attack.Craft(Context(new float[D], honest, n: N, f: F, aggregator: new TestCoordinateWiseMedian(), seed: 2), b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Line_search_finds_the_maximum_of_a_unimodal_objective()
    {
        // Against the mean the IPM distance (1 + ε)·f/(h + f)·‖μ‖ grows without bound; here a
        // synthetic aggregator makes the distance a bump 1/(1 + (ε − 3)²), so the search must find ε ≈ 3.
        var honest = Honest();
        var peak = new PeakAggregator(honest.Length, target: 3f);
        var output = new float[D];
        var result = new OptimalInnerProductManipulation(new LineSearch(evaluations: 40)).CraftAndReport(
            Context(new float[D], honest, n: N, f: F, aggregator: peak), output);
        Assert.Equal(3f, result.Factor, 0.05f);
    }

    [Fact]
    public void Needs_an_aggregator()
    {
        Throws<InvalidOperationException>(() => new OptimalALittleIsEnough().Craft(Context(new float[D], Honest(), n: N, f: F), new float[D]),
            "optimal-alie needs the aggregator in use, but AttackContext.Aggregator is null.");
        Throws<InvalidOperationException>(() => new OptimalInnerProductManipulation().Craft(Context(new float[D], Honest(), n: N, f: F), new float[D]),
            "optimal-ipm needs the aggregator in use, but AttackContext.Aggregator is null.");
    }

    /// <summary>
    /// Output = honest mean + φ(ε)·e₀ where ε is read back from the Byzantine input (−ε·μ) and
    /// φ(ε) = 1/(1 + (ε − target)²) peaks at the target.
    /// </summary>
    private sealed class PeakAggregator(int honestCount, float target) : IAggregator
    {
        public string Name => "peak";

        public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output)
        {
            var mean = new float[output.Length];
            for (int i = 0; i < honestCount; i++)
                for (int j = 0; j < output.Length; j++) mean[j] += inputs[i].Span[j] / honestCount;
            float eps = -inputs[honestCount].Span[0] / mean[0];
            mean.CopyTo(output);
            output[0] += 1f / (1f + (eps - target) * (eps - target));
        }
    }
}
