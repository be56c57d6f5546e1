using Flock.Tensors;
using Flock.Topology;
using Flock.Topology.Generators;

namespace Flock.Tests.Topology;

public class SpectralTests
{
    private static void AssertSpectrum(IEnumerable<double> expected, double[] actual, double tol = 1e-12)
    {
        var e = expected.OrderDescending().ToArray();
        Assert.Equal(e.Length, actual.Length);
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - actual[i]) <= tol, $"eigenvalue {i}: expected {e[i]}, got {actual[i]}");
    }

    private static double GapOf(IEnumerable<double> spectrum)
    {
        var s = spectrum.OrderDescending().ToArray();
        return 1 - Math.Max(Math.Abs(s[1]), Math.Abs(s[^1]));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(40)]
    public void Complete_graph_with_J_over_n_has_gap_1(int n)
    {
        var w = MixingMatrix.Uniform(new Complete().Generate(n, 0));
        AssertSpectrum(Enumerable.Repeat(0.0, n - 1).Prepend(1.0), SpectralGap.Eigenvalues(w));
        var r = SpectralGap.Compute(w);
        Assert.Equal(1, r.Gap, 12);
        Assert.Equal(SpectralMethod.Dense, r.Method);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(25)]
    [InlineData(100)]
    public void Ring_with_metropolis_hastings_weights(int n)
    {
        // All degrees 2 ⇒ W = (I + A)/3, circulant: λ_k = 1/3 + (2/3)·cos(2πk/n).
        var w = MixingMatrix.MetropolisHastings(new Ring(1).Generate(n, 0));
        var expected = Enumerable.Range(0, n).Select(k => 1.0 / 3 + 2.0 / 3 * Math.Cos(2 * Math.PI * k / n)).ToArray();
        AssertSpectrum(expected, SpectralGap.Eigenvalues(w));
        Assert.Equal(GapOf(expected), SpectralGap.Compute(w).Gap, 12);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(4, 6)]
    [InlineData(5, 7)]
    public void Torus_with_metropolis_hastings_weights(int rows, int cols)
    {
        // All degrees 4 ⇒ W = (I + A)/5: λ_ab = 1/5 + (2/5)(cos(2πa/rows) + cos(2πb/cols)).
        var w = MixingMatrix.MetropolisHastings(new Torus(rows, cols).Generate(rows * cols, 0));
        var expected = from a in Enumerable.Range(0, rows)
                       from b in Enumerable.Range(0, cols)
                       select 0.2 + 0.4 * (Math.Cos(2 * Math.PI * a / rows) + Math.Cos(2 * Math.PI * b / cols));
        AssertSpectrum(expected, SpectralGap.Eigenvalues(w));
        Assert.Equal(GapOf(expected), SpectralGap.Compute(w).Gap, 12);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(12)]
    [InlineData(37)]
    public void Exponential_graph_circulant_spectrum(int n)
    {
        // Regular of degree d ⇒ MH = (I + A)/(d+1); circulant over offsets S: λ_k = (1 + Σ_s cos(2πks/n))/(d+1).
        var s = Exponential.Offsets(n);
        var w = MixingMatrix.MetropolisHastings(new Exponential().Generate(n, 0));
        var expected = Enumerable.Range(0, n).Select(k => (1 + s.Sum(o => Math.Cos(2 * Math.PI * k * o / n))) / (s.Length + 1));
        AssertSpectrum(expected, SpectralGap.Eigenvalues(w));
    }

    [Fact]
    public void Star_and_path_closed_forms()
    {
        // Star with MH weights: W = I − L/n, L's spectrum {0, 1 (n−2 times), n} ⇒ {1, 1 − 1/n, 0}; gap 1/n.
        int n = 9;
        var star = MixingMatrix.MetropolisHastings(new Star().Generate(n, 0));
        AssertSpectrum(new[] { 1.0, 0.0 }.Concat(Enumerable.Repeat(1 - 1.0 / n, n - 2)), SpectralGap.Eigenvalues(star));
        Assert.Equal(1.0 / n, SpectralGap.Compute(star).Gap, 12);
        // Path with MH weights: all edges 1/3, ends keep 2/3 ⇒ λ_k = 1/3 + (2/3)cos(πk/n).
        int m = 11;
        var path = MixingMatrix.MetropolisHastings(Graph.FromEdges(m, Enumerable.Range(0, m - 1).Select(i => (i, i + 1))));
        AssertSpectrum(Enumerable.Range(0, m).Select(k => 1.0 / 3 + 2.0 / 3 * Math.Cos(Math.PI * k / m)), SpectralGap.Eigenvalues(path));
    }

    [Fact]
    public void Disconnected_graph_has_gap_zero()
    {
        var w = MixingMatrix.MetropolisHastings(Graph.FromEdges(6, new[] { (0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3) }));
        var r = SpectralGap.Compute(w);
        Assert.Equal(0, r.Gap, 12);
        Assert.Equal(1, r.Lambda2, 12);
    }

    private static double[] RandomSymmetric(int n, ulong seed)
    {
        var rng = new Rng(seed);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                a[i * n + j] = a[j * n + i] = rng.NextGaussian();
        return a;
    }

    private static double[] Multiply(double[] a, double[] b, int n)
    {
        var c = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++)
                for (int j = 0; j < n; j++)
                    c[i * n + j] += a[i * n + k] * b[k * n + j];
        return c;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    [InlineData(9)]
    public void Random_symmetric_matrix_power_sums_match_traces(int n)
    {
        // trace(Aᵏ) = Σ λᵢᵏ for k = 1…n determines the eigenvalues completely (Newton's identities).
        var a = RandomSymmetric(n, (ulong)n);
        var ev = SymmetricEigen.Eigenvalues(a, n);
        for (int i = 1; i < n; i++) Assert.True(ev[i - 1] >= ev[i]);
        var power = a;
        for (int k = 1; k <= n; k++)
        {
            double trace = 0;
            for (int i = 0; i < n; i++) trace += power[i * n + i];
            double sum = ev.Sum(l => Math.Pow(l, k));
            Assert.True(Math.Abs(trace - sum) <= 1e-10 * Math.Max(1, Math.Abs(trace)), $"k={k}: trace {trace}, Σλ^k {sum}");
            power = Multiply(power, a, n);
        }
    }

    [Fact]
    public void Larger_random_matrix_trace_and_frobenius_norm()
    {
        const int n = 300;
        var a = RandomSymmetric(n, 77);
        var ev = SymmetricEigen.Eigenvalues(a, n);
        double trace = Enumerable.Range(0, n).Sum(i => a[i * n + i]);
        double frob = a.Sum(x => x * x);
        Assert.Equal(trace, ev.Sum(), 9);
        Assert.Equal(frob, ev.Sum(l => l * l), 8);
        // Wigner semicircle: the extremes are near ±2√n ≈ ±34.6.
        Assert.InRange(ev[0], 30, 38);
        Assert.InRange(ev[^1], -38, -30);
    }

    [Fact]
    public void Known_small_matrices()
    {
        // [[2, 1], [1, 2]] → 3, 1; a diagonal matrix; a matrix with repeated eigenvalues (J_4 → 4, 0, 0, 0).
        AssertSpectrum(new[] { 3.0, 1.0 }, SymmetricEigen.Eigenvalues(new[] { 2.0, 1, 1, 2 }, 2));
        AssertSpectrum(new[] { -1.0, 5, 2 }, SymmetricEigen.Eigenvalues(new[] { 5.0, 0, 0, 0, -1, 0, 0, 0, 2 }, 3));
        AssertSpectrum(new[] { 4.0, 0, 0, 0 }, SymmetricEigen.Eigenvalues(Enumerable.Repeat(1.0, 16).ToArray(), 4));
        AssertSpectrum(new[] { 3.0, 1.0, 2.0 }, SymmetricEigen.TridiagonalEigenvalues(new[] { 2.0, 2, 2 }, new[] { Math.Sqrt(0.5), Math.Sqrt(0.5) }));
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Eigenvalues(new double[5], 2));
    }

    [Theory]
    [InlineData("er")]
    [InlineData("ba")]
    [InlineData("torus")]
    [InlineData("exp")]
    public void Lanczos_agrees_with_dense(string kind)
    {
        var g = kind switch
        {
            "er" => new ErdosRenyi(0.05).Generate(300, 1),
            "ba" => new BarabasiAlbert(2).Generate(400, 2),
            "torus" => new Torus(12, 15).Generate(180, 0),
            _ => new Exponential().Generate(256, 0),
        };
        var w = MixingMatrix.MetropolisHastings(g);
        var dense = SpectralGap.Compute(w, SpectralMethod.Dense);
        var lanczos = SpectralGap.Compute(w, SpectralMethod.Lanczos);
        Assert.True(lanczos.Converged);
        Assert.Equal(SpectralMethod.Lanczos, lanczos.Method);
        Assert.Equal(dense.Gap, lanczos.Gap, 7);
        Assert.Equal(dense.Lambda2, lanczos.Lambda2, 7);
        Assert.Equal(dense.LambdaMin, lanczos.LambdaMin, 7);
    }

    [Fact]
    public void Slow_lanczos_reports_non_convergence_and_auto_falls_back_to_dense()
    {
        const int n = 1100; // above DenseLimit: Auto tries Lanczos first
        var w = MixingMatrix.MetropolisHastings(new Ring(1).Generate(n, 0));
        double exact = 2.0 / 3 * (1 - Math.Cos(2 * Math.PI / n));
        var quick = SpectralGap.Compute(w, SpectralMethod.Lanczos, maxIterations: 40);
        Assert.False(quick.Converged);
        Assert.Equal(40, quick.Iterations);
        Assert.True(quick.Gap > exact); // Ritz values lie inside the spectrum: the gap is overestimated
        var auto = SpectralGap.Compute(w, maxIterations: 40);
        Assert.Equal(SpectralMethod.Dense, auto.Method);
        Assert.Equal(exact, auto.Gap, 12);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var w = MixingMatrix.MetropolisHastings(new Ring(1).Generate(5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpectralGap.Compute(w, maxIterations: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpectralGap.Compute(w, tolerance: 0));
        Assert.Equal(1, SpectralGap.Compute(MixingMatrix.MetropolisHastings(Graph.FromEdges(1, Array.Empty<(int, int)>()))).Gap);
    }
}

public class SpectralGoldenTests
{
    [Fact]
    public void Metropolis_hastings_spectrum_matches_numpy()
    {
        // Golden values from bench/reference/topology_spectrum.py (numpy.linalg.eigvalsh).
        string dir = Path.Combine(AppContext.BaseDirectory, "TestData", "Topology");
        var g = EdgeListFile.Read(Path.Combine(dir, "random60.edges"));
        Assert.Equal(60, g.NodeCount);
        Assert.Equal(148, g.EdgeCount);
        var expected = File.ReadLines(Path.Combine(dir, "random60.mh-eigenvalues.txt"))
            .Where(l => !l.StartsWith('#')).Select(l => double.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var w = MixingMatrix.MetropolisHastings(g);
        var actual = SpectralGap.Eigenvalues(w);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 12);
        Assert.Equal(1 - Math.Max(Math.Abs(expected[1]), Math.Abs(expected[^1])), SpectralGap.Compute(w).Gap, 12);
        Assert.Equal(1 - Math.Max(Math.Abs(expected[1]), Math.Abs(expected[^1])), SpectralGap.Compute(w, SpectralMethod.Lanczos).Gap, 8);
    }
}
