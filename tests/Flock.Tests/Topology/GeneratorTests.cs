using Flock.Topology;
using Flock.Topology.Generators;

namespace Flock.Tests.Topology;

public class GeneratorTests
{
    [Theory]
    [InlineData(10, 1)]
    [InlineData(10, 2)]
    [InlineData(7, 3)]
    [InlineData(31, 4)]
    public void Ring_links_k_nearest_on_each_side(int n, int k)
    {
        var g = new Ring(k).Generate(n, 0);
        Assert.Equal(n * k, g.EdgeCount);
        Assert.True(g.IsConnected);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(2 * k, g.Degree(i));
            var expected = Enumerable.Range(1, k).SelectMany(j => new[] { (i + j) % n, (i - j + n) % n }).Order().ToArray();
            Assert.Equal(expected, g.Neighbors(i).ToArray());
        }
    }

    [Fact]
    public void Ring_rejects_too_few_nodes_and_bad_k()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Ring(2).Generate(4, 0));
        Assert.Contains("2k+1 = 5", e.Message);
        var k = Assert.Throws<ArgumentOutOfRangeException>(() => new Ring(0));
        Assert.Contains("Invalid k for ring: 0", k.Message);
    }

    [Theory]
    [InlineData(4, 5)]
    [InlineData(3, 3)]
    [InlineData(6, 7)]
    public void Torus_has_degree_4_and_grid_neighbours(int rows, int cols)
    {
        int n = rows * cols;
        var g = new Torus(rows, cols).Generate(n, 0);
        Assert.Equal(2 * n, g.EdgeCount);
        Assert.True(g.IsConnected);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                Assert.Equal(4, g.Degree(i));
                Assert.True(g.HasEdge(i, r * cols + (c + 1) % cols));
                Assert.True(g.HasEdge(i, r * cols + (c + cols - 1) % cols));
                Assert.True(g.HasEdge(i, (r + 1) % rows * cols + c));
                Assert.True(g.HasEdge(i, (r + rows - 1) % rows * cols + c));
            }
    }

    [Fact]
    public void Torus_shape_is_near_square_or_fails_clearly()
    {
        Assert.Equal((6, 6), new Torus().Shape(36));
        Assert.Equal((4, 6), new Torus().Shape(24));
        Assert.Equal((3, 7), new Torus().Shape(21));
        Assert.Equal((5, 4), new Torus(rows: 5).Shape(20));
        Assert.Equal((4, 5), new Torus(cols: 5).Shape(20));
        var prime = Assert.Throws<ArgumentOutOfRangeException>(() => new Torus().Generate(14, 0));
        Assert.Contains("14 cannot be written as rows×cols", prime.Message);
        Assert.Contains("12 or 15", prime.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Torus().Generate(8, 0));
        var mismatch = Assert.Throws<ArgumentOutOfRangeException>(() => new Torus(4, 5).Generate(21, 0));
        Assert.Contains("rows·cols = 20", mismatch.Message);
        var side = Assert.Throws<ArgumentOutOfRangeException>(() => new Torus(rows: 2));
        Assert.Contains("Invalid torus rows: 2", side.Message);
    }

    [Fact]
    public void Complete_and_star()
    {
        var k = new Complete().Generate(9, 0);
        Assert.Equal(36, k.EdgeCount);
        Assert.True(k.IsRegular);
        Assert.Equal(8, k.Degrees.Min);
        var s = new Star().Generate(9, 0);
        Assert.Equal(8, s.EdgeCount);
        Assert.Equal(8, s.Degree(0));
        for (int i = 1; i < 9; i++) Assert.Equal(new[] { 0 }, s.Neighbors(i).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Star().Generate(1, 0));
    }

    [Fact]
    public void Erdos_renyi_is_connected_deterministic_and_has_the_right_density()
    {
        var gen = new ErdosRenyi(0.1);
        var a = gen.Generate(200, 42);
        Assert.True(a.IsConnected);
        Assert.Equal(a, gen.Generate(200, 42));
        Assert.NotEqual(a, gen.Generate(200, 43));
        // Mean edge count over 20 samples: expected p·n(n−1)/2 = 1990, sd of the mean ≈ 42/√20 ≈ 9.5.
        double mean = Enumerable.Range(0, 20).Average(s => gen.Generate(200, (ulong)s).EdgeCount);
        Assert.InRange(mean, 1990 - 50, 1990 + 50);
        // Degrees are Binomial(199, 0.1): pooled mean 19.9.
        Assert.InRange(a.Degrees.Mean, 19.9 - 2, 19.9 + 2);
        Assert.Equal(new Complete().Generate(12, 0), new ErdosRenyi(1).Generate(12, 5));
    }

    [Fact]
    public void Erdos_renyi_pair_probability_is_uniform()
    {
        // Each of the 6 pairs of 4 nodes is present with probability p = 0.5 (no connectivity filter: Sample directly).
        var counts = new int[4, 4];
        var rng = new Flock.Tensors.Rng(1);
        var edges = new List<(int, int)>();
        const int trials = 20000;
        for (int t = 0; t < trials; t++)
        {
            edges.Clear();
            ErdosRenyi.Sample(4, 0.5, rng, edges);
            foreach (var (u, v) in edges) counts[Math.Min(u, v), Math.Max(u, v)]++;
        }
        for (int u = 0; u < 4; u++)
            for (int v = u + 1; v < 4; v++)
                Assert.InRange(counts[u, v] / (double)trials, 0.5 - 0.015, 0.5 + 0.015); // sd 0.0035
    }

    [Fact]
    public void Erdos_renyi_failure_suggests_a_larger_p()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new ErdosRenyi(0.001, maxAttempts: 5).Generate(100, 1));
        Assert.Contains("ln(n)/n = 0.04605", e.Message);
        Assert.Contains("5 samples", e.Message);
        var p = Assert.Throws<ArgumentOutOfRangeException>(() => new ErdosRenyi(1.5));
        Assert.Contains("1.5", p.Message);
        Assert.Contains("(0, 1]", p.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ErdosRenyi(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ErdosRenyi(0.5, maxAttempts: 0));
    }

    [Theory]
    [InlineData(1, 50)]
    [InlineData(2, 50)]
    [InlineData(3, 100)]
    [InlineData(5, 6)]
    public void Barabasi_albert_has_m_times_n_minus_m_edges(int m, int n)
    {
        var gen = new BarabasiAlbert(m);
        var g = gen.Generate(n, 7);
        Assert.Equal(m * (n - m), g.EdgeCount);
        Assert.True(g.IsConnected);
        Assert.Equal(m, g.Degree(0) - Enumerable.Range(m + 1, n - m - 1).Count(j => g.HasEdge(0, j))); // the star centre
        for (int j = m + 1; j < n; j++) Assert.True(g.Degree(j) >= m);
        // Node j ≥ m+1 attaches to m earlier nodes.
        for (int j = m + 1; j < n; j++)
            Assert.Equal(m, g.Neighbors(j).ToArray().Count(x => x < j));
        Assert.Equal(g, gen.Generate(n, 7));
    }

    [Fact]
    public void Barabasi_albert_prefers_high_degree_nodes()
    {
        // Preferential attachment gives a heavy tail: the max degree of BA(n=2000, m=2) is far above an
        // Erdős–Rényi graph's of the same mean degree (≈ 4, max ≈ 12); theory ~ m·√n ≈ 90.
        var g = new BarabasiAlbert(2).Generate(2000, 3);
        Assert.True(g.Degrees.Max > 40, $"max degree {g.Degrees.Max}");
        Assert.Throws<ArgumentOutOfRangeException>(() => new BarabasiAlbert(3).Generate(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BarabasiAlbert(0));
    }

    [Theory]
    [InlineData(10, 3)]
    [InlineData(20, 4)]
    [InlineData(200, 5)]
    [InlineData(12, 8)]  // dense: complement of a random 3-regular graph
    [InlineData(11, 10)] // complete
    [InlineData(2, 1)]
    [InlineData(64, 31)]
    public void K_regular_is_regular_and_connected(int n, int k)
    {
        var gen = new KRegular(k);
        var g = gen.Generate(n, 11);
        Assert.True(g.IsConnected);
        for (int i = 0; i < n; i++) Assert.Equal(k, g.Degree(i));
        Assert.Equal(n * k / 2, g.EdgeCount);
        Assert.Equal(g, gen.Generate(n, 11));
    }

    [Fact]
    public void K_regular_samples_vary_with_the_seed()
    {
        var gen = new KRegular(3);
        var graphs = Enumerable.Range(0, 10).Select(s => gen.Generate(30, (ulong)s)).ToArray();
        Assert.True(graphs.Distinct().Count() >= 9);
    }

    [Fact]
    public void K_regular_rejects_impossible_parameters()
    {
        var odd = Assert.Throws<ArgumentOutOfRangeException>(() => new KRegular(3).Generate(11, 0));
        Assert.Contains("n·k = 33 must be even", odd.Message);
        var big = Assert.Throws<ArgumentOutOfRangeException>(() => new KRegular(5).Generate(5, 0));
        Assert.Contains("must be > k", big.Message);
        var one = Assert.Throws<ArgumentOutOfRangeException>(() => new KRegular(1).Generate(10, 0));
        Assert.Contains("perfect matching", one.Message);
    }

    [Theory]
    [InlineData(16, new[] { 1, 2, 4, 8, 12, 14, 15 })]
    [InlineData(6, new[] { 1, 2, 4, 5 })]
    [InlineData(12, new[] { 1, 2, 4, 8, 10, 11 })]
    [InlineData(2, new[] { 1 })]
    [InlineData(3, new[] { 1, 2 })]
    public void Exponential_links_i_to_i_plus_minus_powers_of_two(int n, int[] offsets)
    {
        Assert.Equal(offsets, Exponential.Offsets(n));
        var g = new Exponential().Generate(n, 0);
        Assert.True(g.IsConnected);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(offsets.Length, g.Degree(i));
            Assert.Equal(offsets.Select(s => (i + s) % n).Order().ToArray(), g.Neighbors(i).ToArray());
        }
    }

    [Fact]
    public void Exponential_degree_is_2log2n_minus_1_for_powers_of_two()
    {
        foreach (int t in new[] { 3, 5, 8, 10 })
            Assert.Equal(2 * t - 1, new Exponential().Generate(1 << t, 0).Degree(0));
    }

    [Fact]
    public void Watts_strogatz_beta_zero_is_the_ring_lattice()
    {
        Assert.Equal(new Ring(3).Generate(40, 0), new WattsStrogatz(3, 0).Generate(40, 9));
    }

    [Theory]
    [InlineData(60, 2, 0.2)]
    [InlineData(60, 3, 1.0)]
    [InlineData(9, 4, 0.5)] // complete lattice: nothing can be rewired
    public void Watts_strogatz_keeps_the_edge_count_and_connectivity(int n, int k, double beta)
    {
        var gen = new WattsStrogatz(k, beta);
        var g = gen.Generate(n, 5);
        Assert.Equal(n * k, g.EdgeCount);
        Assert.True(g.IsConnected);
        Assert.Equal(g, gen.Generate(n, 5));
        if (2 * k + 1 < n) Assert.NotEqual(new Ring(k).Generate(n, 0), g);
    }

    [Fact]
    public void Watts_strogatz_rewires_about_beta_of_the_edges()
    {
        // Each lattice edge is rewired with probability β (rewired edges almost never land back on the lattice).
        var ring = new Ring(2).Generate(1000, 0);
        var g = new WattsStrogatz(2, 0.3).Generate(1000, 1);
        int kept = g.Edges().Count(e => ring.HasEdge(e.U, e.V));
        double rewired = 1 - kept / 2000.0;
        Assert.InRange(rewired, 0.3 - 0.05, 0.3 + 0.05); // sd ≈ 0.01
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new WattsStrogatz(2, -0.1));
        Assert.Contains("-0.1", e.Message);
        Assert.Contains("[0, 1]", e.Message);
    }
}
