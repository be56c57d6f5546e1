using Flock.Aggregation;
using static Flock.Tests.Aggregation.AggregationTestData;

namespace Flock.Tests.Aggregation;

public class IterativeRuleTests
{
    private static double Objective(float[][] x, double[] v) =>
        x.Sum(r => Math.Sqrt(r.Select((a, c) => (a - v[c]) * (a - v[c])).Sum()));

    [Fact]
    public void Geometric_median_satisfies_the_optimality_condition()
    {
        foreach (var (n, d, seed) in new[] { (7, 5, 1UL), (12, 33, 2UL), (4, 2, 3UL) })
        {
            var x = Random(n, d, seed);
            var output = new float[d];
            new GeometricMedian(smoothing: 1e-9, maxIterations: 2000, tolerance: 0, startFromMedian: false).Aggregate(Rows(x), default, output);
            var v = output.Select(a => (double)a).ToArray();
            // Gradient Σ (v − xᵢ)/‖v − xᵢ‖ vanishes at the minimiser (v is not a data point for Gaussian data).
            var grad = new double[d];
            foreach (var r in x)
            {
                double dist = Math.Sqrt(r.Select((a, c) => (v[c] - a) * (v[c] - a)).Sum());
                for (int c = 0; c < d; c++) grad[c] += (v[c] - r[c]) / dist;
            }
            Assert.True(Math.Sqrt(grad.Sum(g => g * g)) < 1e-3 * n, $"n={n}: gradient norm {Math.Sqrt(grad.Sum(g => g * g))}");
            // Brute force: no nearby point along random and coordinate directions is better.
            double best = Objective(x, v);
            var rng = new Flock.Tensors.Rng(seed);
            for (int t = 0; t < 200; t++)
            {
                var u = new double[d];
                if (t < 2 * d) u[t / 2] = t % 2 == 0 ? 1 : -1;
                else for (int c = 0; c < d; c++) u[c] = rng.NextGaussian();
                double step = t % 3 == 0 ? 1e-2 : 1e-3;
                var p = v.Select((a, c) => a + step * u[c]).ToArray();
                Assert.True(Objective(x, p) >= best - 1e-6 * best, $"n={n}: a perturbed point is better");
            }
        }
    }

    [Fact]
    public void Geometric_median_iterations_from_the_median_and_the_mean_agree()
    {
        var x = Rows(Random(9, 20, 5));
        var a = Run(new GeometricMedian(smoothing: 1e-9, maxIterations: 2000, tolerance: 0), x);
        var b = Run(new GeometricMedian(smoothing: 1e-9, maxIterations: 2000, tolerance: 0, startFromMedian: false), x);
        AssertAllClose(a, b, 1e-4);
        // With weights: an input of weight 3 counts like three copies.
        var rows = Random(5, 6, 6);
        var weighted = Run(new GeometricMedian(smoothing: 1e-9, maxIterations: 3000, tolerance: 0, useWeights: true), Rows(rows), new[] { 3f, 1, 1, 1, 1 });
        var copies = Run(new GeometricMedian(smoothing: 1e-9, maxIterations: 3000, tolerance: 0), Rows(rows.Prepend(rows[0]).Prepend(rows[0]).ToArray()));
        AssertAllClose(copies, weighted, 1e-3);
    }

    [Fact]
    public void Centered_clipping_converges_to_its_fixed_point()
    {
        var rows = Random(10, 16, 7);
        for (int i = 7; i < 10; i++) for (int c = 0; c < 16; c++) rows[i][c] += 50; // three far inputs
        const float tau = 1f;
        var v = Run(new CenteredClipping(tau, 300), Rows(rows));
        // Fixed point: Σ (xᵢ − v)·min(1, τ/‖xᵢ − v‖) = 0.
        var sum = new double[16];
        foreach (var r in rows)
        {
            double dist = Math.Sqrt(r.Select((a, c) => ((double)a - v[c]) * (a - v[c])).Sum());
            double s = Math.Min(1, tau / dist);
            for (int c = 0; c < 16; c++) sum[c] += (r[c] - v[c]) * s;
        }
        Assert.True(Math.Sqrt(sum.Sum(g => g * g)) < 1e-4, $"residual {Math.Sqrt(sum.Sum(g => g * g))}");
        // Another iteration from the fixed point does not move it.
        var again = new float[16];
        new CenteredClipping(tau, 1).Aggregate(Rows(rows), default, again, v);
        AssertAllClose(v, again, 1e-5);
    }

    [Fact]
    public void Vector_widths_agree_for_the_iterative_and_pairwise_rules()
    {
        var x = Rows(Random(13, 101, 8));
        foreach (var w in Widths)
        {
            void Check(string what, Action<float[]> scalar, Action<float[]> vector)
            {
                var a = new float[101];
                var b = new float[101];
                scalar(a);
                vector(b);
                AssertAllClose(a, b, 1e-4, $"{what} {w}");
            }
            Check("gm", o => new GeometricMedian().Aggregate(x, default, o, Flock.Aggregation.Kernels.SimdWidth.Scalar), o => new GeometricMedian().Aggregate(x, default, o, w));
            Check("cc", o => new CenteredClipping(0.5f, 3).Run(x, default, o, default, false, Flock.Aggregation.Kernels.SimdWidth.Scalar), o => new CenteredClipping(0.5f, 3).Run(x, default, o, default, false, w));
            Check("krum", o => new Krum(3).Aggregate(x, default, o, Flock.Aggregation.Kernels.SimdWidth.Scalar), o => new Krum(3).Aggregate(x, default, o, w));
            Check("bulyan", o => new Bulyan(2).Aggregate(x, default, o, Flock.Aggregation.Kernels.SimdWidth.Scalar), o => new Bulyan(2).Aggregate(x, default, o, w));
            Check("flag", o => new FlagAggregator(2).Aggregate(x, default, o, Flock.Aggregation.Kernels.SimdWidth.Scalar), o => new FlagAggregator(2).Aggregate(x, default, o, w));
            Check("mm", o => new MultiMetrics().Aggregate(x, default, o, Flock.Aggregation.Kernels.SimdWidth.Scalar), o => new MultiMetrics().Aggregate(x, default, o, w));
        }
    }
}
