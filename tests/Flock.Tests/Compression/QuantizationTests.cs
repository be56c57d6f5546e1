using Flock.Compression;

namespace Flock.Tests.Compression;

/// <summary>QSGD, scaled sign and RQM: error bounds, unbiasedness over seeded draws, packings, parameters.</summary>
public sealed class QuantizationTests
{
    [Theory]
    [InlineData(1, 0, 2)]
    [InlineData(1, 64, 2)]
    [InlineData(3, 16, 4)]
    [InlineData(7, 512, 4)]
    [InlineData(8, 8, 8)]
    [InlineData(127, 0, 8)]
    public void Qsgd_error_is_below_norm_over_s_and_levels_are_on_the_grid(int s, int bucket, int bits)
    {
        const int d = 1001;                                  // partial last group and bucket
        var q = new Qsgd(s, bucket);
        Assert.Equal(bits, q.BitsPerEntry);
        var x = Codecs.Gaussian(d, (ulong)(s + bucket));
        var payload = Codecs.Encode(q, x, [], Codecs.Context());
        int b = bucket == 0 ? d : bucket, buckets = (d + b - 1) / b;
        Assert.Equal(6 + 6 + 4 * buckets + (d * bits + 7) / 8, payload.Length);
        var y = Codecs.Decode(q, payload, d);
        for (int start = 0; start < d; start += b)
        {
            int len = Math.Min(b, d - start);
            float norm = (float)Math.Sqrt(x.Skip(start).Take(len).Sum(v => (double)v * v));
            for (int i = start; i < start + len; i++)
            {
                Assert.True(Math.Abs(y[i] - x[i]) <= norm / s * (1 + 1e-5), $"entry {i}: |{y[i]} − {x[i]}| > {norm}/{s}");
                double level = y[i] / norm * s;
                Assert.Equal(Math.Round(level), level, 3);   // a multiple of ‖b‖/s
                Assert.True(y[i] == 0 || Math.Sign(y[i]) == Math.Sign(x[i]));
            }
        }
    }

    [Fact]
    public void Qsgd_quantizes_buckets_whose_norm_is_too_small_for_s_over_norm()
    {
        // ‖b‖ ≈ 1e-39: s/‖b‖ overflows float. Zeros must decode to 0 and the big entry to a level
        // near s, unbiased; before the fix the zeros decoded to +‖b‖ (code 2s).
        float[] x = [1e-39f, 1e-45f, 0, 0, 0, 0, 0, 0, 3e-39f, 0, 0, 0, 0, 0, 0, 0];
        var q = new Qsgd(7, 8);
        double mean0 = 0;
        const int rounds = 400;
        for (int r = 0; r < rounds; r++)
        {
            var y = Codecs.RoundTrip(q, x, Codecs.Context(r));
            for (int i = 2; i < 8; i++) Assert.Equal(0f, y[i]);
            for (int i = 9; i < 16; i++) Assert.Equal(0f, y[i]);
            Assert.True(y[0] >= 0 && y[8] > 0, $"round {r}: signs wrong ({y[0]}, {y[8]})");
            Assert.True(Math.Abs(y[8] - 3e-39) < 1e-5 * 3e-39, $"round {r}: {y[8]}"); // alone in its bucket: level s (subnormal rounding)
            mean0 += y[0] / (double)rounds;
        }
        Assert.True(Math.Abs(mean0 - 1e-39) < 0.05e-39, $"mean of the decoded 1e-39 is {mean0}");
    }

    [Fact]
    public void Qsgd_hand_checked_vector()
    {
        // x = (3, −4): ‖x‖ = 5, s = 5: |x|·s/‖x‖ = (3, 4) are integers, so the rounding is exact.
        var y = Codecs.RoundTrip(new Qsgd(5, 0), [3f, -4f], Codecs.Context());
        Assert.Equal(new[] { 3f, -4f }, y);
        // One non-zero entry: r = s exactly, decoded exactly.
        var z = Codecs.RoundTrip(new Qsgd(7, 0), [0f, -2.5f, 0f], Codecs.Context());
        Assert.Equal(new[] { 0f, -2.5f, 0f }, z);
    }

    [Theory]
    [InlineData(1, 16)]
    [InlineData(4, 0)]
    [InlineData(100, 8)]
    public void Qsgd_is_unbiased(int s, int bucket)
    {
        // Mean of 3000 seeded draws vs x. One draw errs by at most ‖b‖/s with variance ≤ (‖b‖/s)²/4,
        // so the mean's sd is ≤ ‖b‖/(2s√3000); tolerance 6 sd.
        const int d = 48, draws = 3000;
        var x = Codecs.Gaussian(d, 21);
        var q = new Qsgd(s, bucket);
        var mean = new double[d];
        for (int r = 0; r < draws; r++)
        {
            var y = Codecs.RoundTrip(q, x, Codecs.Context(r));
            for (int i = 0; i < d; i++) mean[i] += y[i] / (double)draws;
        }
        int b = bucket == 0 ? d : bucket;
        for (int i = 0; i < d; i++)
        {
            int start = i / b * b;
            double norm = Math.Sqrt(x.Skip(start).Take(Math.Min(b, d - start)).Sum(v => (double)v * v));
            double tol = 6 * norm / (2 * s * Math.Sqrt(draws));
            Assert.InRange(mean[i], x[i] - tol, x[i] + tol);
        }
    }

    [Fact]
    public void Qsgd_validation_and_non_finite_input()
    {
        Assert.StartsWith("Invalid QSGD levels s: 0;", Assert.Throws<ArgumentOutOfRangeException>(() => new Qsgd(0)).Message);
        Assert.StartsWith("Invalid QSGD levels s: 128;", Assert.Throws<ArgumentOutOfRangeException>(() => new Qsgd(128)).Message);
        Assert.StartsWith("Invalid QSGD bucket size: 12;", Assert.Throws<ArgumentOutOfRangeException>(() => new Qsgd(7, 12)).Message);
        var ex = Assert.Throws<ArgumentException>(() => Codecs.Encode(new Qsgd(7, 8), [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 1f, float.NaN], [], Codecs.Context()));
        Assert.Contains("bucket 1 (entries 8–9)", ex.Message);
    }

    [Fact]
    public void Scaled_sign_by_hand()
    {
        // ‖x‖₁/d = (1 + 2 + 0 + 4 + 0.5)/5 = 1.5; −0 has its sign bit set.
        float[] x = [1f, -2f, 0f, -4f, -0f];
        var payload = Codecs.Encode(new ScaledSign(), x, [], Codecs.Context());
        Assert.Equal(6 + 4 + 1, payload.Length);
        Assert.Equal(0b11010, payload[^1]);
        Assert.Equal(new[] { 1.4f, -1.4f, 1.4f, -1.4f, -1.4f }, Codecs.Decode(new ScaledSign(), payload, 5));
        // Long vector: SIMD paths agree with the definition.
        var v = Codecs.Gaussian(1037, 3);
        var y = Codecs.RoundTrip(new ScaledSign(), v, Codecs.Context());
        float scale = (float)(v.Sum(a => (double)Math.Abs(a)) / v.Length);
        for (int i = 0; i < v.Length; i++) Assert.Equal(v[i] < 0 ? -scale : scale, y[i]);
        Assert.Throws<ArgumentException>(() => Codecs.Encode(new ScaledSign(), [1f, float.PositiveInfinity], [], Codecs.Context()));
    }

    [Fact]
    public void Rqm_parameters_and_grid()
    {
        var r = new RandomizedQuantization(clipBound: 1f, levels: 5, keepProbability: 0.5f, extension: 1f);
        Assert.Equal(1f, r.ClipBound);
        Assert.Equal(5, r.Levels);
        Assert.Equal(0.5f, r.KeepProbability);
        Assert.Equal(1f, r.Extension);
        Assert.Equal(1f, r.LevelSpacing);                        // 2·(1 + 1)/4
        Assert.Equal(new[] { -2f, -1f, 0f, 1f, 2f }, Enumerable.Range(0, 5).Select(r.Level));
        Assert.Equal(4, r.BitsPerEntry);
        Assert.Equal(1, new RandomizedQuantization(levels: 2).BitsPerEntry);
        Assert.Equal(16, new RandomizedQuantization(levels: 257).BitsPerEntry);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Level(5));
        Assert.StartsWith("Invalid clip bound c: 0;", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomizedQuantization(clipBound: 0f)).Message);
        Assert.StartsWith("Invalid number of levels m: 1;", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomizedQuantization(levels: 1)).Message);
        Assert.StartsWith("Invalid keep probability q: 0;", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomizedQuantization(keepProbability: 0f)).Message);
        Assert.StartsWith("Invalid extension Δ: -1;", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomizedQuantization(extension: -1f)).Message);
    }

    [Fact]
    public void Rqm_with_all_levels_kept_rounds_to_the_two_nearest_levels()
    {
        // q = 1: every level is kept, so each entry goes to one of the two grid points around its clipped value.
        var r = new RandomizedQuantization(clipBound: 1f, levels: 9, keepProbability: 1f, extension: 0f);   // grid step 0.25
        var x = Codecs.Gaussian(500, 5);
        var y = Codecs.RoundTrip(r, x, Codecs.Context());
        for (int i = 0; i < x.Length; i++)
        {
            float c = Math.Clamp(x[i], -1f, 1f);
            float lo = MathF.Floor(c / 0.25f) * 0.25f;
            Assert.True(y[i] == lo || y[i] == lo + 0.25f || (c == lo && y[i] == lo), $"{x[i]} → {y[i]}");
        }
    }

    [Fact]
    public void Rqm_outputs_only_grid_levels_and_clips()
    {
        var r = new RandomizedQuantization(clipBound: 0.5f, levels: 12, keepProbability: 0.3f, extension: 0.05f);
        var grid = Enumerable.Range(0, 12).Select(r.Level).ToHashSet();
        float[] x = [100f, -100f, float.NaN, 0.5f, -0.5f, 0f, 0.123f];
        var y = Codecs.RoundTrip(r, x, Codecs.Context());
        Assert.All(y, v => Assert.Contains(v, grid));
        // A clipped entry at +c lies between the top levels: it never goes below the nearest kept level under c.
        var many = Codecs.RoundTrip(r, Codecs.Gaussian(4000, 1, std: 2f), Codecs.Context());
        Assert.All(many, v => Assert.Contains(v, grid));
        Assert.Contains(r.Level(0), many);                  // the always-kept ends are reached
        Assert.Contains(r.Level(11), many);
    }

    [Theory]
    [InlineData(16, 0.5f, 0.1f)]
    [InlineData(4, 0.2f, 0.5f)]
    [InlineData(300, 0.9f, 0.01f)]
    public void Rqm_is_unbiased_for_the_clipped_value(int levels, float q, float extension)
    {
        // One draw lies within [−c−Δ, c+Δ], so its variance is ≤ (c+Δ)²; sd of the mean of 4000 draws ≤ (c+Δ)/√4000; tolerance 6 sd.
        const int d = 24, draws = 4000;
        const float c = 1f;
        var r = new RandomizedQuantization(c, levels, q, extension);
        var x = Codecs.Gaussian(d, 8, std: 0.8f);
        x[0] = 5f;                                               // clipped to 1
        x[1] = -1f;
        x[2] = r.Level(1);                                      // on a (possibly dropped) interior level
        var mean = new double[d];
        for (int t = 0; t < draws; t++)
        {
            var y = Codecs.RoundTrip(r, x, Codecs.Context(t));
            for (int i = 0; i < d; i++) mean[i] += y[i] / (double)draws;
        }
        double tol = 6 * (c + extension) / Math.Sqrt(draws);
        for (int i = 0; i < d; i++)
        {
            double target = Math.Clamp(x[i], -c, c);
            Assert.InRange(mean[i], target - tol, target + tol);
        }
    }

    [Fact]
    public void Rqm_keep_probability_is_the_level_survival_rate()
    {
        // Entries exactly on interior level j are reported as j only if level j survives (then the
        // rounding probability to any other level is 0): frequency ≈ q. Binomial sd √(n q(1−q)).
        var r = new RandomizedQuantization(clipBound: 1f, levels: 11, keepProbability: 0.3f, extension: 0f);
        const int n = 20_000;
        var x = Enumerable.Repeat(r.Level(4), n).ToArray();
        var y = Codecs.RoundTrip(r, x, Codecs.Context());
        int stayed = y.Count(v => v == r.Level(4));
        double sd = Math.Sqrt(n * 0.3 * 0.7);
        Assert.InRange(stayed, n * 0.3 - 6 * sd, n * 0.3 + 6 * sd);
    }
}
