using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Mean around the median ("Meamed"), from "Generalized Byzantine-tolerant SGD" (Xie, Koyejo and
/// Gupta, 2018): in every coordinate, average the n − f values closest to the coordinate-wise
/// median (for even n the median is the mean of the two middle values; when two candidates are
/// equally close the smaller one is kept). Requires f &lt; n. Weights are ignored. Computed with a
/// pruned sorting network across coordinates and a branch-free window search. Inputs must be free of NaN.
/// </summary>
public sealed class Meamed : IAggregator
{
    /// <summary>Creates Meamed that averages the n − <paramref name="f"/> values nearest the median.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="f"/> is negative.</exception>
    public Meamed(int f) => F = AggregationGuard.NonNegativeF("Meamed", f);

    /// <summary>Number of values left out per coordinate (the assumed number of Byzantine inputs).</summary>
    public int F { get; }

    /// <inheritdoc />
    public string Name => "meamed";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">f ≥ n, no inputs, a length mismatch, a weight count other than 0 or n, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Aggregate(inputs, weights, output, Simd.Best);

    internal unsafe void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        if (F >= n) throw AggregationGuard.Precondition("Meamed", "f < n", n, F);
        using var rows = PinnedRows.Pin(inputs);
        fixed (float* o = output)
        fixed (nint* t = rows.Table)
        {
            rows.EnsureNoOverlap(Name, o, output.Length);
            CoordinateSelect.Meamed((float**)t, n, output.Length, F, o, width);
        }
    }
}
