using System.Buffers.Binary;
using Flock.Compression;

namespace Flock.Tests.Compression;

/// <summary>Top-k exactness (ties, large vectors through the sampled threshold), random-k, the sparse wire format.</summary>
public sealed class SparsificationTests
{
    /// <summary>Reference top-k: sort by magnitude descending, ties by index ascending (NaN last).</summary>
    private static HashSet<int> ReferenceTopK(float[] x, int k) =>
        x.Select((v, i) => (key: float.IsNaN(v) ? -1f : Math.Abs(v), i))
         .OrderByDescending(p => p.key).ThenBy(p => p.i).Take(k).Select(p => p.i).ToHashSet();

    private static void AssertTopK(float[] x, int k, float[] decoded)
    {
        var expected = ReferenceTopK(x, k);
        for (int i = 0; i < x.Length; i++)
        {
            if (expected.Contains(i)) Assert.Equal(BitConverter.SingleToInt32Bits(x[i]), BitConverter.SingleToInt32Bits(decoded[i]));
            else Assert.Equal(0f, decoded[i]);
        }
    }

    [Fact]
    public void Hand_made_top_k()
    {
        float[] x = [0.5f, -3f, 2f, 0f, -2f, 1f];
        var y = Codecs.RoundTrip(TopK.WithCount(3), x, Codecs.Context());
        // |−3| > |2| = |−2|: both 2s kept (k = 3), 1 dropped.
        Assert.Equal(new[] { 0f, -3f, 2f, 0f, -2f, 0f }, y);
    }

    [Fact]
    public void Ties_at_the_kth_magnitude_go_to_the_lowest_indices()
    {
        float[] x = [1f, -2f, 2f, 1f, -2f, 2f, 0.5f];
        // k = 2 among four entries of magnitude 2 (indices 1, 2, 4, 5): indices 1 and 2 win.
        Assert.Equal(new[] { 0f, -2f, 2f, 0f, 0f, 0f, 0f }, Codecs.RoundTrip(TopK.WithCount(2), x, Codecs.Context()));
        // k = 5: all four 2s and the first 1.
        Assert.Equal(new[] { 1f, -2f, 2f, 0f, -2f, 2f, 0f }, Codecs.RoundTrip(TopK.WithCount(5), x, Codecs.Context()));
    }

    [Fact]
    public void NaN_ranks_below_every_number_and_infinity_above()
    {
        float[] x = [float.NaN, 1f, float.NegativeInfinity, 0f, float.NaN];
        var y = Codecs.RoundTrip(TopK.WithCount(3), x, Codecs.Context());
        Assert.Equal(new[] { 0f, 1f, float.NegativeInfinity, 0f, 0f }, y);
        var all = Codecs.RoundTrip(TopK.WithCount(4), x, Codecs.Context());
        Assert.True(float.IsNaN(all[0]));
        Assert.Equal(0f, all[4]);
    }

    [Theory]
    [InlineData(200_000, 1000)]      // sampled threshold path
    [InlineData(200_000, 20)]        // few entries: large sample relative to k
    [InlineData(100_003, 12_000)]    // above d/10: exact path over the whole vector
    [InlineData(5_000, 50)]          // small vector: exact path
    public void Keeps_exactly_the_k_largest(int d, int k)
    {
        var x = Codecs.Gaussian(d, (ulong)(d + k));
        // Heavy ties: quantize a third of the entries to a coarse grid.
        for (int i = 0; i < d; i += 3) x[i] = MathF.Round(x[i] * 4) / 4;
        var c = TopK.WithCount(k);
        for (int round = 0; round < 3; round++)
        {
            var payload = Codecs.Encode(c, x, [], Codecs.Context(round));
            Assert.Equal(k, BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(7)));
            AssertTopK(x, k, Codecs.Decode(c, payload, d));
        }
    }

    [Fact]
    public void Many_equal_magnitudes_and_zeros()
    {
        // 150 000 zeros and 50 000 entries of magnitude 1: k = 60 000 takes all the ones and the first 10 000 zeros.
        const int d = 200_000;
        var x = new float[d];
        for (int i = 0; i < d; i += 4) x[i] = (i & 8) == 0 ? 1f : -1f;
        var y = Codecs.RoundTrip(TopK.WithCount(60_000), x, Codecs.Context());
        AssertTopK(x, 60_000, y);
        // k = 1000 among 50 000 tied ones: the first 1000 of them.
        var z = Codecs.RoundTrip(TopK.WithCount(1000), x, Codecs.Context());
        AssertTopK(x, 1000, z);
        Assert.Equal(3996, Array.FindLastIndex(z, v => v != 0));
    }

    [Fact]
    public void Density_and_count()
    {
        Assert.Equal(10, new TopK(0.1).Count(100));
        Assert.Equal(11, new TopK(0.1).Count(101));        // ⌈10.1⌉
        Assert.Equal(1, new TopK(0.001).Count(5));         // at least one
        Assert.Equal(0, new TopK(0.5).Count(0));
        Assert.Equal(5, TopK.WithCount(5).Count(100));
        Assert.Equal(3, TopK.WithCount(5).Count(3));
        Assert.StartsWith("Invalid density: 0; must be in (0, 1]", Assert.Throws<ArgumentOutOfRangeException>(() => new TopK(0)).Message);
        Assert.StartsWith("Invalid density: 1.5;", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomK(1.5)).Message);
        Assert.StartsWith("Invalid count k: 0; must be ≥ 1.", Assert.Throws<ArgumentOutOfRangeException>(() => TopK.WithCount(0)).Message);
    }

    [Fact]
    public void Wire_format_picks_the_shorter_index_encoding()
    {
        // Dense selection (k = d/2): bitmap (d/8 bytes) beats varints (≥ k bytes).
        var x = Codecs.Gaussian(1000, 1);
        var dense = Codecs.Encode(TopK.WithCount(500), x, [], Codecs.Context());
        Assert.Equal(0, dense[6]);
        Assert.Equal(6 + 5 + 4 * 500 + 125, dense.Length);
        // Sparse selection: varints (one byte per small gap) beat the 125-byte bitmap.
        var sparse = Codecs.Encode(TopK.WithCount(10), x, [], Codecs.Context());
        Assert.Equal(1, sparse[6]);
        Assert.True(sparse.Length < 6 + 5 + 40 + 125);
        Assert.True(sparse.Length >= 6 + 5 + 40 + 10);
        // Exact length of a hand-checked case: indices 0 and 200 of d = 1000 → varints [0] and [199 = 0xC7 0x01].
        var two = new float[1000];
        two[0] = 5f;
        two[200] = -7f;
        var p = Codecs.Encode(TopK.WithCount(2), two, [], Codecs.Context());
        Assert.Equal(new byte[] { 0, 0xC7, 0x01 }, p[^3..]);
        Assert.Equal(6 + 5 + 8 + 3, p.Length);
    }

    [Fact]
    public void Random_k_sends_k_distinct_entries_scaled_by_d_over_k()
    {
        const int d = 1000;
        var x = Codecs.Gaussian(d, 4);
        var c = new RandomK(0.05);
        var y = Codecs.RoundTrip(c, x, Codecs.Context());
        int sent = 0;
        for (int i = 0; i < d; i++)
        {
            if (y[i] == 0) continue;
            sent++;
            Assert.Equal(x[i] * 20f, y[i]);
        }
        Assert.Equal(50, sent);
        var raw = Codecs.RoundTrip(new RandomK(0.05, unbiased: false), x, Codecs.Context());
        Assert.Equal(50, raw.Count(v => v != 0));
        Assert.All(Enumerable.Range(0, d).Where(i => raw[i] != 0), i => Assert.Equal(x[i], raw[i]));
        // k > d/2 takes the complement path; k = d sends everything.
        var most = Codecs.RoundTrip(RandomK.WithCount(990, unbiased: false), x, Codecs.Context());
        Assert.Equal(990, most.Count(v => v != 0));
        Assert.Equal(x, Codecs.RoundTrip(new RandomK(1.0), x, Codecs.Context()));
    }

    [Fact]
    public void Random_k_is_unbiased_and_uniform()
    {
        // Over 4000 seeded draws with k/d = 1/10, every entry is selected ~400 times and the mean
        // of the decoded vectors approaches x. Binomial(4000, 0.1): sd = 19, so ±6 sd = ±114.
        const int d = 40, draws = 4000;
        var x = Codecs.Gaussian(d, 2);
        var c = new RandomK(0.1);
        var mean = new double[d];
        var hits = new int[d];
        for (int r = 0; r < draws; r++)
        {
            var y = Codecs.RoundTrip(c, x, Codecs.Context(r));
            for (int i = 0; i < d; i++)
            {
                mean[i] += y[i] / (double)draws;
                if (y[i] != 0) hits[i]++;
            }
        }
        Assert.All(hits, h => Assert.InRange(h, 400 - 114, 400 + 114));
        for (int i = 0; i < d; i++)
        {
            // Var of one draw = x²·(d/k − 1) = 9x²; sd of the mean = 3|x|/√4000; tolerance 6 sd.
            double tol = 6 * 3 * Math.Abs(x[i]) / Math.Sqrt(draws);
            Assert.InRange(mean[i], x[i] - tol, x[i] + tol);
        }
    }
}
