using Flock.Topology;
using Flock.Topology.Generators;

namespace Flock.Tests.Topology;

public class MixingMatrixTests
{
    public static IEnumerable<object[]> Graphs() =>
    [
        [new Ring(1).Generate(10, 0)],
        [new Ring(3).Generate(15, 0)],
        [new Torus().Generate(20, 0)],
        [new Star().Generate(8, 0)],
        [new Complete().Generate(6, 0)],
        [new ErdosRenyi(0.2).Generate(40, 1)],
        [new BarabasiAlbert(2).Generate(50, 2)],
        [new WattsStrogatz(2, 0.4).Generate(30, 3)],
        [new KRegular(3).Generate(20, 4)],
        [new Exponential().Generate(12, 0)],
        [Graph.FromEdges(6, new[] { (0, 1), (1, 2), (3, 4) })], // disconnected, node 5 isolated
    ];

    [Theory]
    [MemberData(nameof(Graphs))]
    public void Metropolis_hastings_is_symmetric_doubly_stochastic_and_follows_the_formula(Graph g)
    {
        var w = MixingMatrix.MetropolisHastings(g);
        Assert.True(w.IsSymmetric());
        Assert.True(w.IsDoublyStochastic());
        var dense = w.ToDense();
        int n = g.NodeCount;
        for (int i = 0; i < n; i++)
        {
            double row = 0;
            for (int j = 0; j < n; j++)
            {
                double expected = i == j ? double.NaN : g.HasEdge(i, j) ? 1.0 / (1 + Math.Max(g.Degree(i), g.Degree(j))) : 0;
                if (i != j) Assert.Equal(expected, dense[i * n + j], 15);
                Assert.Equal(dense[i * n + j], w[i, j]);
                Assert.True(dense[i * n + j] >= 0);
                row += dense[i * n + j];
            }
            Assert.Equal(1, row, 12);
            Assert.True(w.SelfWeight(i) > 0);
        }
    }

    [Fact]
    public void Metropolis_hastings_on_a_path_by_hand()
    {
        // Path 0–1–2: degrees 1, 2, 1 ⇒ both edges 1/(1+2) = 1/3; diagonal 2/3, 1/3, 2/3.
        var w = MixingMatrix.MetropolisHastings(Graph.FromEdges(3, new[] { (0, 1), (1, 2) }));
        double t = 1.0 / 3;
        var expected = new[] { 2 * t, t, 0, t, t, t, 0, t, 2 * t };
        var d = w.ToDense();
        for (int i = 0; i < 9; i++) Assert.Equal(expected[i], d[i], 15);
        Assert.Equal(new[] { t, t }, w.NeighborWeights(1).ToArray());
    }

    [Fact]
    public void Uniform_and_max_degree_weights()
    {
        var k = MixingMatrix.Uniform(new Complete().Generate(5, 0));
        foreach (double x in k.ToDense()) Assert.Equal(0.2, x, 15);
        var ring = MixingMatrix.Uniform(new Ring(1).Generate(8, 0));
        Assert.Equal(1.0 / 3, ring.SelfWeight(4), 15);
        var e = Assert.Throws<ArgumentException>(() => MixingMatrix.Uniform(new Star().Generate(5, 0)));
        Assert.Contains("from 1 to 4", e.Message);
        // Star with max-degree weights: every edge 1/5, centre self weight 1 − 4/5, leaves 4/5.
        var star = MixingMatrix.MaxDegree(new Star().Generate(5, 0));
        Assert.Equal(0.2, star.SelfWeight(0), 15);
        Assert.Equal(0.8, star.SelfWeight(3), 15);
        Assert.True(star.IsDoublyStochastic());
    }

    [Fact]
    public void Missing_neighbours_move_their_weight_to_self_and_keep_the_matrix_doubly_stochastic()
    {
        var g = new BarabasiAlbert(2).Generate(30, 1);
        var w = MixingMatrix.MetropolisHastings(g);
        // Links that fail in both directions: every edge (u, v) with (u + v) % 3 == 0.
        int n = g.NodeCount;
        var applied = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            var nb = g.Neighbors(i);
            var arrived = new bool[nb.Length];
            for (int k = 0; k < nb.Length; k++) arrived[k] = (i + nb[k]) % 3 != 0;
            var weights = new double[nb.Length];
            double self = w.WeightsForPresent(i, arrived, weights);
            applied[i * n + i] = self;
            for (int k = 0; k < nb.Length; k++) applied[i * n + nb[k]] = weights[k];
            Assert.Equal(1, self + weights.Sum(), 14);
        }
        for (int i = 0; i < n; i++)
        {
            double col = 0;
            for (int j = 0; j < n; j++)
            {
                Assert.Equal(applied[i * n + j], applied[j * n + i], 15);
                col += applied[j * n + i];
            }
            Assert.Equal(1, col, 14);
        }
    }

    [Fact]
    public void Missing_neighbours_with_row_renormalisation_by_hand()
    {
        // Ring of 5, MH weights 1/3 everywhere; node 0's neighbours are [1, 4]; 4 is missing.
        var w = MixingMatrix.MetropolisHastings(new Ring(1).Generate(5, 0));
        var weights = new double[2];
        double self = w.WeightsForPresent(0, new[] { true, false }, weights, MissingNeighborPolicy.RenormalizeRow);
        Assert.Equal(0.5, self, 15);
        Assert.Equal(0.5, weights[0], 15);
        Assert.Equal(0.0, weights[1]);
        self = w.WeightsForPresent(0, new[] { true, false }, weights);
        Assert.Equal(2.0 / 3, self, 15);
        Assert.Equal(new[] { 1.0 / 3, 0.0 }, weights);
        Assert.Throws<ArgumentException>(() => w.WeightsForPresent(0, new[] { true }, weights));
    }

    [Fact]
    public void Gossip_preserves_the_average_and_contracts_by_the_spectral_gap()
    {
        var w = MixingMatrix.MetropolisHastings(new ErdosRenyi(0.15).Generate(50, 8));
        double rate = 1 - SpectralGap.Compute(w).Gap;
        var rng = new Flock.Tensors.Rng(2);
        var x = new double[50];
        for (int i = 0; i < 50; i++) x[i] = rng.NextGaussian();
        double mean = x.Average();
        double Disagreement(double[] v) => Math.Sqrt(v.Sum(t => (t - mean) * (t - mean)));
        double d0 = Disagreement(x);
        var y = new double[50];
        for (int t = 1; t <= 100; t++)
        {
            w.Apply(x, y);
            (x, y) = (y, x);
            Assert.True(Disagreement(x) <= Math.Pow(rate, t) * d0 * (1 + 1e-9), $"step {t}");
        }
        Assert.Equal(mean, x.Average(), 12);
        Assert.True(Disagreement(x) < 1e-3 * d0);
    }
}
