using Flock.Tensors;

namespace Flock.Data.Synthetic;

/// <summary>Parameters of <see cref="GaussianMixtureData.Generate"/>.</summary>
public sealed record GaussianMixtureOptions
{
    /// <summary>Number of classes k (≥ 2). Default 10.</summary>
    public int Classes { get; init; } = 10;

    /// <summary>Number of features d (≥ 1). Default 20.</summary>
    public int Dimensions { get; init; } = 20;

    /// <summary>Number of training examples (≥ 1). Default 1,000.</summary>
    public int TrainCount { get; init; } = 1000;

    /// <summary>Number of test examples (≥ 1). Default 1,000.</summary>
    public int TestCount { get; init; } = 1000;

    /// <summary>
    /// Distance between class means (≥ 0), in units of the noise std when <see cref="NoiseStd"/> is 1.
    /// Exact for every pair when d ≥ k; otherwise the typical distance. Default 3.
    /// </summary>
    public double Separation { get; init; } = 3.0;

    /// <summary>Standard deviation of the isotropic Gaussian noise around each mean (&gt; 0). Default 1.</summary>
    public double NoiseStd { get; init; } = 1.0;

    /// <summary>Seed; the same options always give the same data.</summary>
    public ulong Seed { get; init; }
}

/// <summary>
/// A synthetic classification task: a mixture of k isotropic Gaussians in d dimensions, one per class,
/// x = μ_y + σ·z with z ~ N(0, I). Class means are μ_c = (separation / √2)·q_c, where q_c are random
/// orthonormal directions (Gram–Schmidt on Gaussian vectors) when d ≥ k, so every two means are exactly
/// <see cref="GaussianMixtureOptions.Separation"/> apart; when d &lt; k the q_c are independent random unit
/// vectors (pairwise distances then vary around the separation). Labels are balanced (counts differ by at
/// most one) and in random order. Train and test share the means and are drawn independently.
/// </summary>
public sealed class GaussianMixtureData
{
    private GaussianMixtureData(GaussianMixtureOptions options, float[] means, Dataset train, Dataset test)
    {
        Options = options;
        Means = means;
        Train = train;
        Test = test;
    }

    /// <summary>The options the data was generated with.</summary>
    public GaussianMixtureOptions Options { get; }

    /// <summary>Class means, k × d row-major.</summary>
    public float[] Means { get; }

    /// <summary>The training set (shape [d], k classes).</summary>
    public Dataset Train { get; }

    /// <summary>The test set.</summary>
    public Dataset Test { get; }

    /// <summary>Generates the mixture.</summary>
    /// <exception cref="ArgumentException">An option is out of range (the message names it and its value).</exception>
    public static GaussianMixtureData Generate(GaussianMixtureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int k = options.Classes, d = options.Dimensions;
        if (k < 2) throw new ArgumentException($"Invalid number of classes: {k}; must be ≥ 2.", nameof(options));
        if (d < 1) throw new ArgumentException($"Invalid number of dimensions: {d}; must be ≥ 1.", nameof(options));
        if (options.TrainCount < 1) throw new ArgumentException($"Invalid TrainCount: {options.TrainCount}; must be ≥ 1.", nameof(options));
        if (options.TestCount < 1) throw new ArgumentException($"Invalid TestCount: {options.TestCount}; must be ≥ 1.", nameof(options));
        if (!(options.Separation >= 0) || !double.IsFinite(options.Separation))
            throw new ArgumentException($"Invalid separation: {options.Separation}; must be a finite value ≥ 0.", nameof(options));
        if (!(options.NoiseStd > 0) || !double.IsFinite(options.NoiseStd))
            throw new ArgumentException($"Invalid noise std: {options.NoiseStd}; must be a finite value > 0.", nameof(options));

        var rng = Rng.Derive(options.Seed, 0, 0, "synthetic/gaussian-mixture/means");
        var dirs = new double[k * d];
        for (int c = 0; c < k; c++)
        {
            var q = dirs.AsSpan(c * d, d);
            while (true)
            {
                for (int j = 0; j < d; j++) q[j] = rng.NextGaussian();
                if (d >= k)
                    for (int p = 0; p < c; p++)
                    {
                        var qp = dirs.AsSpan(p * d, d);
                        double dot = Dot(q, qp);
                        for (int j = 0; j < d; j++) q[j] -= dot * qp[j];
                    }
                double norm = Math.Sqrt(Dot(q, q));
                if (norm > 1e-6)
                {
                    for (int j = 0; j < d; j++) q[j] /= norm;
                    break;
                }
            }
        }
        var means = new float[k * d];
        double radius = options.Separation / Math.Sqrt(2);
        for (int i = 0; i < means.Length; i++) means[i] = (float)(radius * dirs[i]);

        var train = Sample("gaussian-mixture/train", options, means, options.TrainCount, "synthetic/gaussian-mixture/train");
        var test = Sample("gaussian-mixture/test", options, means, options.TestCount, "synthetic/gaussian-mixture/test");
        return new GaussianMixtureData(options, means, train, test);
    }

    private static Dataset Sample(string name, GaussianMixtureOptions o, float[] means, int n, string purpose)
    {
        int k = o.Classes, d = o.Dimensions;
        var rng = Rng.Derive(o.Seed, 0, 0, purpose);
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = i % k;
        rng.Shuffle(labels.AsSpan());
        var x = new float[(long)n * d];
        float std = (float)o.NoiseStd;
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * d, d);
            rng.FillGaussian(row, 0f, std);
            System.Numerics.Tensors.TensorPrimitives.Add(row, means.AsSpan(labels[i] * d, d), row);
        }
        return Dataset.Classification(name, x, new TensorShape(d), labels, k);
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
