using Flock.Aggregation;
using Flock.Tensors;
using static Flock.Tests.Aggregation.AggregationTestData;

namespace Flock.Tests.Aggregation;

/// <summary>Invariances every robust rule must have, and the preconditions' errors.</summary>
public class RobustnessTests
{
    private const int N = 11, D = 37;

    /// <summary>Rules whose output equals the common honest value when f inputs are arbitrary (here n = 11).</summary>
    public static TheoryData<string> ExactRules => new()
    {
        "median", "trimmed-mean", "meamed", "krum", "multi-krum", "bulyan", "nnm+trimmed-mean", "bucketing+median",
        "static-clipping+median", "nnm+krum",
    };

    private static IAggregator Make(string name, int f) => name switch
    {
        "median" => new CoordinateWiseMedian(),
        "trimmed-mean" => new TrimmedMean(f),
        "meamed" => new Meamed(f),
        "krum" => new Krum(f),
        "multi-krum" => new MultiKrum(f, N - f),
        "bulyan" => new Bulyan(f),
        "nnm+trimmed-mean" => new PreAggregated(new NearestNeighborMixing(f), new TrimmedMean(f)),
        "nnm+krum" => new PreAggregated(new NearestNeighborMixing(f), new Krum(f)),
        "bucketing+median" => new PreAggregated(new Bucketing(2), new CoordinateWiseMedian()),
        "static-clipping+median" => new PreAggregated(new StaticClipping(1e6f), new CoordinateWiseMedian()),
        "geometric-median" => new GeometricMedian(),
        "centered-clipping" => new CenteredClipping(0.1f, 5),
        "flag-aggregator" => new FlagAggregator(),
        "multi-metrics" => new MultiMetrics(useWeights: false),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Largest f each rule tolerates with n = 11.</summary>
    private static int MaxF(string name) => name switch
    {
        "bulyan" => 2, // 4f + 3 ≤ 11
        "krum" or "multi-krum" or "nnm+krum" => 4, // 2f + 3 ≤ 11
        "bucketing+median" => 2, // at most 2 of the 6 buckets contaminated
        _ => 5, // honest majority
    };

    /// <summary>n − f copies of h, then f adversarial inputs (huge, of mixed signs and patterns), shuffled.</summary>
    private static (ReadOnlyMemory<float>[] Inputs, float[] Honest) Attacked(int f, ulong seed)
    {
        var rng = new Rng(seed);
        var h = new float[D];
        rng.FillGaussian(h);
        var rows = new List<float[]>();
        for (int i = 0; i < N - f; i++) rows.Add(h);
        for (int b = 0; b < f; b++)
        {
            var x = new float[D];
            for (int c = 0; c < D; c++)
                x[c] = (b % 3) switch
                {
                    0 => 1e30f,
                    1 => c % 2 == 0 ? -3e38f : 3e38f,
                    _ => h[c] + (float)rng.NextGaussian() * 1e20f,
                };
            rows.Add(x);
        }
        var order = Enumerable.Range(0, N).ToArray();
        rng.Shuffle(order.AsSpan());
        return (order.Select(i => (ReadOnlyMemory<float>)rows[i]).ToArray(), h);
    }

    [Theory]
    [MemberData(nameof(ExactRules))]
    public void Identical_honest_inputs_win_whatever_the_byzantine_inputs(string name)
    {
        for (int f = 0; f <= MaxF(name); f++)
        {
            var (x, h) = Attacked(f, (ulong)(f + 17));
            var output = Run(Make(name, f), x);
            AssertAllClose(h, output, 1e-6, $"{name} f={f}");
        }
    }

    [Fact]
    public void Geometric_median_stays_at_the_honest_value_up_to_the_smoothing()
    {
        for (int f = 0; f <= 5; f++)
        {
            var (x, h) = Attacked(f, (ulong)f);
            AssertAllClose(h, Run(Make("geometric-median", f), x), 1e-5, $"f={f}");
        }
    }

    [Fact]
    public void Centered_clipping_moves_at_most_f_tau_over_n_minus_f_from_the_honest_value()
    {
        const float tau = 0.1f;
        for (int f = 1; f <= 5; f++)
        {
            var (x, h) = Attacked(f, (ulong)f);
            var output = new float[D];
            new CenteredClipping(tau, 50).Aggregate(x, ReadOnlySpan<float>.Empty, output, h);
            double dev = Norm(output.Zip(h, (a, b) => a - b).ToArray());
            Assert.True(dev <= f * tau / (N - f) * 1.001, $"f={f}: deviation {dev}");
            // One step from the honest centre moves at most f·τ/n.
            new CenteredClipping(tau, 1).Aggregate(x, ReadOnlySpan<float>.Empty, output, h);
            dev = Norm(output.Zip(h, (a, b) => a - b).ToArray());
            Assert.True(dev <= f * tau / N * 1.001, $"f={f}: one-step deviation {dev}");
        }
    }

    [Fact]
    public void Flag_aggregator_output_points_along_the_honest_direction()
    {
        var (x, h) = Attacked(3, 5);
        var output = Run(new FlagAggregator(), x);
        double cos = output.Zip(h, (a, b) => (double)a * b).Sum() / (Norm(output) * Norm(h));
        Assert.True(cos > 0.999, $"cosine {cos}");
    }

    [Fact]
    public void Multi_metrics_and_flag_aggregator_stay_finite_with_huge_inputs()
    {
        var (x, _) = Attacked(3, 9);
        Assert.All(Run(new MultiMetrics(), x), v => Assert.True(float.IsFinite(v)));
        Assert.All(Run(new FlagAggregator(rank: 3), x), v => Assert.True(float.IsFinite(v)));
    }

    public static TheoryData<string> WeightRobustRules => new()
    {
        "median", "trimmed-mean", "meamed", "krum", "multi-krum", "bulyan", "nnm+trimmed-mean", "bucketing+median",
        "static-clipping+median", "geometric-median", "centered-clipping", "flag-aggregator", "multi-metrics",
    };

    [Theory]
    [MemberData(nameof(WeightRobustRules))]
    public void A_huge_claimed_sample_count_does_not_move_robust_rules(string name)
    {
        var rows = Random(N, D, 3);
        var x = Rows(rows);
        var rule = Make(name, 2);
        var plain = Run(rule, x, Enumerable.Repeat(1f, N).ToArray());
        var weights = Enumerable.Repeat(1f, N).ToArray();
        weights[4] = 1e30f;
        Assert.Equal(plain, Run(rule, x, weights));
        Assert.Equal(plain, Run(rule, x));
    }

    public static TheoryData<string> AllRules => new()
    {
        "median", "trimmed-mean", "meamed", "krum", "multi-krum", "bulyan", "nnm+trimmed-mean", "nnm+krum",
        "static-clipping+median", "geometric-median", "centered-clipping", "flag-aggregator", "multi-metrics",
    };

    [Theory]
    [MemberData(nameof(AllRules))]
    public void Output_does_not_depend_on_the_input_order(string name)
    {
        var rows = Random(N, D, 11);
        var rule = Make(name, 2);
        var expected = Run(rule, Rows(rows));
        var rng = new Rng(8);
        for (int trial = 0; trial < 5; trial++)
        {
            var perm = Enumerable.Range(0, N).ToArray();
            rng.Shuffle(perm.AsSpan());
            AssertAllClose(expected, Run(rule, Rows(perm.Select(i => rows[i]).ToArray())), 1e-5, $"{name} trial {trial}");
        }
    }

    [Fact]
    public void Bucketing_composition_is_deterministic_for_a_seed()
    {
        // With an explicit seed the permutation is fixed, so the same inputs and seed give the same output.
        var rows = Random(N, D, 12);
        var rule = new PreAggregated(new Bucketing(3), new CoordinateWiseMedian());
        var a = new float[D];
        var b = new float[D];
        rule.Aggregate(Rows(rows), ReadOnlySpan<float>.Empty, a, 99);
        rule.Aggregate(Rows(rows), ReadOnlySpan<float>.Empty, b, 99);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Preconditions_name_the_rule_n_f_and_the_bound()
    {
        var x5 = Rows(Random(5, 3, 1));
        var x6 = Rows(Random(6, 3, 1));
        AssertMessage(() => Run(new Bulyan(1), x6), "Bulyan", "n ≥ 4f + 3", "n = 6", "f = 1", "needs n ≥ 7");
        AssertMessage(() => Run(new Krum(2), x6), "Krum", "n ≥ 2f + 3", "n = 6", "f = 2", "needs n ≥ 7");
        AssertMessage(() => Run(new MultiKrum(2, 1), x6), "Multi-Krum", "n ≥ 2f + 3", "n = 6", "f = 2");
        AssertMessage(() => Run(new MultiKrum(1, 5), x5), "Multi-Krum", "1 ≤ m ≤ n − f", "n = 5", "f = 1", "m = 5", "needs m ≤ 4");
        AssertMessage(() => Run(new TrimmedMean(3), x6), "Trimmed mean", "2f < n", "n = 6", "f = 3");
        AssertMessage(() => Run(new Meamed(5), x5), "Meamed", "f < n", "n = 5", "f = 5");
        AssertMessage(() => Run(new PreAggregated(new NearestNeighborMixing(5), new CoordinateWiseMedian()), x5), "NNM", "f < n", "n = 5", "f = 5");
        // Bucketing shrinks n: 6 inputs in buckets of 2 leave 3 for Krum(1), which needs 5.
        AssertMessage(() => Run(new PreAggregated(new Bucketing(2), new Krum(1)), x6), "Krum", "n = 3", "f = 1");
        Assert.Contains("bucket size s = 0", Assert.Throws<ArgumentOutOfRangeException>(() => new Bucketing(0)).Message);
        Assert.Contains("clipping threshold c = 0", Assert.Throws<ArgumentOutOfRangeException>(() => new StaticClipping(0)).Message);
        Assert.Contains("clipping threshold c = -1", Assert.Throws<ArgumentOutOfRangeException>(() => new StaticClipping(-1)).Message);
        Assert.Contains("f = -1", Assert.Throws<ArgumentOutOfRangeException>(() => new Krum(-1)).Message);
        Assert.Contains("m = 0", Assert.Throws<ArgumentOutOfRangeException>(() => new MultiKrum(1, 0)).Message);
        Assert.Contains("τ = 0", Assert.Throws<ArgumentOutOfRangeException>(() => new CenteredClipping(0)).Message);
        Assert.Contains("p = 0", Assert.Throws<ArgumentOutOfRangeException>(() => new MultiMetrics(0)).Message);
        Assert.Contains("r = 0", Assert.Throws<ArgumentOutOfRangeException>(() => new FlagAggregator(0)).Message);
        Assert.Contains("ν = 0", Assert.Throws<ArgumentOutOfRangeException>(() => new GeometricMedian(0)).Message);
    }

    private static void AssertMessage(Action action, params string[] parts)
    {
        var e = Assert.ThrowsAny<ArgumentException>(action);
        foreach (var p in parts) Assert.Contains(p, e.Message);
    }

    public static TheoryData<string> EveryRule => new()
    {
        "weighted-mean", "median", "trimmed-mean", "meamed", "krum", "multi-krum", "bulyan", "nnm+trimmed-mean",
        "geometric-median", "centered-clipping", "flag-aggregator", "multi-metrics",
    };

    private static IAggregator MakeAny(string name) => name switch
    {
        "weighted-mean" => new WeightedMean(),
        "multi-krum" => new MultiKrum(0, 1),
        _ => Make(name, 0),
    };

    [Theory]
    [MemberData(nameof(EveryRule))]
    public void Empty_inputs_length_mismatch_weight_count_and_aliasing_are_rejected(string name)
    {
        var rule = MakeAny(name);
        Assert.Contains("no inputs", Assert.Throws<ArgumentException>(() => rule.Aggregate(Array.Empty<ReadOnlyMemory<float>>(), default, new float[3])).Message);
        var bad = Rows(new float[3], new float[3], new float[4]);
        var e = Assert.Throws<ArgumentException>(() => rule.Aggregate(bad, default, new float[3]));
        Assert.Contains("input 2 has length 4", e.Message);
        Assert.Contains(rule.Name, e.Message);
        var ok = Rows(new float[3], new float[3], new float[3]);
        Assert.Contains("2 weights for 3 inputs", Assert.Throws<ArgumentException>(() => rule.Aggregate(ok, new float[2], new float[3])).Message);
        if (name.Contains('+')) return; // a composition reads its inputs before writing: aliasing is harmless there
        var shared = new float[9];
        var aliased = new ReadOnlyMemory<float>[] { shared.AsMemory(0, 3), shared.AsMemory(3, 3), shared.AsMemory(6, 3) };
        Assert.Contains("overlaps input", Assert.Throws<ArgumentException>(() => rule.Aggregate(aliased, default, shared.AsSpan(3, 3))).Message);
    }

    [Theory]
    [MemberData(nameof(EveryRule))]
    public void Empty_vectors_give_an_empty_output(string name)
    {
        var x = Rows(new float[0], new float[0], new float[0], new float[0], new float[0]);
        MakeAny(name).Aggregate(x, default, Span<float>.Empty);
    }

    public static TheoryData<string> RulesAcceptingOneInput => new()
    {
        "weighted-mean", "median", "trimmed-mean", "meamed", "nnm+trimmed-mean", "geometric-median", "centered-clipping",
        "flag-aggregator", "multi-metrics",
    };

    [Theory]
    [MemberData(nameof(RulesAcceptingOneInput))]
    public void One_input_is_returned_unchanged(string name)
    {
        var x = new float[] { 1.5f, -2, 0, 7 };
        var output = Run(MakeAny(name), Rows(x));
        if (name == "flag-aggregator") AssertAllClose(x.Select(v => v / (float)Norm(x)).ToArray(), output, 1e-6);
        else AssertAllClose(x, output, 1e-6, name);
    }
}
