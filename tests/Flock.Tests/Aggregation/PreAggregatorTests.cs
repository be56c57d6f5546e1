using Flock.Aggregation;
using static Flock.Tests.Aggregation.AggregationTestData;

namespace Flock.Tests.Aggregation;

public class PreAggregatorTests
{
    private static (float[][] Outputs, float[] Weights) Apply(IPreAggregator pre, ReadOnlyMemory<float>[] x, float[]? w = null, ulong seed = 0)
    {
        int m = pre.OutputCount(x.Length);
        var outs = Enumerable.Range(0, m).Select(_ => new float[x[0].Length]).ToArray();
        var ow = new float[m];
        pre.Apply(x, w ?? Array.Empty<float>(), outs.Select(o => (Memory<float>)o).ToArray(), ow, seed);
        return (outs, ow);
    }

    [Fact]
    public void Static_clipping_scales_long_inputs_to_the_threshold()
    {
        var (o, w) = Apply(new StaticClipping(5), Rows(new float[] { 3, 4 }, new float[] { 6, 8 }, new float[] { 0, 0 }, new float[] { 0, -1e30f }), new[] { 1f, 2f, 3f, 4f });
        Assert.Equal(new[] { 3f, 4f }, o[0]);
        AssertAllClose(new[] { 3f, 4f }, o[1], 1e-6);
        Assert.Equal(new[] { 0f, 0f }, o[2]);
        AssertAllClose(new[] { 0f, -5f }, o[3], 1e-6);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, w);
    }

    [Fact]
    public void Nnm_replaces_each_input_by_the_mean_of_its_nearest_neighbours()
    {
        // 0, 1, 10 with f = 1 (2 neighbours, itself included): 0 → {0,1}, 1 → {1,0}, 10 → {10,1}.
        var (o, w) = Apply(new NearestNeighborMixing(1), Rows(new float[] { 0 }, new float[] { 1 }, new float[] { 10 }));
        Assert.Equal(new[] { 0.5f }, o[0]);
        Assert.Equal(new[] { 0.5f }, o[1]);
        Assert.Equal(new[] { 5.5f }, o[2]);
        Assert.Equal(new[] { 1f, 1f, 1f }, w);
        // Tie: 1 is equally far from 0 and 2; the lower index (0) wins.
        var (t, _) = Apply(new NearestNeighborMixing(1), Rows(new float[] { 0 }, new float[] { 1 }, new float[] { 2 }));
        Assert.Equal(new[] { 0.5f }, t[1]);
        // f = 0: everybody becomes the mean.
        var (m, _) = Apply(new NearestNeighborMixing(0), Rows(new float[] { 0 }, new float[] { 1 }, new float[] { 5 }));
        Assert.All(m, v => AssertClose(2, v[0], 1e-6));
    }

    [Fact]
    public void Nnm_matches_a_brute_force_reference_on_random_data()
    {
        foreach (int n in new[] { 1, 2, 5, 26 })
        {
            int d = 157, f = n / 3;
            var rows = Random(n, d, (ulong)n);
            var (o, _) = Apply(new NearestNeighborMixing(f), Rows(rows));
            for (int i = 0; i < n; i++)
            {
                var near = Enumerable.Range(0, n)
                    .OrderBy(j => j == i ? -1 : rows[i].Zip(rows[j], (a, b) => ((double)a - b) * (a - b)).Sum())
                    .ThenBy(j => j).Take(n - f).ToArray();
                for (int c = 0; c < d; c++) AssertClose(near.Average(j => (double)rows[j][c]), o[i][c], 1e-5, $"n={n} i={i} c={c}");
            }
        }
    }

    [Fact]
    public void Bucketing_averages_random_buckets_deterministically_per_seed()
    {
        var x = Rows(Enumerable.Range(0, 7).Select(i => new float[] { i, 10 * i }).ToArray());
        var b = new Bucketing(3);
        Assert.Equal(3, b.OutputCount(7));
        var (o1, w1) = Apply(b, x, seed: 5);
        var (o2, _) = Apply(b, x, seed: 5);
        Assert.Equal(o1, o2);
        Assert.Equal(new[] { 3f, 3f, 1f }, w1);
        // Every input in exactly one bucket: the count-weighted bucket means add up to the total.
        AssertClose(21, o1.Select((v, k) => v[0] * w1[k]).Sum(), 1e-5);
        AssertClose(210, o1.Select((v, k) => v[1] * w1[k]).Sum(), 1e-5);
        // The single-input bucket is one of the inputs; the buckets differ between seeds.
        Assert.Equal(o1[2][1], 10 * o1[2][0]);
        bool differs = Enumerable.Range(6, 20).Any(s => !Apply(b, x, seed: (ulong)s).Outputs.Zip(o1).All(p => p.First.SequenceEqual(p.Second)));
        Assert.True(differs);
        // s = 1: a permutation of the inputs; s ≥ n: one bucket holding the mean.
        var (perm, _) = Apply(new Bucketing(1), x, seed: 3);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (float)i), perm.Select(v => v[0]).OrderBy(v => v));
        var (all, aw) = Apply(new Bucketing(10), x, seed: 3);
        Assert.Single(all);
        AssertAllClose(new[] { 3f, 30f }, all[0], 1e-6);
        Assert.Equal(new[] { 7f }, aw);
    }

    [Fact]
    public void Composition_equals_applying_the_two_steps()
    {
        var rows = Random(9, 41, 4);
        var x = Rows(rows);
        var (mixed, mw) = Apply(new NearestNeighborMixing(2), x);
        var manual = Run(new TrimmedMean(2), Rows(mixed), mw);
        Assert.Equal(manual, Run(new PreAggregated(new NearestNeighborMixing(2), new TrimmedMean(2)), x));
        // Bucketing with an explicit seed equals applying it with that seed.
        var (buckets, bw) = Apply(new Bucketing(2), x, seed: 77);
        var composed = new float[41];
        new PreAggregated(new Bucketing(2), new CoordinateWiseMedian()).Aggregate(x, ReadOnlySpan<float>.Empty, composed, 77);
        Assert.Equal(Run(new CoordinateWiseMedian(), Rows(buckets), bw), composed);
    }

    [Fact]
    public void Pre_aggregators_check_their_destinations()
    {
        var x = Rows(new float[2], new float[2], new float[2]);
        var nnm = new NearestNeighborMixing(1);
        Assert.Contains("needs exactly 3", Assert.Throws<ArgumentException>(() =>
            nnm.Apply(x, default, new Memory<float>[] { new float[2], new float[2] }, new float[2], 0)).Message);
        Assert.Contains("output 1 has length 3", Assert.Throws<ArgumentException>(() =>
            nnm.Apply(x, default, new Memory<float>[] { new float[2], new float[3], new float[2] }, new float[3], 0)).Message);
        var shared = new float[2];
        Assert.Contains("overlaps input", Assert.Throws<ArgumentException>(() =>
            nnm.Apply(new ReadOnlyMemory<float>[] { shared, new float[2], new float[2] }, default, new Memory<float>[] { new float[2], shared, new float[2] }, new float[3], 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Bucketing(2).OutputCount(0));
    }
}
