using Flock.Aggregation;

namespace Flock.Tests.Protocols.SybilWallTests;

public class FoolsGoldTests
{
    private static ReadOnlyMemory<float>[] Rows(params float[][] rows) => rows.Select(r => (ReadOnlyMemory<float>)r).ToArray();

    private static double[] Weights(ReadOnlyMemory<float>[] histories, double kappa, float[]? reference = null)
    {
        int n = histories.Length;
        var cs = new double[n * n];
        FoolsGold.CosineSimilarities(histories, reference ?? ReadOnlySpan<float>.Empty, cs);
        var w = new double[n];
        FoolsGold.Weights(cs, n, w, kappa);
        return w;
    }

    [Fact]
    public void Cosine_similarities_are_those_of_the_centered_histories()
    {
        var h = Rows([1, 0, 0], [0.8f, 0.6f, 0], [0, 1, 0.2f], [0.1f, 0.2f, 1]);
        var cs = new double[16];
        FoolsGold.CosineSimilarities(h, ReadOnlySpan<float>.Empty, cs);
        double n2 = Math.Sqrt(1.04), n3 = Math.Sqrt(1.05);
        Assert.Equal(0.8, cs[0 * 4 + 1], 6);
        Assert.Equal(0, cs[0 * 4 + 2], 6);
        Assert.Equal(0.1 / n3, cs[0 * 4 + 3], 6);
        Assert.Equal(0.6 / n2, cs[1 * 4 + 2], 6);
        Assert.Equal((0.08 + 0.12) / n3, cs[1 * 4 + 3], 6);
        Assert.Equal((0.2 + 0.2) / (n2 * n3), cs[2 * 4 + 3], 6);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(1, cs[i * 4 + i]);
            for (int j = 0; j < 4; j++) Assert.Equal(cs[i * 4 + j], cs[j * 4 + i]);
        }

        // Histories given as models h + θ₀ with the reference θ₀ give the same similarities.
        float[] theta0 = [5, -3, 2];
        var shifted = h.Select(r => (ReadOnlyMemory<float>)r.ToArray().Select((x, k) => x + theta0[k]).ToArray()).ToArray();
        var cs2 = new double[16];
        FoolsGold.CosineSimilarities(shifted, theta0, cs2);
        for (int k = 0; k < 16; k++) Assert.Equal(cs[k], cs2[k], 5);

        // A zero history is dissimilar to everything.
        var z = new double[4];
        FoolsGold.CosineSimilarities(Rows([0, 0], [1, 2]), ReadOnlySpan<float>.Empty, z);
        Assert.Equal(new double[] { 1, 0, 0, 1 }, z);
    }

    [Fact]
    public void Weights_follow_the_hand_computation()
    {
        // cs01 = 0.8, cs02 = 0, cs03 = a, cs12 = b, cs13 = c, cs23 = e (see the test above).
        double a = 0.1 / Math.Sqrt(1.05), b = 0.6 / Math.Sqrt(1.04), c = 0.2 / Math.Sqrt(1.05), e = 0.4 / Math.Sqrt(1.04 * 1.05);
        // v = (0.8, 0.8, b, e). Pardoning: row 2 (b < 0.8): cs20 = 0, cs21 = b·b/0.8, cs23 = e stays (e < b);
        // row 3 (e smallest): cs30 = a·e/0.8, cs31 = c·e/0.8, cs32 = e·e/b. Rows 0 and 1 keep max 0.8.
        double w0 = 1 - 0.8, w1 = 1 - 0.8, w2 = 1 - Math.Max(b * b / 0.8, e), w3 = 1 - Math.Max(Math.Max(a * e / 0.8, c * e / 0.8), e * e / b);
        Assert.True(w3 > w2 && w2 > w0); // node 3 is the most distinct
        double top = w3;
        double Logit(double w, double kappa) => Math.Clamp(kappa * (Math.Log(w / (1 - w)) + 0.5), 0, 1);
        var h = Rows([1, 0, 0], [0.8f, 0.6f, 0], [0, 1, 0.2f], [0.1f, 0.2f, 1]);
        foreach (double kappa in new[] { 0.5, 1.0, 0.2 })
        {
            var w = Weights(h, kappa);
            double[] expected = [Logit(w0 / top, kappa), Logit(w1 / top, kappa), Logit(w2 / top, kappa), Logit(0.99, kappa)];
            for (int i = 0; i < 4; i++) Assert.Equal(expected[i], w[i], 5);
        }
        // κ = 0.5 puts node 2 strictly inside (0, 1): 0.5·(ln(w2n/(1 − w2n)) + 0.5) ≈ 0.8139.
        Assert.Equal(0.8139, Weights(h, 0.5)[2], 3);
        Assert.Equal(0, Weights(h, 0.5)[0]);
        Assert.Equal(0.1 * (Math.Log(99) + 0.5), Weights(h, 0.1)[3], 6);
    }

    [Fact]
    public void Identical_sybil_histories_get_zero_weight_distinct_honest_ones_high()
    {
        // Two Sybils with (nearly) the same history, two honest peers with distinct histories.
        var h = Rows([1, 2, 3], [1, 2, 3.0001f], [3, -1, 0.5f], [-1, 0.5f, 2]);
        var w = Weights(h, 1);
        Assert.True(w[0] < 1e-9 && w[1] < 1e-9, $"Sybil weights {w[0]}, {w[1]}");
        Assert.Equal(1, w[2]);
        Assert.InRange(w[3], 0.5, 1);

        // Orthogonal histories: nobody resembles anybody, everybody keeps weight 1.
        Assert.All(Weights(Rows([1, 0, 0], [0, 1, 0], [0, 0, 1]), 1), x => Assert.Equal(1, x));
        // Only Sybils: all weights 0 (the maximum of 1 − max cs is 0).
        Assert.All(Weights(Rows([1, 1], [1, 1], [2, 2]), 1), x => Assert.Equal(0, x));
        // A single known peer keeps weight 1.
        Assert.Equal(1, Weights(Rows([1, 2]), 1)[0]);
    }

    [Fact]
    public void Pardoning_spares_an_honest_peer_resembling_a_sybil()
    {
        // Sybils 0 and 1 (cs = 0.99), honest 2 with cs 0.6 to both Sybils, honest 3 orthogonal-ish.
        // Without pardoning w2 = 1 − 0.6 = 0.4; with it cs2j = 0.6·0.6/0.99 ⇒ w2 = 1 − 0.3636 = 0.636.
        double[] cs =
        [
            1, 0.99, 0.6, 0,
            0.99, 1, 0.6, 0,
            0.6, 0.6, 1, 0.1,
            0, 0, 0.1, 1,
        ];
        var w = new double[4];
        FoolsGold.Weights(cs, 4, w, 1);
        // Row maxima after pardoning: 0.99, 0.99, 0.36/0.99, 0.1·(0.1/0.6) ⇒ w = 0.01, 0.01, 0.63636, 0.98333.
        double top = 1 - 0.1 * 0.1 / 0.6;
        double Logit(double x) => Math.Clamp(Math.Log(x / (1 - x)) + 0.5, 0, 1);
        Assert.Equal(Logit(0.01 / top), w[0], 9);
        Assert.Equal(0, w[0]);
        Assert.Equal(Logit((1 - 0.36 / 0.99) / top), w[2], 9);
        Assert.Equal(1, w[2]);
        Assert.Equal(1, w[3]);
    }

    [Fact]
    public void Weights_validate_their_inputs()
    {
        var w = new double[2];
        Assert.Throws<ArgumentOutOfRangeException>(() => FoolsGold.Weights(new double[4], 0, w));
        Assert.Throws<ArgumentOutOfRangeException>(() => FoolsGold.Weights(new double[4], 2, w, kappa: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FoolsGold.Weights(new double[4], 2, w, cap: 1));
        Assert.Throws<ArgumentException>(() => FoolsGold.Weights(new double[3], 2, w));
        Assert.Throws<ArgumentException>(() => FoolsGold.Weights(new double[] { 1, 2, 0, 1 }, 2, w));
        Assert.Throws<ArgumentException>(() => FoolsGold.CosineSimilarities(Rows([1, 2], [1]), ReadOnlySpan<float>.Empty, new double[4]));
        Assert.Throws<ArgumentException>(() => FoolsGold.CosineSimilarities(Rows([1, 2]), new float[3], new double[1]));
    }
}
