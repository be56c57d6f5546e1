using Flock.Data;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Tensors;
using Flock.Tests.Support;

namespace Flock.Tests.Models.LayersA;

public class ConvexModelTests
{
    /// <summary>y = A·x + c + noise with 3 features and 2 targets; 40 examples.</summary>
    private static (DatasetView Data, float[] X, float[] T) Regression()
    {
        const int n = 40, f = 3, d = 2;
        var rng = new Rng(21);
        var x = new float[n * f];
        rng.FillGaussian(x);
        float[,] a = { { 1.5f, -2f, 0.5f }, { 0.3f, 0.8f, -1.2f } };
        float[] c = { 0.7f, -0.4f };
        var t = new float[n * d];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++)
            {
                double s = c[k] + 0.3 * rng.NextGaussian();
                for (int j = 0; j < f; j++) s += a[k, j] * x[i * f + j];
                t[i * d + k] = (float)s;
            }
        return (Dataset.Regression("linear", x, new TensorShape(f), t, d).All(), x, t);
    }

    /// <summary>Solves the normal equations (AᵀA)θ = Aᵀt for A = [x, 1], per target, in double.</summary>
    private static double[,] NormalEquations(float[] x, float[] t, int n, int f, int d)
    {
        int m = f + 1;
        var theta = new double[d, m];
        for (int k = 0; k < d; k++)
        {
            var ata = new double[m, m + 1];
            for (int i = 0; i < n; i++)
                for (int r = 0; r < m; r++)
                {
                    double ar = r < f ? x[i * f + r] : 1;
                    for (int c = 0; c < m; c++) ata[r, c] += ar * (c < f ? x[i * f + c] : 1);
                    ata[r, m] += ar * t[i * d + k];
                }
            for (int p = 0; p < m; p++)   // Gauss–Jordan (AᵀA is symmetric positive definite: no pivoting needed)
            {
                double piv = ata[p, p];
                for (int c = p; c <= m; c++) ata[p, c] /= piv;
                for (int r = 0; r < m; r++)
                {
                    if (r == p) continue;
                    double fct = ata[r, p];
                    for (int c = p; c <= m; c++) ata[r, c] -= fct * ata[p, c];
                }
            }
            for (int r = 0; r < m; r++) theta[k, r] = ata[r, m];
        }
        return theta;
    }

    [Fact]
    public void Least_squares_gradient_descent_reaches_the_normal_equations_optimum()
    {
        var (data, x, t) = Regression();
        var learner = LinearLeastSquares.CreateLearner(new TensorShape(3), targetDim: 2);
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 3);
        Assert.All(p, v => Assert.Equal(0f, v));
        var all = Enumerable.Range(0, 40).ToArray();
        // At θ = 0 the loss is mean(t²).
        Assert.Equal(t.Average(v => (double)v * v), learner.Loss(p, data, all), 4);

        var g = new float[p.Length];
        var sgd = new Sgd(0.25f);
        for (int s = 1; s <= 400; s++) { learner.LossAndGradient(p, data, all, g); sgd.Step(p, g, default, s); }

        var theta = NormalEquations(x, t, 40, 3, 2);
        var w = learner.Layout["0.linear.weight"].Slice(p.AsSpan());
        var b = learner.Layout["0.linear.bias"].Slice(p.AsSpan());
        for (int k = 0; k < 2; k++)
        {
            for (int j = 0; j < 3; j++) Assert.True(Math.Abs(w[k * 3 + j] - theta[k, j]) < 1e-4, $"w[{k},{j}] = {w[k * 3 + j]} vs {theta[k, j]}");
            Assert.True(Math.Abs(b[k] - theta[k, 3]) < 1e-4, $"b[{k}] = {b[k]} vs {theta[k, 3]}");
        }
        // The gradient vanishes at the optimum and the residual loss is the noise level (σ² = 0.09 minus fitted noise).
        float loss = learner.LossAndGradient(p, data, all, g);
        Assert.True(g.Max(MathF.Abs) < 1e-4, $"gradient {g.Max(MathF.Abs)}");
        Assert.InRange(loss, 0.03, 0.12);
    }

    [Fact]
    public void Least_squares_gradient_matches_finite_differences()
    {
        var learner = LinearLeastSquares.CreateLearner(new TensorShape(2, 3), targetDim: 3);
        var p = LayerHarness.Random(learner.Layout.Length, 8);
        var data = LayerHarness.RandomRegression(new TensorShape(2, 3), 10, 3, 4);
        double err = GradientCheck.MaxRelativeError(learner, p, data, Enumerable.Range(0, 10).ToArray(), eps: 1e-2f);
        Assert.True(err < 2e-3, $"relative error {err}");
    }

    [Fact]
    public void Logistic_regression_starts_at_log_c_and_learns()
    {
        var learner = LogisticRegression.CreateLearner(new TensorShape(4), 3);
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 1);
        Assert.Equal(15, p.Length);
        Assert.All(p, v => Assert.Equal(0f, v));
        var rng = new Rng(11);
        var x = new float[300 * 4];
        rng.FillGaussian(x);
        var y = new int[300];
        for (int i = 0; i < 300; i++) y[i] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(x.AsSpan(i * 4, 3));
        var data = Dataset.Classification("sep", x, new TensorShape(4), y, 3).All();
        Assert.Equal(Math.Log(3), learner.Evaluate(p, data).Loss, 5);
        var g = new float[p.Length];
        var sgd = new Sgd(1f);
        var all = Enumerable.Range(0, 300).ToArray();
        for (int s = 1; s <= 200; s++) { learner.LossAndGradient(p, data, all, g); sgd.Step(p, g, default, s); }
        var r = learner.Evaluate(p, data);
        Assert.True(r.Accuracy > 0.9 && r.Loss < 0.5, $"accuracy {r.Accuracy}, loss {r.Loss}");
        Assert.True(GradientCheck.MaxRelativeError(learner, p, data, all[..30], eps: 1e-2f) < 2e-3);
    }

    [Fact]
    public void Binary_logistic_regression_is_two_opposite_rows()
    {
        var learner = LogisticRegression.CreateBinaryLearner(new TensorShape(3));
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, 1);
        var data = GradientCheck.RandomClassification(new TensorShape(3), 50, 2, 5);
        var all = Enumerable.Range(0, 50).ToArray();
        var g = new float[p.Length];
        var sgd = new Sgd(0.5f);
        for (int s = 1; s <= 20; s++) { learner.LossAndGradient(p, data, all, g); sgd.Step(p, g, default, s); }
        var w = learner.Layout["0.linear.weight"].Slice(p.AsSpan());
        var b = learner.Layout["0.linear.bias"].Slice(p.AsSpan());
        for (int j = 0; j < 3; j++) Assert.Equal(-w[j], w[3 + j], 6);
        Assert.Equal(-b[0], b[1], 6);
        Assert.NotEqual(0f, w[3]);
    }

    [Fact]
    public void Validation()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LogisticRegression.CreateNetwork(new TensorShape(3), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearLeastSquares.CreateNetwork(new TensorShape(3), 0));
        // A classification dataset has no targets: the MSE loss says so.
        var learner = LinearLeastSquares.CreateLearner(new TensorShape(3), 2);
        var p = new float[learner.Layout.Length];
        var cls = GradientCheck.RandomClassification(new TensorShape(3), 4, 2, 1);
        Assert.Throws<ArgumentException>(() => learner.Loss(p, cls, [0, 1]));
        var wrongDim = LayerHarness.RandomRegression(new TensorShape(3), 4, 3, 1);
        var e = Assert.Throws<ArgumentException>(() => learner.Loss(p, wrongDim, [0, 1]));
        Assert.Contains("2 outputs", e.Message);
    }
}
