using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>Which three distances <see cref="MultiMetrics"/> sums per client.</summary>
public enum MultiMetricsDistances
{
    /// <summary>As in the paper: cosine distance 1 − cos, Manhattan ‖gᵢ − gⱼ‖₁ and Euclidean ‖gᵢ − gⱼ‖₂.</summary>
    Paper,
    /// <summary>As in the authors' public code: squared cosine distance (1 − cos)², Manhattan, and the norm difference |‖gᵢ‖ − ‖gⱼ‖| in place of the Euclidean distance.</summary>
    ReferenceCode,
}

/// <summary>
/// Multi-metrics defence, from "Multi-metrics adaptively identifies backdoors in Federated
/// learning" (Huang, Li, Chen, Shi and Gao, 2023): each input i gets a 3-vector tᵢ of its cosine,
/// Manhattan and Euclidean distances to every other input, summed; the score is the
/// Mahalanobis-like <c>tᵢᵀ Σ⁺ tᵢ</c> with Σ the sample covariance (n − 1) of the tᵢ (not centred
/// in the quadratic form, as in the authors' code); the fraction p with the lowest scores is kept
/// (at least one input; lowest index on ties) and averaged, weighted by the inputs' weights (sample
/// counts, as the paper's FedAvg does; set <c>useWeights</c> false for a plain mean, which is then
/// robust to false sample counts). The pseudo-inverse is taken on the correlation matrix after
/// scaling each metric by its standard deviation (the exact inverse when Σ is invertible; a metric
/// with zero variance is dropped), so metrics of very different scales do not hide each other.
/// A zero input has cosine 0 with everything. Pairwise metrics are computed blockwise in cache.
/// </summary>
public sealed class MultiMetrics : IAggregator
{
    /// <summary>Creates the multi-metrics defence.</summary>
    /// <param name="keepFraction">Fraction p ∈ (0, 1] of inputs kept (0.3 in the authors' code).</param>
    /// <param name="useWeights">Average the kept inputs weighted by their weights (paper) or uniformly.</param>
    /// <param name="distances">Which distances to use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keepFraction"/> outside (0, 1].</exception>
    public MultiMetrics(double keepFraction = 0.3, bool useWeights = true, MultiMetricsDistances distances = MultiMetricsDistances.Paper)
    {
        if (!(keepFraction > 0 && keepFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(keepFraction), keepFraction, $"Multi-metrics: invalid kept fraction p = {keepFraction}; must be in (0, 1].");
        KeepFraction = keepFraction;
        UseWeights = useWeights;
        Distances = distances;
    }

    /// <summary>Fraction of inputs kept.</summary>
    public double KeepFraction { get; }

    /// <summary>Whether the kept inputs are averaged with their weights.</summary>
    public bool UseWeights { get; }

    /// <summary>Which distances are used.</summary>
    public MultiMetricsDistances Distances { get; }

    /// <inheritdoc />
    public string Name => "multi-metrics";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">No inputs, a length mismatch, a weight count other than 0 or n, invalid
    /// weight values when weights are used, all kept inputs having zero weight, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Aggregate(inputs, weights, output, Simd.Best);

    internal unsafe void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        if (UseWeights) AggregationGuard.ValidateWeightValues(Name, weights);
        int d = output.Length;
        var gram = new double[n * n];
        var l1 = new double[n * n];
        var l2 = new double[n * n];
        using var rows = PinnedRows.Pin(inputs);
        fixed (float* o = output)
        fixed (nint* t = rows.Table)
        {
            rows.EnsureNoOverlap(Name, o, d);
            float** tab = (float**)t;
            fixed (double* g = gram) Pairwise.Compute<DotProduct>(tab, n, d, g, width);
            fixed (double* p = l1) Pairwise.Compute<AbsoluteDifference>(tab, n, d, p, width);
            if (Distances == MultiMetricsDistances.Paper)
                fixed (double* p = l2) Pairwise.Compute<SquaredDifference>(tab, n, d, p, width);
            var scores = Scores(gram, l1, l2, n);
            int keep = Math.Max(1, (int)Math.Floor(KeepFraction * n + 1e-9));
            var chosen = new bool[n];
            for (int k = 0; k < keep; k++)
            {
                int best = -1;
                for (int i = 0; i < n; i++)
                    if (!chosen[i] && (best < 0 || scores[i] < scores[best])) best = i;
                chosen[best] = true;
            }
            double total = 0;
            for (int i = 0; i < n; i++)
                if (chosen[i]) total += UseWeights ? AggregationGuard.WeightAt(weights, i) : 1.0;
            if (!(total > 0))
                throw new ArgumentException($"{Name}: all {keep} kept inputs have zero weight; cannot average them.", nameof(weights));
            var coef = new float[n];
            for (int i = 0; i < n; i++)
                if (chosen[i]) coef[i] = (float)((UseWeights ? AggregationGuard.WeightAt(weights, i) : 1.0) / total);
            VectorKernels.LinearCombination(tab, n, coef, d, o, width);
        }
    }

    /// <summary>Scores tᵢᵀΣ⁺tᵢ from the Gram, L1 and squared-L2 matrices.</summary>
    internal double[] Scores(double[] gram, double[] l1, double[] l2sq, int n)
    {
        var feat = new double[n * 3];
        for (int i = 0; i < n; i++)
        {
            double ni = Math.Sqrt(Math.Max(gram[i * n + i], 0));
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double nj = Math.Sqrt(Math.Max(gram[j * n + j], 0));
                double cos = ni > 0 && nj > 0 ? gram[i * n + j] / (ni * nj) : 0;
                double cd = 1 - cos;
                if (Distances == MultiMetricsDistances.Paper)
                {
                    feat[i * 3] += cd;
                    feat[i * 3 + 2] += Math.Sqrt(Math.Max(l2sq[i * n + j], 0));
                }
                else
                {
                    feat[i * 3] += cd * cd;
                    feat[i * 3 + 2] += Math.Abs(ni - nj);
                }
                feat[i * 3 + 1] += l1[i * n + j];
            }
        }
        var scores = new double[n];
        if (n < 2) return scores;
        // Sample covariance (n − 1), then correlation with per-metric standard deviations.
        Span<double> mean = stackalloc double[3];
        for (int i = 0; i < n; i++) for (int a = 0; a < 3; a++) mean[a] += feat[i * 3 + a] / n;
        var cov = new double[9];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) cov[a * 3 + b] += (feat[i * 3 + a] - mean[a]) * (feat[i * 3 + b] - mean[b]) / (n - 1);
        Span<double> sd = stackalloc double[3];
        for (int a = 0; a < 3; a++) sd[a] = Math.Sqrt(Math.Max(cov[a * 3 + a], 0));
        var corr = new double[9];
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) corr[a * 3 + b] = sd[a] > 0 && sd[b] > 0 ? cov[a * 3 + b] / (sd[a] * sd[b]) : 0;
        var values = new double[3];
        var vectors = new double[9];
        SymmetricEigen.Decompose(corr, 3, values, vectors);
        double cut = 1e-10 * Math.Max(values[0], 0);
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int k = 0; k < 3; k++)
            {
                if (!(values[k] > cut)) continue;
                double proj = 0;
                for (int a = 0; a < 3; a++) if (sd[a] > 0) proj += vectors[a * 3 + k] * feat[i * 3 + a] / sd[a];
                s += proj * proj / values[k];
            }
            scores[i] = s;
        }
        return scores;
    }
}
