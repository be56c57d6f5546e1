using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>What <see cref="FlagAggregator"/> outputs once the subspace Y is found.</summary>
public enum FlagAggregatorOutput
{
    /// <summary><c>(1/r) Σᵢ YYᵀxᵢ</c> with xᵢ the unit-normalised inputs, as in the paper's code (the output's scale is not the inputs').</summary>
    SumOfProjections,
    /// <summary><c>(1/n) Σᵢ YYᵀgᵢ</c> with gᵢ the raw inputs: the mean projected on Y, which keeps the inputs' scale (n identical inputs give that input back); usable on models.</summary>
    ProjectedMean,
}

/// <summary>
/// Flag Aggregator, from "Flag Aggregator: Scalable Distributed Training under Failures and
/// Augmented Losses using Convex Optimization" (Almasi, Mishra, Vinzamuri and Tran, 2023): the
/// inputs are normalised to unit vectors xᵢ; an r-dimensional subspace Y is fitted by iteratively
/// reweighted least squares (FlagIRLS), <c>wᵢ = (|1 − ‖Yᵀxᵢ‖²| + ε)^(−1/4)</c> and
/// <c>Y ← top-r left singular vectors of [wᵢxᵢ]</c>, keeping the iterate with the lowest objective
/// <c>Σᵢ √|1 − ‖Yᵀxᵢ‖²|</c> and stopping when it no longer decreases by more than 1e-10.
/// <para>
/// Since n ≪ d everything runs in n-space: one blockwise pass computes the Gram matrix G of the
/// inputs, the singular vectors come from the eigenvectors of W Ĝ W (Ĝ the Gram matrix of the unit
/// vectors, W = diag(w)), Y = X·A with A = W V Λ^(−1/2), and one more pass forms the output as a
/// linear combination of the inputs. The paper's random orthonormal start is replaced by uniform
/// weights, which is what a random start gives as d grows (‖Yᵀx‖² ≈ r/d). ε = 1e-7 as in the
/// paper's code. If the weighted vectors span fewer than r dimensions, Y has that smaller rank.
/// Weights are ignored; a zero input contributes nothing.
/// </para>
/// </summary>
public sealed class FlagAggregator : IAggregator
{
    /// <summary>Creates a Flag Aggregator.</summary>
    /// <param name="rank">Subspace dimension r ≥ 1 (the paper uses small r, 1 to 8).</param>
    /// <param name="iterations">FlagIRLS iterations ≥ 1.</param>
    /// <param name="epsilon">ε &gt; 0 added before the −1/4 power.</param>
    /// <param name="output">What to output from the subspace.</param>
    /// <exception cref="ArgumentOutOfRangeException">rank or iterations below 1, or ε not positive and finite.</exception>
    public FlagAggregator(int rank = 1, int iterations = 4, double epsilon = 1e-7, FlagAggregatorOutput output = FlagAggregatorOutput.SumOfProjections)
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Flag Aggregator: invalid subspace rank r = {rank}; must be ≥ 1.");
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, $"Flag Aggregator: invalid number of iterations {iterations}; must be ≥ 1.");
        if (!(epsilon > 0) || double.IsInfinity(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Flag Aggregator: invalid ε = {epsilon}; must be a finite value > 0.");
        Rank = rank;
        Iterations = iterations;
        Epsilon = epsilon;
        Output = output;
    }

    /// <summary>Subspace dimension r.</summary>
    public int Rank { get; }

    /// <summary>FlagIRLS iterations.</summary>
    public int Iterations { get; }

    /// <summary>ε in the weights.</summary>
    public double Epsilon { get; }

    /// <summary>What is output.</summary>
    public FlagAggregatorOutput Output { get; }

    /// <inheritdoc />
    public string Name => "flag-aggregator";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">No inputs, a length mismatch, a weight count other than 0 or n, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Aggregate(inputs, weights, output, Simd.Best);

    internal unsafe void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        int d = output.Length;
        var gram = new double[n * n];
        using var rows = PinnedRows.Pin(inputs);
        fixed (float* o = output)
        fixed (nint* t = rows.Table)
        {
            rows.EnsureNoOverlap(Name, o, d);
            fixed (double* g = gram) Pairwise.Compute<DotProduct>((float**)t, n, d, g, width);
            var coef = Coefficients(gram, n);
            VectorKernels.LinearCombination((float**)t, n, coef, d, o, width);
        }
    }

    /// <summary>Coefficients c such that the output is Σ cⱼ gⱼ, from the Gram matrix of the raw inputs.</summary>
    internal float[] Coefficients(double[] gram, int n)
    {
        var norm = new double[n];
        for (int i = 0; i < n; i++) norm[i] = Math.Sqrt(Math.Max(gram[i * n + i], 0));
        var unit = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                unit[i * n + j] = norm[i] > 0 && norm[j] > 0 ? gram[i * n + j] / (norm[i] * norm[j]) : 0;

        var w = new double[n];
        Array.Fill(w, 1.0);
        var m = new double[n * n];
        var values = new double[n];
        var vectors = new double[n * n];
        var a = new double[n * Rank];
        var proj = new double[n];
        double[]? bestA = null;
        int bestRank = 0;
        double bestObjective = double.PositiveInfinity;
        for (int it = 0; it < Iterations; it++)
        {
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) m[i * n + j] = w[i] * unit[i * n + j] * w[j];
            SymmetricEigen.Decompose(m, n, values, vectors);
            int r = 0;
            while (r < Math.Min(Rank, n) && values[r] > 1e-12 * Math.Max(values[0], double.Epsilon)) r++;
            // A[:,k] = W v_k / sqrt(λ_k): Y = X A has orthonormal columns.
            for (int i = 0; i < n; i++)
                for (int k = 0; k < r; k++) a[i * Rank + k] = w[i] * vectors[i * n + k] / Math.Sqrt(values[k]);
            double objective = 0;
            for (int i = 0; i < n; i++)
            {
                double p = 0;
                for (int k = 0; k < r; k++)
                {
                    double yx = 0;
                    for (int j = 0; j < n; j++) yx += a[j * Rank + k] * unit[j * n + i];
                    p += yx * yx;
                }
                proj[i] = p;
                objective += Math.Sqrt(Math.Abs(1 - p));
            }
            if (!(objective < bestObjective)) break;
            double gain = bestObjective - objective;
            bestObjective = objective;
            bestA = (double[])a.Clone();
            bestRank = r;
            if (gain <= 1e-10) break;
            for (int i = 0; i < n; i++) w[i] = Math.Pow(Math.Abs(1 - proj[i]) + Epsilon, -0.25);
        }

        // Output = X A Aᵀ b · s: b = Ĝ·1 (sum of projections) or Ĝ·‖g‖ (projected mean), then back to raw inputs.
        var b = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++) s += unit[i * n + j] * (Output == FlagAggregatorOutput.SumOfProjections ? 1.0 : norm[j]);
            b[i] = s;
        }
        double scale = Output == FlagAggregatorOutput.SumOfProjections ? 1.0 / Rank : 1.0 / n;
        var coef = new float[n];
        if (bestA is null) return coef;
        for (int j = 0; j < n; j++)
        {
            if (norm[j] == 0) continue;
            double c = 0;
            for (int k = 0; k < bestRank; k++)
            {
                double atb = 0;
                for (int i = 0; i < n; i++) atb += bestA[i * Rank + k] * b[i];
                c += bestA[j * Rank + k] * atb;
            }
            coef[j] = (float)(c * scale / norm[j]);
        }
        return coef;
    }
}
