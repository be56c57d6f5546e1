using Flock.Aggregation;
using static Flock.Tests.Aggregation.AggregationTestData;

namespace Flock.Tests.Aggregation;

/// <summary>Hand-computed cases for every rule (ties, f = 0, one input).</summary>
public class RuleTests
{
    // Columns: c0 = {1,3,2}, c1 = {5,2,9}, c2 = {-1,-1,7}; with x4: {1,3,2,10}, {5,2,9,0}, {-1,-1,7,0}.
    private static readonly float[] X1 = { 1, 5, -1 }, X2 = { 3, 2, -1 }, X3 = { 2, 9, 7 }, X4 = { 10, 0, 0 };

    [Fact]
    public void Weighted_mean_normalises_weights()
    {
        var x = Rows(new float[] { 1, 2 }, new float[] { 3, 6 });
        Assert.Equal(new[] { 2.5f, 5f }, Run(new WeightedMean(), x, new[] { 1f, 3f }));
        Assert.Equal(new[] { 2f, 4f }, Run(new WeightedMean(), x));
        Assert.Equal(new[] { 3f, 6f }, Run(new WeightedMean(), x, new[] { 0f, 7f }));
        Assert.Equal(new[] { 1f, 2f }, Run(new WeightedMean(), Rows(new float[] { 1, 2 })));
    }

    [Fact]
    public void Weighted_mean_rejects_bad_weights()
    {
        var x = Rows(new float[] { 1 }, new float[] { 2 });
        Assert.Contains("invalid weight -1", Assert.Throws<ArgumentException>(() => Run(new WeightedMean(), x, new[] { 1f, -1f })).Message);
        Assert.Contains("invalid weight NaN", Assert.Throws<ArgumentException>(() => Run(new WeightedMean(), x, new[] { float.NaN, 1f })).Message);
        Assert.Contains("all 2 weights are zero", Assert.Throws<ArgumentException>(() => Run(new WeightedMean(), x, new[] { 0f, 0f })).Message);
    }

    [Fact]
    public void Median_of_odd_and_even_counts_with_ties()
    {
        Assert.Equal(new[] { 2f, 5f, -1f }, Run(new CoordinateWiseMedian(), Rows(X1, X2, X3)));
        Assert.Equal(new[] { 2.5f, 3.5f, -0.5f }, Run(new CoordinateWiseMedian(), Rows(X1, X2, X3, X4)));
        Assert.Equal(X3, Run(new CoordinateWiseMedian(), Rows(X3)));
        Assert.Equal(new[] { 1.5f, 7f, 3f }, Run(new CoordinateWiseMedian(), Rows(X1, X3)));
    }

    [Fact]
    public void Trimmed_mean_drops_f_at_each_end()
    {
        Assert.Equal(new[] { 2.5f, 3.5f, -0.5f }, Run(new TrimmedMean(1), Rows(X1, X2, X3, X4)));
        Assert.Equal(new[] { 4f, 4f, 1.25f }, Run(new TrimmedMean(0), Rows(X1, X2, X3, X4)));
        Assert.Equal(new[] { 2f, 5f, -1f }, Run(new TrimmedMean(1), Rows(X1, X2, X3)));
        Assert.Equal(X2, Run(new TrimmedMean(0), Rows(X2)));
    }

    [Fact]
    public void Meamed_averages_the_values_closest_to_the_median()
    {
        // c0: {1,2,3,10}, median 2.5 → {1,2,3}; c1: {0,2,5,9}, 3.5 → {0,2,5}; c2: {-1,-1,0,7}, -0.5 → {-1,-1,0}.
        AssertAllClose(new[] { 2f, 7f / 3, -2f / 3 }, Run(new Meamed(1), Rows(X1, X2, X3, X4)), 1e-6);
        Assert.Equal(new[] { 4f, 4f, 1.25f }, Run(new Meamed(0), Rows(X1, X2, X3, X4)));
        // Tie: {0,1,2}, median 1, keep 2: 0 and 2 equally close, the smaller is kept.
        Assert.Equal(new[] { 0.5f }, Run(new Meamed(1), Rows(new float[] { 2 }, new float[] { 0 }, new float[] { 1 })));
        Assert.Equal(new[] { 7f }, Run(new Meamed(0), Rows(new float[] { 7 })));
        // f = n − 1: only the value closest to the median survives.
        Assert.Equal(new[] { 3f }, Run(new Meamed(2), Rows(new float[] { 0 }, new float[] { 3 }, new float[] { 10 })));
    }

    // 1-D points 0, 1, 2, 10, 100 (second coordinate = 2 × first). f = 1 → 2 nearest:
    // scores 5, 2, 5, 145, ... → Krum picks 1; Multi-Krum(m = 2) picks 1 and 2 (tie 0/2 → 2 has the
    // smaller sum of distances to all others: 9673 against 10105).
    private static ReadOnlyMemory<float>[] KrumPoints() =>
        Rows(new float[] { 0, 0 }, new float[] { 1, 2 }, new float[] { 2, 4 }, new float[] { 10, 20 }, new float[] { 100, 200 });

    [Fact]
    public void Krum_picks_the_input_with_the_smallest_score()
    {
        Assert.Equal(new[] { 1f, 2f }, Run(new Krum(1), KrumPoints()));
        // f = 0, n = 3: 1 nearest; scores 1, 1, 1 → tie → smallest sum of distances (6: 1 + 1).
        Assert.Equal(new[] { 6f }, Run(new Krum(0), Rows(new float[] { 5 }, new float[] { 6 }, new float[] { 7 })));
        // Exact tie everywhere (identical sums): the lower index.
        Assert.Equal(new[] { 1f }, Run(new Krum(0), Rows(new float[] { 1 }, new float[] { 1 }, new float[] { 1 })));
    }

    [Fact]
    public void Multi_krum_averages_the_m_best()
    {
        Assert.Equal(new[] { 1.5f, 3f }, Run(new MultiKrum(1, 2), KrumPoints()));
        AssertAllClose(new[] { 1f, 2f }, Run(new MultiKrum(1, 3), KrumPoints()), 1e-6);
        Assert.Equal(new[] { 1f, 2f }, Run(new MultiKrum(1, 1), KrumPoints()));
        AssertAllClose(new[] { 6f }, Run(new MultiKrum(0, 3), Rows(new float[] { 5 }, new float[] { 6 }, new float[] { 7 })), 1e-6);
    }

    [Fact]
    public void Bulyan_selects_by_iterated_krum_then_averages_around_the_median()
    {
        // n = 7, f = 1: θ = 5 selected = {2, 1, 3, 0, 4} (50 and −60 rejected), β = 3 closest to the median 2 → {1, 2, 3} → 2.
        var x = Rows(new float[] { 0 }, new float[] { 1 }, new float[] { 2 }, new float[] { 3 }, new float[] { 4 }, new float[] { 50 }, new float[] { -60 });
        AssertAllClose(new[] { 2f }, Run(new Bulyan(1), x), 1e-6);
        // f = 0: θ = n, β = n → the mean.
        AssertAllClose(new[] { 2f }, Run(new Bulyan(0), Rows(new float[] { 1 }, new float[] { 2 }, new float[] { 3 })), 1e-6);
    }

    [Fact]
    public void Geometric_median_of_symmetric_and_collinear_points()
    {
        var square = Rows(new float[] { 1, 1 }, new float[] { -1, 1 }, new float[] { 1, -1 }, new float[] { -1, -1 });
        Assert.Equal(new[] { 0f, 0f }, Run(new GeometricMedian(), square));
        // Collinear 0, 1, 10: the geometric median is the middle point.
        var line = Rows(new float[] { 0 }, new float[] { 1 }, new float[] { 10 });
        AssertAllClose(new[] { 1f }, Run(new GeometricMedian(maxIterations: 50, startFromMedian: false), line), 1e-4);
        Assert.Equal(new[] { 3f, 4f }, Run(new GeometricMedian(), Rows(new float[] { 3, 4 })));
    }

    [Fact]
    public void Centered_clipping_by_hand()
    {
        var x = Rows(new float[] { 0 }, new float[] { 0 }, new float[] { 10 });
        var cc = new CenteredClipping(1f);
        // From the mean 10/3: differences −10/3, −10/3, 20/3 all clipped to ±1 → step (−1 −1 +1)/3.
        AssertAllClose(new[] { 3f }, Run(cc, x), 1e-6);
        // From a given centre 0: step (0 + 0 + 10 · 1/10)/3 = 1/3.
        var output = new float[1];
        cc.Aggregate(x, ReadOnlySpan<float>.Empty, output, new float[] { 0 });
        AssertClose(1.0 / 3, output[0], 1e-6);
        // No clipping when τ is large: one step from any centre gives the mean.
        new CenteredClipping(100f).Aggregate(x, ReadOnlySpan<float>.Empty, output, new float[] { -7 });
        AssertClose(10.0 / 3, output[0], 1e-6);
        Assert.Equal(new[] { 5f }, Run(new CenteredClipping(0.5f, 3), Rows(new float[] { 5 })));
    }

    [Fact]
    public void Centered_clipping_can_start_from_the_output_buffer_itself()
    {
        var x = Rows(new float[] { 0 }, new float[] { 0 }, new float[] { 10 });
        var output = new float[] { 0 };
        new CenteredClipping(1f).Aggregate(x, ReadOnlySpan<float>.Empty, output, output);
        AssertClose(1.0 / 3, output[0], 1e-6);
    }

    [Fact]
    public void Flag_aggregator_projects_on_the_dominant_direction()
    {
        // Unit directions (1,0), (1,0), (0,1): the top singular vector is (1,0).
        var x = Rows(new float[] { 1, 0 }, new float[] { 2, 0 }, new float[] { 0, 3 });
        AssertAllClose(new[] { 2f, 0f }, Run(new FlagAggregator(), x), 1e-5);
        AssertAllClose(new[] { 1f, 0f }, Run(new FlagAggregator(output: FlagAggregatorOutput.ProjectedMean), x), 1e-5);
        // Rank 2 spans everything: the sum of unit vectors / 2, or the plain mean.
        AssertAllClose(new[] { 1f, 0.5f }, Run(new FlagAggregator(rank: 2), x), 1e-5);
        AssertAllClose(new[] { 1f, 1f }, Run(new FlagAggregator(rank: 2, output: FlagAggregatorOutput.ProjectedMean), x), 1e-5);
    }

    [Fact]
    public void Flag_aggregator_of_identical_inputs()
    {
        var g = new float[] { 3, -4, 12 };
        var x = Rows(g, g, g, g);
        AssertAllClose(g, Run(new FlagAggregator(output: FlagAggregatorOutput.ProjectedMean), x), 1e-5);
        AssertAllClose(g.Select(v => 4 * v / 13f).ToArray(), Run(new FlagAggregator(), x), 1e-5);
        Assert.Equal(new[] { 0f, 0f }, Run(new FlagAggregator(), Rows(new float[2], new float[2])));
    }

    [Fact]
    public void Multi_metrics_keeps_the_fraction_with_the_lowest_scores_weighted()
    {
        var x = Rows(new float[] { 1, 0 }, new float[] { 0, 1 }, new float[] { 1, 1 }, new float[] { 5, -3 });
        var mm = new MultiMetrics(keepFraction: 0.5);
        var gram = new double[16];
        var l1 = new double[16];
        var l2 = new double[16];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                var a = x[i].Span;
                var b = x[j].Span;
                for (int c = 0; c < 2; c++)
                {
                    gram[i * 4 + j] += a[c] * b[c];
                    l1[i * 4 + j] += Math.Abs(a[c] - b[c]);
                    l2[i * 4 + j] += (a[c] - b[c]) * (a[c] - b[c]);
                }
            }
        double[] scores = mm.Scores(gram, l1, l2, 4);
        double[] expected = MultiMetricsReference(x);
        for (int i = 0; i < 4; i++) AssertClose(expected[i], scores[i], 1e-6, $"score {i}");
        var order = Enumerable.Range(0, 4).OrderBy(i => expected[i]).ThenBy(i => i).Take(2).ToArray();
        var w = new[] { 1f, 2f, 3f, 4f };
        var expectedOut = new double[2];
        double wsum = order.Sum(i => w[i]);
        foreach (int i in order)
            for (int c = 0; c < 2; c++) expectedOut[c] += w[i] * x[i].Span[c] / wsum;
        var got = Run(mm, x, w);
        for (int c = 0; c < 2; c++) AssertClose(expectedOut[c], got[c], 1e-6);
        // One input: kept.
        Assert.Equal(new[] { 4f }, Run(new MultiMetrics(), Rows(new float[] { 4 })));
    }

    /// <summary>The paper's scores with the exact 3×3 inverse of the sample covariance (cofactors).</summary>
    private static double[] MultiMetricsReference(ReadOnlyMemory<float>[] x)
    {
        int n = x.Length;
        var t = new double[n, 3];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                var a = x[i].Span;
                var b = x[j].Span;
                double dot = 0, na = 0, nb = 0, l1 = 0, l2 = 0;
                for (int c = 0; c < a.Length; c++)
                {
                    dot += a[c] * b[c]; na += a[c] * a[c]; nb += b[c] * b[c];
                    l1 += Math.Abs(a[c] - b[c]); l2 += (a[c] - b[c]) * (a[c] - b[c]);
                }
                t[i, 0] += 1 - dot / Math.Sqrt(na * nb);
                t[i, 1] += l1;
                t[i, 2] += Math.Sqrt(l2);
            }
        var mean = new double[3];
        for (int i = 0; i < n; i++) for (int a = 0; a < 3; a++) mean[a] += t[i, a] / n;
        var s = new double[3, 3];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) s[a, b] += (t[i, a] - mean[a]) * (t[i, b] - mean[b]) / (n - 1);
        double det = s[0, 0] * (s[1, 1] * s[2, 2] - s[1, 2] * s[2, 1]) - s[0, 1] * (s[1, 0] * s[2, 2] - s[1, 2] * s[2, 0]) + s[0, 2] * (s[1, 0] * s[2, 1] - s[1, 1] * s[2, 0]);
        var inv = new double[3, 3];
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
            {
                int r0 = (b + 1) % 3, r1 = (b + 2) % 3, c0 = (a + 1) % 3, c1 = (a + 2) % 3;
                inv[a, b] = (s[r0, c0] * s[r1, c1] - s[r0, c1] * s[r1, c0]) / det;
            }
        var scores = new double[n];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) scores[i] += t[i, a] * inv[a, b] * t[i, b];
        return scores;
    }

    [Fact]
    public void Rules_have_registry_names()
    {
        Assert.Equal("weighted-mean", new WeightedMean().Name);
        Assert.Equal("median", new CoordinateWiseMedian().Name);
        Assert.Equal("trimmed-mean", new TrimmedMean(1).Name);
        Assert.Equal("krum", new Krum(1).Name);
        Assert.Equal("multi-krum", new MultiKrum(1, 2).Name);
        Assert.Equal("bulyan", new Bulyan(1).Name);
        Assert.Equal("geometric-median", new GeometricMedian().Name);
        Assert.Equal("centered-clipping", new CenteredClipping(1).Name);
        Assert.Equal("meamed", new Meamed(1).Name);
        Assert.Equal("flag-aggregator", new FlagAggregator().Name);
        Assert.Equal("multi-metrics", new MultiMetrics().Name);
        Assert.Equal("nnm+trimmed-mean", new PreAggregated(new NearestNeighborMixing(1), new TrimmedMean(1)).Name);
        Assert.Equal("bucketing+krum", new PreAggregated(new Bucketing(2), new Krum(1)).Name);
        Assert.Equal("static-clipping+median", new PreAggregated(new StaticClipping(1), new CoordinateWiseMedian()).Name);
    }
}
