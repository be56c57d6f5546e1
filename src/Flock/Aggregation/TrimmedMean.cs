using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Coordinate-wise trimmed mean, from "Byzantine-Robust Distributed Learning: Towards Optimal
/// Statistical Rates" (Yin, Chen, Ramchandran and Bartlett, 2018): in every coordinate, drop the f
/// largest and the f smallest values and average the remaining n − 2f. Requires 2f &lt; n. Weights
/// are ignored. Computed with a pruned sorting network across coordinates (the middle ranks are
/// only summed, so comparators among them are removed). Inputs must be free of NaN.
/// </summary>
public sealed class TrimmedMean : IAggregator
{
    /// <summary>Creates a trimmed mean that drops <paramref name="f"/> values at each end of every coordinate.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="f"/> is negative.</exception>
    public TrimmedMean(int f) => F = AggregationGuard.NonNegativeF("Trimmed mean", f);

    /// <summary>Number of values dropped at each end (the assumed number of Byzantine inputs).</summary>
    public int F { get; }

    /// <inheritdoc />
    public string Name => "trimmed-mean";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">2f ≥ n, no inputs, a length mismatch, a weight count other than 0 or n, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Aggregate(inputs, weights, output, Simd.Best);

    internal unsafe void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        if (2 * F >= n) throw AggregationGuard.Precondition("Trimmed mean", "2f < n", n, F, $"(2f = {2 * F})");
        using var rows = PinnedRows.Pin(inputs);
        fixed (float* o = output)
        fixed (nint* t = rows.Table)
        {
            rows.EnsureNoOverlap(Name, o, output.Length);
            CoordinateSelect.TrimmedMean((float**)t, n, output.Length, F, o, width);
        }
    }
}
