using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Bulyan, from "The Hidden Vulnerability of Distributed Learning in Byzantium" (El Mhamdi,
/// Guerraoui and Rouault, 2018). Requires n ≥ 4f + 3. First θ = n − 2f inputs are selected by
/// iterating Krum: pick the input with the lowest Krum score among the remaining ones (sum of
/// squared distances to its r − f − 2 nearest remaining others, r the number remaining, at least 0;
/// ties go to the smaller sum of distances to all remaining others, then the lower index), remove
/// it, repeat. Then, per coordinate, the output is the mean of the β = θ − 2f selected values
/// closest to their median (Meamed on the selection). Weights are ignored.
/// </summary>
public sealed class Bulyan : IAggregator
{
    /// <summary>Creates Bulyan tolerating <paramref name="f"/> Byzantine inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="f"/> is negative.</exception>
    public Bulyan(int f) => F = AggregationGuard.NonNegativeF("Bulyan", f);

    /// <summary>Assumed number of Byzantine inputs.</summary>
    public int F { get; }

    /// <inheritdoc />
    public string Name => "bulyan";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">n &lt; 4f + 3, no inputs, a length mismatch, a weight count other than 0 or n, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Aggregate(inputs, weights, output, Simd.Best);

    internal unsafe void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        if (n < 4 * F + 3) throw AggregationGuard.Precondition("Bulyan", "n ≥ 4f + 3", n, F, $"(needs n ≥ {4 * F + 3})");
        int d = output.Length, theta = n - 2 * F;
        var dist = ScratchPool<double>.Rent(n * n);
        var scores = ScratchPool<double>.Rent(n);
        var tmp = ScratchPool<double>.Rent(n);
        var active = ScratchPool<bool>.Rent(n);
        var selected = ScratchPool<nint>.Rent(theta);
        try
        {
            using var rows = PinnedRows.Pin(inputs);
            fixed (float* o = output)
            fixed (nint* t = rows.Table)
            fixed (nint* sel = selected)
            {
                rows.EnsureNoOverlap(Name, o, d);
                KrumScoring.Distances((float**)t, n, d, dist, width);
                var act = active.AsSpan(0, n);
                act.Fill(true);
                for (int k = 0; k < theta; k++)
                {
                    int remaining = n - k;
                    KrumScoring.Scores(dist, n, act, Math.Max(0, remaining - F - 2), scores, tmp);
                    int best = KrumScoring.ArgMin(scores.AsSpan(0, n), act, dist, n);
                    act[best] = false;
                    sel[k] = t[best];
                }
                CoordinateSelect.Meamed((float**)sel, theta, d, 2 * F, o, width);
            }
        }
        finally
        {
            ScratchPool<double>.Return(dist);
            ScratchPool<double>.Return(scores);
            ScratchPool<double>.Return(tmp);
            ScratchPool<bool>.Return(active);
            ScratchPool<nint>.Return(selected);
        }
    }
}
