using Flock.Tensors;

namespace Flock.Data.Synthetic;

/// <summary>Parameters of <see cref="LinearRegressionData.Generate"/>.</summary>
public sealed record LinearRegressionOptions
{
    /// <summary>Number of features d (≥ 1). Default 10.</summary>
    public int Dimensions { get; init; } = 10;

    /// <summary>Number of training examples (≥ 1; ≥ d for a unique unregularised optimum). Default 1,000.</summary>
    public int TrainCount { get; init; } = 1000;

    /// <summary>Number of test examples (≥ 1). Default 1,000.</summary>
    public int TestCount { get; init; } = 1000;

    /// <summary>Standard deviation of the additive Gaussian label noise (≥ 0). Default 0.1.</summary>
    public double NoiseStd { get; init; } = 0.1;

    /// <summary>
    /// Feature covariance Σ, d × d row-major, symmetric positive definite; null (default) for the identity.
    /// Features are drawn as x = L z with Σ = L Lᵀ and z ~ N(0, I).
    /// </summary>
    public double[]? Covariance { get; init; }

    /// <summary>The true weights w* (length d); null (default) draws them from N(0, I) with the seed.</summary>
    public double[]? TrueWeights { get; init; }

    /// <summary>The true intercept b* (finite). Default 0.</summary>
    public double TrueIntercept { get; init; }

    /// <summary>Seed; the same options always give the same data.</summary>
    public ulong Seed { get; init; }
}

/// <summary>
/// A synthetic linear regression with a known optimum: x ~ N(0, Σ), y = xᵀw* + b* + ε with
/// ε ~ N(0, σ²). Exposes the generating w* and the exact least-squares optimum of the stored training
/// set (<see cref="LeastSquares"/>), so convex experiments can measure ‖w − w_opt‖ and F(w) − F(w_opt).
/// </summary>
public sealed class LinearRegressionData
{
    private LinearRegressionData(LinearRegressionOptions options, double[] trueWeights, Dataset train, Dataset test, double[] optimum)
    {
        Options = options;
        TrueWeights = trueWeights;
        Train = train;
        Test = test;
        LeastSquaresOptimum = optimum;
        OptimalObjective = LeastSquares.Objective(train.All(), optimum);
    }

    /// <summary>The options the data was generated with.</summary>
    public LinearRegressionOptions Options { get; }

    /// <summary>The generating weights w* (length d).</summary>
    public double[] TrueWeights { get; }

    /// <summary>The generating intercept b*.</summary>
    public double TrueIntercept => Options.TrueIntercept;

    /// <summary>The training set (shape [d], one target per example).</summary>
    public Dataset Train { get; }

    /// <summary>The test set.</summary>
    public Dataset Test { get; }

    /// <summary>
    /// The exact minimiser (no intercept, no regularisation) of (1/2n)‖Xw − y‖² over <see cref="Train"/>,
    /// from the normal equations. For a model with an intercept or L2, call <see cref="LeastSquares.Solve"/>.
    /// </summary>
    public double[] LeastSquaresOptimum { get; }

    /// <summary>The objective (1/2n)‖Xw − y‖² over <see cref="Train"/> at <see cref="LeastSquaresOptimum"/>.</summary>
    public double OptimalObjective { get; }

    /// <summary>Generates the data and solves for the optimum.</summary>
    /// <exception cref="ArgumentException">An option is out of range, the covariance is not symmetric positive definite,
    /// or the true weights have the wrong length (the message names the value).</exception>
    /// <exception cref="InvalidOperationException">The training set is rank deficient (e.g. fewer examples than dimensions).</exception>
    public static LinearRegressionData Generate(LinearRegressionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int d = options.Dimensions;
        if (d < 1) throw new ArgumentException($"Invalid number of dimensions: {d}; must be ≥ 1.", nameof(options));
        if (options.TrainCount < 1) throw new ArgumentException($"Invalid TrainCount: {options.TrainCount}; must be ≥ 1.", nameof(options));
        if (options.TestCount < 1) throw new ArgumentException($"Invalid TestCount: {options.TestCount}; must be ≥ 1.", nameof(options));
        if (!(options.NoiseStd >= 0) || !double.IsFinite(options.NoiseStd))
            throw new ArgumentException($"Invalid noise std: {options.NoiseStd}; must be a finite value ≥ 0.", nameof(options));
        if (!double.IsFinite(options.TrueIntercept))
            throw new ArgumentException($"Invalid true intercept: {options.TrueIntercept}; must be finite.", nameof(options));

        double[]? chol = options.Covariance is null ? null : Cholesky(options.Covariance, d);
        double[] w;
        if (options.TrueWeights is { } given)
        {
            if (given.Length != d) throw new ArgumentException($"TrueWeights has {given.Length} entries; expected {d}.", nameof(options));
            foreach (double v in given)
                if (!double.IsFinite(v)) throw new ArgumentException($"Invalid true weight: {v}; must be finite.", nameof(options));
            w = (double[])given.Clone();
        }
        else
        {
            var rng = Rng.Derive(options.Seed, 0, 0, "synthetic/linear-regression/weights");
            w = new double[d];
            for (int j = 0; j < d; j++) w[j] = rng.NextGaussian();
        }
        var train = Sample("linear-regression/train", options, chol, w, options.TrainCount, "synthetic/linear-regression/train");
        var test = Sample("linear-regression/test", options, chol, w, options.TestCount, "synthetic/linear-regression/test");
        return new LinearRegressionData(options, w, train, test, LeastSquares.Solve(train.All()));
    }

    /// <summary>Euclidean distance ‖w − <see cref="LeastSquaresOptimum"/>‖.</summary>
    /// <exception cref="ArgumentException"><paramref name="weights"/> does not have d entries.</exception>
    public double DistanceToOptimum(ReadOnlySpan<float> weights)
    {
        if (weights.Length != LeastSquaresOptimum.Length)
            throw new ArgumentException($"Weight vector has {weights.Length} entries; expected {LeastSquaresOptimum.Length}.", nameof(weights));
        double s = 0;
        for (int j = 0; j < weights.Length; j++) { double e = weights[j] - LeastSquaresOptimum[j]; s += e * e; }
        return Math.Sqrt(s);
    }

    private static Dataset Sample(string name, LinearRegressionOptions o, double[]? chol, double[] w, int n, string purpose)
    {
        int d = o.Dimensions;
        var rng = Rng.Derive(o.Seed, 0, 0, purpose);
        var x = new float[(long)n * d];
        var y = new float[n];
        var z = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) z[j] = rng.NextGaussian();
            var row = x.AsSpan(i * d, d);
            for (int j = 0; j < d; j++)
            {
                double v = z[j];
                if (chol is not null)
                {
                    v = 0;
                    for (int p = 0; p <= j; p++) v += chol[j * d + p] * z[p];
                }
                row[j] = (float)v;
            }
            // The target uses the stored (float) features, so the model is exactly linear in what learners see.
            double t = o.TrueIntercept;
            for (int j = 0; j < d; j++) t += row[j] * w[j];
            y[i] = (float)(t + o.NoiseStd * rng.NextGaussian());
        }
        return Dataset.Regression(name, x, new TensorShape(d), y, 1);
    }

    private static double[] Cholesky(double[] cov, int d)
    {
        if (cov.Length != d * d) throw new ArgumentException($"Covariance has {cov.Length} entries; expected {d}x{d} = {d * d}.", nameof(LinearRegressionOptions.Covariance));
        for (int i = 0; i < d; i++)
            for (int j = 0; j < i; j++)
            {
                double a = cov[i * d + j], b = cov[j * d + i];
                if (!double.IsFinite(a) || Math.Abs(a - b) > 1e-9 * Math.Max(1, Math.Abs(a) + Math.Abs(b)))
                    throw new ArgumentException($"Covariance is not symmetric: entry ({i},{j}) = {a} but ({j},{i}) = {b}.", nameof(LinearRegressionOptions.Covariance));
            }
        var l = new double[d * d];
        for (int j = 0; j < d; j++)
        {
            double s = cov[j * d + j];
            for (int p = 0; p < j; p++) s -= l[j * d + p] * l[j * d + p];
            if (!(s > 0) || !double.IsFinite(s))
                throw new ArgumentException($"Covariance is not positive definite (pivot {s:G4} at row {j}; diagonal entry {cov[j * d + j]}).", nameof(LinearRegressionOptions.Covariance));
            double ljj = Math.Sqrt(s);
            l[j * d + j] = ljj;
            for (int i = j + 1; i < d; i++)
            {
                double t = cov[i * d + j];
                for (int p = 0; p < j; p++) t -= l[i * d + p] * l[j * d + p];
                l[i * d + j] = t / ljj;
            }
        }
        return l;
    }
}
