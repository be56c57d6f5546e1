using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Geometric median by the smoothed Weiszfeld algorithm of "Robust Aggregation for Federated
/// Learning" (Pillutla, Kakade and Harchaoui, 2019; the RFA aggregator): repeat
/// <c>βᵢ = αᵢ / max(ν, ‖v − xᵢ‖)</c>, <c>v ← Σ βᵢxᵢ / Σ βᵢ</c> until the objective
/// <c>Σ αᵢ‖v − xᵢ‖</c> changes by at most <c>tolerance · objective</c> or after
/// <see cref="MaxIterations"/> iterations. Defaults (ν = 1e-5, 4 iterations, tolerance 1e-6) follow
/// the RFA reference code. Choices made here: αᵢ = 1 (weights ignored) unless
/// <see cref="UseWeights"/>, so a false sample count cannot move the output (RFA weights by sample
/// count); the iteration starts from the coordinate-wise median unless <see cref="StartFromMedian"/>
/// is false (RFA starts from the weighted mean, which a huge outlier drags far away; from the
/// median a few iterations suffice). Each iteration is one fused pass over the inputs.
/// </summary>
public sealed class GeometricMedian : IAggregator
{
    /// <summary>Creates a smoothed-Weiszfeld geometric median.</summary>
    /// <param name="smoothing">ν &gt; 0: distances below it are treated as ν.</param>
    /// <param name="maxIterations">Weiszfeld iterations at most (≥ 0; 0 returns the start point).</param>
    /// <param name="tolerance">Relative objective change at which to stop (≥ 0).</param>
    /// <param name="startFromMedian">Start from the coordinate-wise median (true) or the (weighted) mean.</param>
    /// <param name="useWeights">Weight inputs by their weights (RFA) instead of uniformly.</param>
    /// <exception cref="ArgumentOutOfRangeException">ν not positive and finite, negative iterations, or a negative or non-finite tolerance.</exception>
    public GeometricMedian(double smoothing = 1e-5, int maxIterations = 4, double tolerance = 1e-6, bool startFromMedian = true, bool useWeights = false)
    {
        if (!(smoothing > 0) || double.IsInfinity(smoothing))
            throw new ArgumentOutOfRangeException(nameof(smoothing), smoothing, $"Geometric median: invalid smoothing ν = {smoothing}; must be a finite value > 0.");
        if (maxIterations < 0)
            throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, $"Geometric median: invalid maximum number of iterations {maxIterations}; must be ≥ 0.");
        if (!(tolerance >= 0) || double.IsInfinity(tolerance))
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, $"Geometric median: invalid tolerance {tolerance}; must be a finite value ≥ 0.");
        Smoothing = smoothing;
        MaxIterations = maxIterations;
        Tolerance = tolerance;
        StartFromMedian = startFromMedian;
        UseWeights = useWeights;
    }

    /// <summary>Smoothing ν.</summary>
    public double Smoothing { get; }

    /// <summary>Maximum number of Weiszfeld iterations.</summary>
    public int MaxIterations { get; }

    /// <summary>Relative objective change at which the iteration stops.</summary>
    public double Tolerance { get; }

    /// <summary>Whether the iteration starts from the coordinate-wise median (else the mean).</summary>
    public bool StartFromMedian { get; }

    /// <summary>Whether inputs are weighted by their weights (else uniformly).</summary>
    public bool UseWeights { get; }

    /// <inheritdoc />
    public string Name => "geometric-median";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">No inputs, a length mismatch, a weight count other than 0 or n,
    /// invalid weight values when <see cref="UseWeights"/>, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Aggregate(inputs, weights, output, Simd.Best);

    internal unsafe void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        if (UseWeights) AggregationGuard.ValidateWeightValues(Name, weights);
        int d = output.Length;
        var alpha = ScratchPool<double>.Rent(n);
        var dist2 = ScratchPool<double>.Rent(n);
        var coef = ScratchPool<float>.Rent(n);
        var index = ScratchPool<int>.Rent(n);
        var table = ScratchPool<nint>.Rent(n + 1);
        try
        {
            double alphaSum = 0;
            for (int i = 0; i < n; i++) alphaSum += alpha[i] = UseWeights ? AggregationGuard.WeightAt(weights, i) : 1.0;
            using var rows = PinnedRows.Pin(inputs);
            fixed (float* o = output)
            fixed (nint* tp = table)
            fixed (int* ip = index)
            fixed (float* cp = coef)
            {
                rows.EnsureNoOverlap(Name, o, d);
                for (int i = 0; i < n; i++) tp[i] = rows.Table[i];
                tp[n] = (nint)o;
                float** tab = (float**)tp;
                if (StartFromMedian) CoordinateSelect.Median(tab, n, d, o, width);
                else
                {
                    for (int i = 0; i < n; i++) cp[i] = (float)(alpha[i] / alphaSum);
                    VectorKernels.LinearCombination(tab, n, new ReadOnlySpan<float>(cp, n), d, o, width);
                }
                if (MaxIterations == 0) return;
                CentreIteration.Measure(tab, n, d, dist2, width);
                double objective = Objective(alpha, dist2, n);
                for (int it = 0; it < MaxIterations; it++)
                {
                    double betaSum = 0;
                    for (int i = 0; i < n; i++) betaSum += alpha[i] / Math.Max(Smoothing, Math.Sqrt(dist2[i]));
                    int terms = 0;
                    for (int i = 0; i < n; i++)
                    {
                        float c = (float)(alpha[i] / Math.Max(Smoothing, Math.Sqrt(dist2[i])) / betaSum);
                        if (c == 0) continue;
                        ip[terms] = i;
                        cp[terms++] = c;
                    }
                    CentreIteration.UpdateAndMeasure(tab, n, ip, cp, terms, d, dist2, measure: true, width);
                    double next = Objective(alpha, dist2, n);
                    bool converged = Math.Abs(objective - next) <= Tolerance * next;
                    objective = next;
                    if (converged) break;
                }
            }
        }
        finally
        {
            ScratchPool<double>.Return(alpha);
            ScratchPool<double>.Return(dist2);
            ScratchPool<float>.Return(coef);
            ScratchPool<int>.Return(index);
            ScratchPool<nint>.Return(table);
        }
    }

    private static double Objective(double[] alpha, double[] dist2, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += alpha[i] * Math.Sqrt(dist2[i]);
        return s;
    }
}
