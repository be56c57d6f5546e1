using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Krum, from "Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent" (Blanchard,
/// El Mhamdi, Guerraoui and Stainer, 2017): each input's score is the sum of its squared distances
/// to its n − f − 2 nearest other inputs; the output is the input with the lowest score (ties go to
/// the smaller sum of distances to all others, then the lower index). Requires n ≥ 2f + 3. Weights are ignored. Pairwise distances are computed
/// blockwise in cache (see the kernel notes: exact differences, no Gram-identity cancellation).
/// </summary>
public sealed class Krum : IAggregator
{
    /// <summary>Creates Krum tolerating <paramref name="f"/> Byzantine inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="f"/> is negative.</exception>
    public Krum(int f) => F = AggregationGuard.NonNegativeF("Krum", f);

    /// <summary>Assumed number of Byzantine inputs.</summary>
    public int F { get; }

    /// <inheritdoc />
    public string Name => "krum";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">n &lt; 2f + 3, no inputs, a length mismatch, a weight count other than 0 or n, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Aggregate(inputs, weights, output, Simd.Best);

    internal void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        int best = Select(Name, inputs, n, F, output, width);
        inputs[best].Span.CopyTo(output);
    }

    /// <summary>Index of the Krum winner (checks n ≥ 2f + 3 and overlap).</summary>
    internal static unsafe int Select(string name, IReadOnlyList<ReadOnlyMemory<float>> inputs, int n, int f, Span<float> output, SimdWidth width)
    {
        if (n < 2 * f + 3) throw AggregationGuard.Precondition("Krum", "n ≥ 2f + 3", n, f, $"(needs n ≥ {2 * f + 3})");
        int d = output.Length;
        var dist = ScratchPool<double>.Rent(n * n);
        var scores = ScratchPool<double>.Rent(n);
        var tmp = ScratchPool<double>.Rent(n);
        var active = ScratchPool<bool>.Rent(n);
        try
        {
            using (var rows = PinnedRows.Pin(inputs))
            fixed (float* o = output)
            fixed (nint* t = rows.Table)
            {
                rows.EnsureNoOverlap(name, o, d);
                KrumScoring.Distances((float**)t, n, d, dist, width);
            }
            active.AsSpan(0, n).Fill(true);
            KrumScoring.Scores(dist, n, active.AsSpan(0, n), n - f - 2, scores, tmp);
            return KrumScoring.ArgMin(scores.AsSpan(0, n), active.AsSpan(0, n), dist, n);
        }
        finally
        {
            ScratchPool<double>.Return(dist);
            ScratchPool<double>.Return(scores);
            ScratchPool<double>.Return(tmp);
            ScratchPool<bool>.Return(active);
        }
    }
}
