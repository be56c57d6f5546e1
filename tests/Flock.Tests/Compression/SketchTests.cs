using System.Numerics;
using Flock.Compression;
using Flock.Tensors;

namespace Flock.Tests.Compression;

/// <summary>Walsh–Hadamard transform, count sketch and SRHT: exact cases, E[RᵀR] = I over seeds, shared seeds.</summary>
public sealed class SketchTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(4096)]
    [InlineData(1 << 13)]
    [InlineData(1 << 15)]
    [InlineData(1 << 16)]     // column panels with two rows per half group (strides above the 4096-entry blocks)
    [InlineData(1 << 17)]
    [InlineData(1 << 20)]
    public void Walsh_hadamard_matches_the_definition(int n)
    {
        // (Hx)_k = Σ_i (−1)^popcount(i AND k) x_i.
        var x = Codecs.Gaussian(n, (ulong)n);
        var y = (float[])x.Clone();
        WalshHadamard.Transform(y);
        var rng = new Rng(1);
        for (int t = 0; t < Math.Min(n, 64); t++)
        {
            int k = t < 8 ? Math.Min(t, n - 1) : rng.NextInt(n);
            double s = 0, abs = 0;
            for (int i = 0; i < n; i++)
            {
                s += (BitOperations.PopCount((uint)(i & k)) & 1) == 0 ? x[i] : -x[i];
                abs += Math.Abs(x[i]);
            }
            Assert.True(Math.Abs(s - y[k]) <= 1e-6 * abs + 1e-6, $"n = {n}, k = {k}: {y[k]} vs {s}");
        }
        // Applying it twice gives n·x.
        WalshHadamard.Transform(y);
        for (int i = 0; i < n; i++) Assert.Equal(n * (double)x[i], y[i], 1e-4 * n);
    }

    [Fact]
    public void Walsh_hadamard_rejects_other_lengths()
    {
        Assert.Contains("power-of-two length; got 12", Assert.Throws<ArgumentException>(() => WalshHadamard.Transform(new float[12])).Message);
        WalshHadamard.Transform(Span<float>.Empty);
    }

    [Fact]
    public void Count_sketch_is_exact_without_collisions()
    {
        // d = 8 entries in s = 64 buckets: find a round whose hash puts them in distinct buckets; then
        // every bucket holds a single ±x_i and the de-sketch σ_i·bucket[h(i)] returns x exactly.
        var c = CountSketch.WithSize(64);
        var x = Codecs.Gaussian(8, 2);
        int found = 0;
        for (long round = 0; round < 50 && found < 3; round++)
        {
            var ctx = Codecs.Context(round);
            ulong seed = c.SeedFor(ctx);
            if (Enumerable.Range(0, 8).Select(i => CountSketch.BucketOf(seed, i, 64)).Distinct().Count() < 8) continue;
            found++;
            Assert.Equal(x, Codecs.RoundTrip(c, x, ctx));
        }
        Assert.Equal(3, found);
    }

    [Fact]
    public void Count_sketch_buckets_are_signed_sums()
    {
        var c = CountSketch.WithSize(3);
        var x = Codecs.Gaussian(20, 4);
        var ctx = Codecs.Context(2);
        ulong seed = c.SeedFor(ctx);
        var payload = Codecs.Encode(c, x, [], ctx);
        Assert.Equal(6 + 8 + 4 + 12, payload.Length);
        Assert.Equal(seed, BitConverter.ToUInt64(payload, 6));
        var expected = new double[3];
        for (int i = 0; i < 20; i++) expected[CountSketch.BucketOf(seed, i, 3)] += CountSketch.SignOf(seed, i) * x[i];
        for (int b = 0; b < 3; b++) Assert.Equal(expected[b], BitConverter.ToSingle(payload, 18 + 4 * b), 1e-4);
        var y = Codecs.Decode(c, payload, 20);
        for (int i = 0; i < 20; i++) Assert.Equal(CountSketch.SignOf(seed, i) * BitConverter.ToSingle(payload, 18 + 4 * CountSketch.BucketOf(seed, i, 3)), y[i]);
    }

    [Fact]
    public void Count_sketch_hash_is_spread_and_signs_balanced()
    {
        const int d = 100_000, s = 100;
        var counts = new int[s];
        int negative = 0;
        for (int i = 0; i < d; i++)
        {
            counts[CountSketch.BucketOf(77, i, s)]++;
            if (CountSketch.SignOf(77, i) < 0) negative++;
        }
        Assert.All(counts, n => Assert.InRange(n, 1000 - 6 * 32, 1000 + 6 * 32));   // Binomial(10⁵, 0.01): sd ≈ 31.5
        Assert.InRange(negative, 50_000 - 6 * 158, 50_000 + 6 * 158);
    }

    [Fact]
    public void Count_sketch_sign_is_independent_of_the_bucket()
    {
        // The sign is bit 0 of the hash, the bucket its high bits: within every bucket about half
        // the entries are negative (Binomial(1000, ½) per bucket, sd ≈ 15.8).
        const int d = 100_000, s = 100;
        var negative = new int[s];
        var counts = new int[s];
        for (int i = 0; i < d; i++)
        {
            int b = CountSketch.BucketOf(91, i, s);
            counts[b]++;
            if (CountSketch.SignOf(91, i) < 0) negative[b]++;
        }
        for (int b = 0; b < s; b++) Assert.InRange(negative[b] - counts[b] / 2.0, -6 * 16.0, 6 * 16.0);
    }

    [Fact]
    public void Srht_packed_signs_are_balanced_and_neighbours_uncorrelated()
    {
        // Signs are the bits of one hash per 32 indices: a fair coin each, and neighbouring indices
        // (same word or adjacent words) agree half the time. Binomial(10⁵, ½): sd ≈ 158.
        const int d = 100_000;
        int negative = 0, agreeNext = 0, agreeWordApart = 0;
        for (int i = 0; i < d; i++)
        {
            float si = Srht.SignOf(5, i);
            if (si < 0) negative++;
            if (si == Srht.SignOf(5, i + 1)) agreeNext++;
            if (si == Srht.SignOf(5, i + 32)) agreeWordApart++;
        }
        foreach (int c in new[] { negative, agreeNext, agreeWordApart }) Assert.InRange(c, 50_000 - 6 * 158, 50_000 + 6 * 158);
        // The packed bits are the documented ones: bit i mod 32 of the hash of word ⌊i/32⌋.
        for (int i = 0; i < 200; i++)
            Assert.Equal(((SketchHash.Hash(5, i / 32) >> (i % 32)) & 1) == 1 ? -1f : 1f, Srht.SignOf(5, i));
    }

    [Theory]
    [InlineData("count-sketch")]
    [InlineData("srht")]
    public void Desketch_is_unbiased_over_fresh_seeds(string kind)
    {
        // E[RᵀR x] = x. For each draw, the error of entry i has variance ≤ ‖x‖²·(d′/s) (both sketches);
        // over 3000 seeds the mean's sd is ≤ ‖x‖·√(d′/s)/√3000; tolerance 6 sd.
        const int d = 24, draws = 3000;
        ICompressor c = kind == "srht" ? Srht.WithRows(8) : CountSketch.WithSize(8);
        var x = Codecs.Gaussian(d, 6);
        double norm = Math.Sqrt(x.Sum(v => (double)v * v));
        int padded = kind == "srht" ? 32 : d;
        var mean = new double[d];
        for (int r = 0; r < draws; r++)
        {
            var y = Codecs.RoundTrip(c, x, Codecs.Context(r));
            for (int i = 0; i < d; i++) mean[i] += y[i] / (double)draws;
        }
        double tol = 6 * norm * Math.Sqrt((double)padded / 8) / Math.Sqrt(draws);
        for (int i = 0; i < d; i++) Assert.InRange(mean[i], x[i] - tol, x[i] + tol);
    }

    [Fact]
    public void Srht_expectation_of_RtR_is_identity()
    {
        // Columns of E[RᵀR]: de-sketch the sketch of each basis vector e_j, averaged over seeds.
        const int d = 6, draws = 4000;
        var c = Srht.WithRows(3);
        var m = new double[d, d];
        for (int j = 0; j < d; j++)
        {
            var e = new float[d];
            e[j] = 1f;
            for (int r = 0; r < draws; r++)
            {
                var y = Codecs.RoundTrip(c, e, Codecs.Context(r, node: (ulong)j));
                for (int i = 0; i < d; i++) m[i, j] += y[i] / (double)draws;
            }
        }
        // Entries of one draw are bounded by d′/s = 8/3, so the mean's sd ≤ (8/3)/√4000; tolerance 6 sd.
        double tol = 6 * (8.0 / 3) / Math.Sqrt(draws);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                Assert.InRange(m[i, j], (i == j ? 1 : 0) - tol, (i == j ? 1 : 0) + tol);
    }

    [Fact]
    public void Srht_with_all_rows_is_exact()
    {
        // s = d′: P keeps every row, RᵀR = D·H·H·D/d′ = I exactly (up to rounding).
        const int d = 100;
        var x = Codecs.Gaussian(d, 12);
        var y = Codecs.RoundTrip(Srht.WithRows(128), x, Codecs.Context());
        for (int i = 0; i < d; i++) Assert.Equal(x[i], y[i], 1e-4);
        Assert.Equal(128, Srht.WithRows(1000).Rows(100));
        Assert.Equal(128, Srht.PaddedLength(100));
        Assert.Equal(1, Srht.PaddedLength(1));
        Assert.Equal(0, new Srht(0.5).Rows(0));
    }

    [Fact]
    public void Srht_sketch_matches_its_definition()
    {
        // y_j = H(D·x)[row_j] / √s with H the unnormalized Hadamard matrix.
        const int d = 12;
        var c = Srht.WithRows(5);
        var x = Codecs.Gaussian(d, 3);
        var ctx = Codecs.Context(7);
        ulong seed = c.SeedFor(ctx);
        var payload = Codecs.Encode(c, x, [], ctx);
        var rows = new int[5];
        Srht.RowsOf(seed, 16, rows);
        Assert.Equal(rows.Order(), rows);
        Assert.Equal(5, rows.Distinct().Count());
        for (int j = 0; j < 5; j++)
        {
            double s = 0;
            for (int i = 0; i < d; i++) s += ((BitOperations.PopCount((uint)(i & rows[j])) & 1) == 0 ? 1 : -1) * Srht.SignOf(seed, i) * x[i];
            Assert.Equal(s / Math.Sqrt(5), BitConverter.ToSingle(payload, 18 + 4 * j), 1e-5);
        }
    }

    [Theory]
    [InlineData("count-sketch")]
    [InlineData("srht")]
    public void Shared_seed_sketches_add_up_before_desketching(string kind)
    {
        // With one R per round, Rᵀ(R a + R b) = RᵀR a + RᵀR b: summing payload values then decoding
        // equals decoding each and summing.
        const int d = 50;
        ICompressor c = kind == "srht" ? new Srht(0.3, SketchSeedScope.Shared) : new CountSketch(0.3, SketchSeedScope.Shared);
        var a = Codecs.Gaussian(d, 1);
        var b = Codecs.Gaussian(d, 2);
        var pa = Codecs.Encode(c, a, [], Codecs.Context(4, node: 1));
        var pb = Codecs.Encode(c, b, [], Codecs.Context(4, node: 2));
        Assert.Equal(pa[..18], pb[..18]);                         // same header, seed and size
        var sum = pa.ToArray();
        for (int o = 18; o < sum.Length; o += 4)
            BitConverter.TryWriteBytes(sum.AsSpan(o), BitConverter.ToSingle(pa, o) + BitConverter.ToSingle(pb, o));
        var together = Codecs.Decode(c, sum, d);
        var separately = Codecs.Decode(c, pa, d);
        c.DecodeAdd(pb, separately, 1f);
        for (int i = 0; i < d; i++) Assert.Equal(separately[i], together[i], 1e-4);
        // Per-node seeds differ between nodes.
        var perNode = kind == "srht" ? (ICompressor)new Srht(0.3) : new CountSketch(0.3);
        Assert.NotEqual(Codecs.Encode(perNode, a, [], Codecs.Context(4, node: 1))[6..14], Codecs.Encode(perNode, a, [], Codecs.Context(4, node: 2))[6..14]);
    }
}
