using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Weighted mean <c>Σ wᵢxᵢ / Σ wᵢ</c>, the FedAvg server step of "Communication-Efficient Learning
/// of Deep Networks from Decentralized Data" (McMahan et al., 2017). Weights are normalised to sum
/// to 1 (empty weights mean uniform); zero-weight inputs are skipped. Not robust: one input can
/// move the output arbitrarily.
/// </summary>
public sealed class WeightedMean : IAggregator
{
    /// <inheritdoc />
    public string Name => "weighted-mean";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">No inputs, a length mismatch, a weight count other than 0 or n,
    /// a negative or non-finite weight, all weights zero, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Aggregate(inputs, weights, output, Simd.Best);

    internal unsafe void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        AggregationGuard.ValidateWeightValues(Name, weights);
        var coef = ScratchPool<float>.Rent(n);
        try
        {
            double total = 0;
            for (int i = 0; i < n; i++) total += AggregationGuard.WeightAt(weights, i);
            for (int i = 0; i < n; i++) coef[i] = (float)(AggregationGuard.WeightAt(weights, i) / total);
            using var rows = PinnedRows.Pin(inputs);
            fixed (float* o = output)
            fixed (nint* t = rows.Table)
            {
                rows.EnsureNoOverlap(Name, o, output.Length);
                VectorKernels.LinearCombination((float**)t, n, coef.AsSpan(0, n), output.Length, o, width);
            }
        }
        finally
        {
            ScratchPool<float>.Return(coef);
        }
    }
}
