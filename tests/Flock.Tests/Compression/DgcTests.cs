using Flock.Compression;

namespace Flock.Tests.Compression;

/// <summary>Deep Gradient Compression: momentum correction, factor masking, clipping, warm-up schedule, selection.</summary>
public sealed class DgcTests
{
    private static (float[] sent, float[] u, float[] v) Step(DeepGradientCompression dgc, float[] g, float[] state, long round)
    {
        int d = g.Length;
        var sent = Codecs.Decode(dgc, Codecs.Encode(dgc, g, state, Codecs.Context(round)), d);
        return (sent, DeepGradientCompression.MomentumOf(state, d).ToArray(), DeepGradientCompression.VelocityOf(state, d).ToArray());
    }

    [Fact]
    public void Momentum_correction_and_factor_masking_by_hand()
    {
        // d = 4, k = 1 every round (density 0.25, no warm-up), μ = 0.5.
        var dgc = new DeepGradientCompression(finalDensity: 0.25, momentum: 0.5f, warmupDensities: []);
        var state = new float[8];
        // Round 0: u = g = (1, −4, 2, 0.5); v = u; |v| largest at index 1 → send −4, zero u₁, v₁.
        var (sent, u, v) = Step(dgc, [1f, -4f, 2f, 0.5f], state, 0);
        Assert.Equal(new[] { 0f, -4f, 0f, 0f }, sent);
        Assert.Equal(new[] { 1f, 0f, 2f, 0.5f }, u);
        Assert.Equal(new[] { 1f, 0f, 2f, 0.5f }, v);
        // Round 1: g = (1, 1, 1, 1): u = 0.5u + g = (1.5, 1, 2, 1.25); v = v + u = (2.5, 1, 4, 1.75) → send index 2 (4).
        (sent, u, v) = Step(dgc, [1f, 1f, 1f, 1f], state, 1);
        Assert.Equal(new[] { 0f, 0f, 4f, 0f }, sent);
        Assert.Equal(new[] { 1.5f, 1f, 0f, 1.25f }, u);
        Assert.Equal(new[] { 2.5f, 1f, 0f, 1.75f }, v);
        // Round 2: g = 0: u = (0.75, 0.5, 0, 0.625); v = (3.25, 1.5, 0, 2.375) → send index 0.
        (sent, u, v) = Step(dgc, [0f, 0f, 0f, 0f], state, 2);
        Assert.Equal(new[] { 3.25f, 0f, 0f, 0f }, sent);
        Assert.Equal(new[] { 0f, 0.5f, 0f, 0.625f }, u);
        Assert.Equal(new[] { 0f, 1.5f, 0f, 2.375f }, v);
    }

    [Fact]
    public void Unsent_coordinates_accumulate_sent_ones_are_masked()
    {
        // Replays the update rule on the previous state: u' = μ·u + g, v' = v + u'; sent entries
        // carry v' and have u = v = 0 afterwards; all others keep u' and v' exactly.
        const int d = 2000;
        const float mu = 0.9f;
        var dgc = new DeepGradientCompression(finalDensity: 0.01, momentum: mu);
        var state = new float[2 * d];
        for (int r = 0; r < 12; r++)
        {
            var uPrev = DeepGradientCompression.MomentumOf(state, d).ToArray();
            var vPrev = DeepGradientCompression.VelocityOf(state, d).ToArray();
            var g = Codecs.Gaussian(d, (ulong)r);
            var (sent, u, v) = Step(dgc, g, state, r);
            int nonzero = 0;
            for (int i = 0; i < d; i++)
            {
                float uNew = mu * uPrev[i] + g[i];
                float vNew = vPrev[i] + uNew;
                if (sent[i] != 0)
                {
                    nonzero++;
                    Assert.Equal(vNew, sent[i]);
                    Assert.Equal(0f, u[i]);
                    Assert.Equal(0f, v[i]);
                }
                else
                {
                    Assert.Equal(uNew, u[i]);
                    Assert.Equal(vNew, v[i]);
                }
            }
            Assert.InRange(nonzero, (int)(0.8 * dgc.CountAt(d, r)), dgc.CountAt(d, r));
        }
    }

    [Fact]
    public void Selected_entries_are_the_largest_of_v()
    {
        const int d = 50_000;
        var dgc = new DeepGradientCompression(finalDensity: 0.002, momentum: 0f, warmupDensities: []);
        var state = new float[2 * d];
        var g = Codecs.Gaussian(d, 9);
        var (sent, _, _) = Step(dgc, g, state, 0);
        int k = dgc.CountAt(d, 0);
        int n = sent.Count(s => s != 0);
        Assert.InRange(n, (int)(0.8 * k), k);
        // Every sent magnitude is ≥ every unsent magnitude of v (= g here).
        float minSent = Enumerable.Range(0, d).Where(i => sent[i] != 0).Min(i => Math.Abs(g[i]));
        float maxUnsent = Enumerable.Range(0, d).Where(i => sent[i] == 0).Max(i => Math.Abs(g[i]));
        Assert.True(minSent >= maxUnsent);
        Assert.All(Enumerable.Range(0, d).Where(i => sent[i] != 0), i => Assert.Equal(g[i], sent[i]));
    }

    [Fact]
    public void Threshold_refinement_survives_a_cluster_of_equal_magnitudes()
    {
        // Repeating one gradient makes the unsent entries pile up near the same magnitude, the
        // case where multiplying the threshold by 1.3 / 0.8 alone jumps across the cluster forever.
        const int d = 100_000;
        var dgc = new DeepGradientCompression(finalDensity: 0.001, momentum: 0.9f, warmupDensities: []);
        var state = new float[2 * d];
        var g = Codecs.Gaussian(d, 1);
        for (int r = 0; r < 10; r++)
        {
            var (sent, _, _) = Step(dgc, g, state, r);
            int n = sent.Count(s => s != 0);
            Assert.InRange(n, 80, 100);
        }
    }

    [Fact]
    public void Warmup_schedule()
    {
        var paper = new DeepGradientCompression();
        Assert.Equal(new[] { 0.25, 0.0625, 0.015625, 0.004, 0.001 }, paper.WarmupDensities);
        Assert.Equal(new[] { 0.25, 0.0625, 0.015625, 0.004, 0.001, 0.001, 0.001 }, Enumerable.Range(0, 7).Select(r => paper.DensityAt(r)));
        var slow = new DeepGradientCompression(finalDensity: 0.01, warmupDensities: [0.5, 0.1], warmupRoundsPerStage: 3);
        Assert.Equal(new[] { 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.01, 0.01 }, Enumerable.Range(0, 8).Select(r => slow.DensityAt(r)));
        Assert.Equal(500, slow.CountAt(1000, 2));
        Assert.Equal(100, slow.CountAt(1000, 3));
        Assert.Equal(10, slow.CountAt(1000, 100));
        Assert.Equal(0.02, new DeepGradientCompression(finalDensity: 0.02, warmupDensities: []).DensityAt(0));
        // The payload bound covers the densest stage.
        Assert.Equal(new TopK(0.5).MaxEncodedLength(1000), slow.MaxEncodedLength(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => slow.DensityAt(-1));
    }

    [Fact]
    public void Local_clipping_scales_the_threshold_by_inverse_sqrt_n()
    {
        // ‖g‖ = 5, C = 4, N = 4 → local threshold 2 → g scaled by 0.4 before the momentum.
        var dgc = new DeepGradientCompression(finalDensity: 1, momentum: 0f, clipNorm: 4f, nodeCount: 4, warmupDensities: []);
        var (sent, _, _) = Step(dgc, [3f, 4f], new float[4], 0);
        Assert.Equal(new[] { 3f * 0.4f, 4f * 0.4f }, sent);
        // Below the threshold: unchanged.
        var (small, _, _) = Step(dgc, [0.3f, 0.4f], new float[4], 0);
        Assert.Equal(new[] { 0.3f, 0.4f }, small);
    }

    [Fact]
    public void Validation()
    {
        Assert.StartsWith("Invalid momentum: 1; must be in [0, 1).", Assert.Throws<ArgumentOutOfRangeException>(() => new DeepGradientCompression(momentum: 1f)).Message);
        Assert.StartsWith("Invalid clip norm: -1;", Assert.Throws<ArgumentOutOfRangeException>(() => new DeepGradientCompression(clipNorm: -1f)).Message);
        Assert.StartsWith("Invalid node count: 0;", Assert.Throws<ArgumentOutOfRangeException>(() => new DeepGradientCompression(nodeCount: 0)).Message);
        Assert.StartsWith("Invalid density: 0;", Assert.Throws<ArgumentOutOfRangeException>(() => new DeepGradientCompression(warmupDensities: [0.5, 0])).Message);
        Assert.StartsWith("Invalid rounds per warm-up stage: 0;", Assert.Throws<ArgumentOutOfRangeException>(() => new DeepGradientCompression(warmupRoundsPerStage: 0)).Message);
        Assert.StartsWith("Invalid sample fraction: 0;", Assert.Throws<ArgumentOutOfRangeException>(() => new DeepGradientCompression(sampleFraction: 0)).Message);
        Assert.Equal(20, new DeepGradientCompression().StateLength(10));
        Assert.Throws<ArgumentException>(() => DeepGradientCompression.MomentumOf(new float[19], 10));
    }
}
