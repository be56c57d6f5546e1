using Flock.Data;
using Flock.Data.Synthetic;
using Flock.Tensors;

namespace Flock.Tests.Data;

public class SyntheticTests
{
    [Fact]
    public void Gaussian_mixture_means_are_exactly_separated_and_labels_balanced()
    {
        var g = GaussianMixtureData.Generate(new GaussianMixtureOptions { Classes = 4, Dimensions = 6, TrainCount = 4002, TestCount = 10, Separation = 5, Seed = 3 });
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < a; b++)
            {
                double d2 = 0;
                for (int j = 0; j < 6; j++) { double e = g.Means[a * 6 + j] - g.Means[b * 6 + j]; d2 += e * e; }
                Assert.Equal(5.0, Math.Sqrt(d2), 5);
            }
        var h = g.Train.All().LabelHistogram();
        Assert.Equal(new[] { 1001, 1001, 1000, 1000 }, h);
        Assert.Equal(new TensorShape(6), g.Train.ExampleShape);
        Assert.Equal(10, g.Test.Count);

        // Empirical class means are within a few standard errors of the true means (std error 1/√1000 ≈ 0.032).
        var sums = new double[4 * 6];
        for (int i = 0; i < g.Train.Count; i++)
            for (int j = 0; j < 6; j++) sums[g.Train.Labels![i] * 6 + j] += g.Train.Features[i * 6 + j];
        for (int c = 0; c < 4; c++)
            for (int j = 0; j < 6; j++) Assert.InRange(sums[c * 6 + j] / h[c] - g.Means[c * 6 + j], -0.15, 0.15);
    }

    private static double NearestMeanAccuracy(GaussianMixtureData g)
    {
        int k = g.Options.Classes, d = g.Options.Dimensions, right = 0;
        for (int i = 0; i < g.Test.Count; i++)
        {
            var x = g.Test.Example(i);
            int best = 0;
            double bestD = double.MaxValue;
            for (int c = 0; c < k; c++)
            {
                double s = 0;
                for (int j = 0; j < d; j++) { double e = x[j] - g.Means[c * d + j]; s += e * e; }
                if (s < bestD) { bestD = s; best = c; }
            }
            if (best == g.Test.Labels![i]) right++;
        }
        return (double)right / g.Test.Count;
    }

    [Fact]
    public void Gaussian_mixture_separation_controls_difficulty()
    {
        double Acc(double sep) => NearestMeanAccuracy(GaussianMixtureData.Generate(new GaussianMixtureOptions { Classes = 5, Dimensions = 10, TestCount = 2000, Separation = sep, Seed = 1 }));
        double easy = Acc(8), hard = Acc(0.5);
        Assert.True(easy > 0.99, $"separation 8: {easy}");
        Assert.InRange(hard, 0.2, 0.45);
    }

    [Fact]
    public void Gaussian_mixture_is_deterministic_and_validates()
    {
        var o = new GaussianMixtureOptions { Classes = 3, Dimensions = 2, TrainCount = 50, TestCount = 5, Seed = 9 };
        var a = GaussianMixtureData.Generate(o);
        var b = GaussianMixtureData.Generate(o);
        Assert.Equal(a.Train.Features, b.Train.Features);
        Assert.Equal(a.Test.Labels, b.Test.Labels);
        Assert.NotEqual(a.Train.Features, GaussianMixtureData.Generate(o with { Seed = 10 }).Train.Features);
        Assert.Contains("classes: 1", Assert.Throws<ArgumentException>(() => GaussianMixtureData.Generate(o with { Classes = 1 })).Message);
        Assert.Contains("separation: -1", Assert.Throws<ArgumentException>(() => GaussianMixtureData.Generate(o with { Separation = -1 })).Message);
        Assert.Contains("std: 0", Assert.Throws<ArgumentException>(() => GaussianMixtureData.Generate(o with { NoiseStd = 0 })).Message);
        Assert.Contains("TrainCount: 0", Assert.Throws<ArgumentException>(() => GaussianMixtureData.Generate(o with { TrainCount = 0 })).Message);
    }

    [Fact]
    public void Least_squares_solves_hand_made_problems()
    {
        // y = 2x exactly (no intercept): w = 2.
        var ds = Dataset.Regression("line", [1, 2, 3], new TensorShape(1), [2, 4, 6], 1);
        Assert.Equal(2.0, LeastSquares.Solve(ds.All())[0], 12);
        // (0,1), (1,3), (2,5): w = 2, b = 1.
        var ds2 = Dataset.Regression("affine", [0, 1, 2], new TensorShape(1), [1, 3, 5], 1);
        var wb = LeastSquares.Solve(ds2.All(), intercept: true);
        Assert.Equal(2.0, wb[0], 12);
        Assert.Equal(1.0, wb[1], 12);
        // Without intercept on the same points: w = Σxy / Σx² = 13 / 5.
        Assert.Equal(13.0 / 5, LeastSquares.Solve(ds2.All())[0], 12);
        // Ridge: (Σx²/n + λ) w = Σxy/n → (5/3 + 1) w = 13/3 → w = 13/8.
        Assert.Equal(13.0 / 8, LeastSquares.Solve(ds2.All(), l2: 1)[0], 12);
        // Objective at w = 2 on "line" is 0; at w = 0 it is (4 + 16 + 36) / 6.
        Assert.Equal(0, LeastSquares.Objective(ds.All(), [2.0]), 12);
        Assert.Equal(56.0 / 6, LeastSquares.Objective(ds.All(), [0.0]), 12);
        // Ridge objective at w = 1, λ = 3: (1 + 4 + 9) / 6 + 3/2 · 1².
        Assert.Equal(14.0 / 6 + 1.5, LeastSquares.Objective(ds.All(), [1.0], l2: 3), 12);
    }

    [Fact]
    public void Least_squares_rejects_singular_and_wrong_data()
    {
        var dup = Dataset.Regression("dup", [1, 1, 2, 2], new TensorShape(2), [1, 2], 1); // identical columns
        Assert.Contains("singular", Assert.Throws<InvalidOperationException>(() => LeastSquares.Solve(dup.All())).Message);
        var w = LeastSquares.Solve(dup.All(), l2: 0.1); // ridge makes it solvable
        Assert.Equal(w[0], w[1], 10);
        var cls = Dataset.Classification("c", new float[4], new TensorShape(2), [0, 1], 2);
        Assert.Throws<ArgumentException>(() => LeastSquares.Solve(cls.All()));
        Assert.Contains("l2 coefficient: -1", Assert.Throws<ArgumentException>(() => LeastSquares.Solve(dup.All(), l2: -1)).Message);
    }

    /// <summary>Gradient of (1/2n)‖Xw + b − y‖² + (λ/2)‖w‖², computed directly.</summary>
    private static double[] Gradient(DatasetView v, double[] w, double l2, bool intercept)
    {
        int d = v.Dataset.FeatureSize;
        var g = new double[w.Length];
        foreach (int i in v.Indices)
        {
            var x = v.Dataset.Example(i);
            double r = intercept ? w[d] : 0;
            for (int j = 0; j < d; j++) r += x[j] * w[j];
            r -= v.Dataset.Targets![i];
            for (int j = 0; j < d; j++) g[j] += r * x[j] / v.Count;
            if (intercept) g[d] += r / v.Count;
        }
        for (int j = 0; j < d; j++) g[j] += l2 * w[j];
        return g;
    }

    [Fact]
    public void Regression_optimum_zeroes_the_gradient_and_beats_perturbations()
    {
        var cov = new double[] { 2, 0.8, 0, 0.8, 1, -0.3, 0, -0.3, 0.5 };
        var data = LinearRegressionData.Generate(new LinearRegressionOptions { Dimensions = 3, TrainCount = 500, TestCount = 10, NoiseStd = 0.5, Covariance = cov, TrueIntercept = 0.7, Seed = 4 });
        var all = data.Train.All();
        foreach (var (l2, icpt) in new[] { (0.0, false), (0.0, true), (0.3, false), (0.3, true) })
        {
            var w = LeastSquares.Solve(all, l2, icpt);
            Assert.All(Gradient(all, w, l2, icpt), gj => Assert.InRange(gj, -1e-9, 1e-9));
            double f = LeastSquares.Objective(all, w, l2, icpt);
            for (int j = 0; j < w.Length; j++)
            {
                var p = (double[])w.Clone();
                p[j] += 1e-3;
                Assert.True(LeastSquares.Objective(all, p, l2, icpt) > f);
            }
        }
        Assert.Equal(data.LeastSquaresOptimum, LeastSquares.Solve(all));
        Assert.Equal(LeastSquares.Objective(all, data.LeastSquaresOptimum), data.OptimalObjective, 15);
        // With the intercept fitted the estimate of b* is close (std error ≈ 0.5/√500).
        Assert.InRange(LeastSquares.Solve(all, intercept: true)[3], 0.6, 0.8);
    }

    [Fact]
    public void Noise_free_regression_recovers_the_true_weights()
    {
        var data = LinearRegressionData.Generate(new LinearRegressionOptions { Dimensions = 8, TrainCount = 100, TestCount = 10, NoiseStd = 0, Seed = 2 });
        for (int j = 0; j < 8; j++) Assert.Equal(data.TrueWeights[j], data.LeastSquaresOptimum[j], 4);
        Assert.True(data.OptimalObjective < 1e-10, $"{data.OptimalObjective}");
        var wf = data.LeastSquaresOptimum.Select(x => (float)x).ToArray();
        Assert.True(data.DistanceToOptimum(wf) < 1e-6);
        wf[0] += 3; wf[1] -= 4;
        Assert.Equal(5.0, data.DistanceToOptimum(wf), 4);
        // Given weights are used as is; the test set follows the same law.
        var given = LinearRegressionData.Generate(new LinearRegressionOptions { Dimensions = 2, TrainCount = 30, TestCount = 5, NoiseStd = 0, TrueWeights = [1.5, -2] });
        for (int i = 0; i < 5; i++)
        {
            var x = given.Test.Example(i);
            Assert.Equal(1.5 * x[0] - 2 * x[1], given.Test.Targets![i], 4);
        }
    }

    [Fact]
    public void Regression_features_follow_the_requested_covariance()
    {
        var cov = new double[] { 4, 1.2, 1.2, 1 };
        var data = LinearRegressionData.Generate(new LinearRegressionOptions { Dimensions = 2, TrainCount = 40000, TestCount = 1, Covariance = cov, Seed = 8 });
        double s00 = 0, s01 = 0, s11 = 0;
        int n = data.Train.Count;
        for (int i = 0; i < n; i++)
        {
            var x = data.Train.Example(i);
            s00 += x[0] * x[0]; s01 += x[0] * x[1]; s11 += x[1] * x[1];
        }
        Assert.InRange(s00 / n, 3.85, 4.15);
        Assert.InRange(s01 / n, 1.12, 1.28);
        Assert.InRange(s11 / n, 0.97, 1.03);
    }

    [Fact]
    public void Regression_options_are_validated()
    {
        var o = new LinearRegressionOptions { Dimensions = 2, TrainCount = 10, TestCount = 1 };
        Assert.Contains("not symmetric", Assert.Throws<ArgumentException>(() => LinearRegressionData.Generate(o with { Covariance = [1, 0.5, 0.4, 1] })).Message);
        Assert.Contains("not positive definite", Assert.Throws<ArgumentException>(() => LinearRegressionData.Generate(o with { Covariance = [1, 2, 2, 1] })).Message);
        Assert.Contains("Covariance has 4 entries; expected 3x3 = 9", Assert.Throws<ArgumentException>(() => LinearRegressionData.Generate(o with { Dimensions = 3, Covariance = [1, 0, 0, 1] })).Message);
        Assert.Contains("TrueWeights has 3 entries; expected 2", Assert.Throws<ArgumentException>(() => LinearRegressionData.Generate(o with { TrueWeights = [1, 2, 3] })).Message);
        Assert.Contains("noise std: -0.1", Assert.Throws<ArgumentException>(() => LinearRegressionData.Generate(o with { NoiseStd = -0.1 })).Message);
        Assert.Throws<InvalidOperationException>(() => LinearRegressionData.Generate(o with { Dimensions = 20 })); // 10 examples, 20 unknowns
    }
}
