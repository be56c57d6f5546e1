using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Multi-Krum, from "Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent"
/// (Blanchard, El Mhamdi, Guerraoui and Stainer, 2017): Krum scores (sum of squared distances to the
/// n − f − 2 nearest other inputs), then the plain mean of the m inputs with the lowest scores
/// (ties go to the smaller sum of distances to all others, then the lower index). Requires
/// n ≥ 2f + 3 and 1 ≤ m ≤ n − f. Weights are ignored.
/// </summary>
public sealed class MultiKrum : IAggregator
{
    /// <summary>Creates Multi-Krum tolerating <paramref name="f"/> Byzantine inputs and averaging <paramref name="m"/> inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="f"/> is negative or <paramref name="m"/> is below 1.</exception>
    public MultiKrum(int f, int m)
    {
        F = AggregationGuard.NonNegativeF("Multi-Krum", f);
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(m), m, $"Multi-Krum: invalid number of selected inputs m = {m}; must be ≥ 1.");
        M = m;
    }

    /// <summary>Assumed number of Byzantine inputs.</summary>
    public int F { get; }

    /// <summary>Number of lowest-score inputs averaged.</summary>
    public int M { get; }

    /// <inheritdoc />
    public string Name => "multi-krum";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">n &lt; 2f + 3, m &gt; n − f, no inputs, a length mismatch, a weight count other than 0 or n, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Aggregate(inputs, weights, output, Simd.Best);

    internal unsafe void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        if (n < 2 * F + 3) throw AggregationGuard.Precondition("Multi-Krum", "n ≥ 2f + 3", n, F, $"(needs n ≥ {2 * F + 3})");
        if (M > n - F) throw AggregationGuard.Precondition("Multi-Krum", "1 ≤ m ≤ n − f", n, F, $"and m = {M} (needs m ≤ {n - F})");
        int d = output.Length;
        var dist = ScratchPool<double>.Rent(n * n);
        var scores = ScratchPool<double>.Rent(n);
        var tmp = ScratchPool<double>.Rent(n);
        var active = ScratchPool<bool>.Rent(n);
        var coef = ScratchPool<float>.Rent(n);
        try
        {
            using var rows = PinnedRows.Pin(inputs);
            fixed (float* o = output)
            fixed (nint* t = rows.Table)
            {
                rows.EnsureNoOverlap(Name, o, d);
                KrumScoring.Distances((float**)t, n, d, dist, width);
                var act = active.AsSpan(0, n);
                act.Fill(true);
                KrumScoring.Scores(dist, n, act, n - F - 2, scores, tmp);
                // The m lowest scores; ties by the sum of distances to all others, then by index.
                var c = coef.AsSpan(0, n);
                c.Clear();
                var total = tmp.AsSpan(0, n);
                for (int i = 0; i < n; i++)
                {
                    double s = 0;
                    for (int j = 0; j < n; j++) if (j != i) s += dist[i * n + j];
                    total[i] = s;
                }
                for (int k = 0; k < M; k++)
                {
                    int best = -1;
                    for (int i = 0; i < n; i++)
                        if (act[i] && (best < 0 || scores[i] < scores[best] || (scores[i] == scores[best] && total[i] < total[best]))) best = i;
                    act[best] = false;
                    c[best] = 1f / M;
                }
                VectorKernels.LinearCombination((float**)t, n, c, d, o, width);
            }
        }
        finally
        {
            ScratchPool<double>.Return(dist);
            ScratchPool<double>.Return(scores);
            ScratchPool<double>.Return(tmp);
            ScratchPool<bool>.Return(active);
            ScratchPool<float>.Return(coef);
        }
    }
}
