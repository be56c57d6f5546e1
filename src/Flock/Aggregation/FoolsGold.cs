using System.Numerics.Tensors;
using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// FoolsGold's similarity-based contribution weights — Fung, Yoon &amp; Beschastnikh, "The
/// Limitations of Federated Learning in Sybil Settings" (RAID 2020). Sybils sharing one goal send
/// updates that point the same way round after round, so the cosine similarity of their
/// <em>accumulated update histories</em> is unusually high; FoolsGold gives each history a weight
/// that falls to 0 as its highest similarity to any other history rises to 1. Used by
/// <see cref="Flock.Protocols.SybilWall"/> over the histories of all peers a node knows.
/// </summary>
/// <remarks>
/// <para><see cref="Weights"/> takes the n×n cosine-similarity matrix cs of the histories and computes:</para>
/// <list type="number">
/// <item>cs_ii ← −1 (a history is not compared with itself), v_i = max_j cs_ij.</item>
/// <item>Pardoning: for j ≠ i with v⁺_i &lt; v⁺_j (v⁺ = max(v, 0)), cs_ij ← cs_ij · v⁺_i / v⁺_j, so an
/// honest history is not punished for resembling a Sybil's.</item>
/// <item>w_i = 1 − max_j cs_ij, clipped to [0, 1].</item>
/// <item>w ← w / max_i w_i (all zero if that maximum is 0), then w_i ← min(w_i, cap) with cap = 0.99.</item>
/// <item>w_i ← κ(ln(w_i / (1 − w_i)) + 0.5), clipped to [0, 1] (w_i = 0 maps to 0).</item>
/// </list>
/// <para>
/// Choice (UNCONFIRMED against the paper's text): the paper's code subtracts the identity from cs
/// (diagonal 0), this sheet sets the diagonal to −1; pardoning with v⁺ makes the two identical
/// (the diagonal then only matters when every other similarity is negative, where both give w_i = 1).
/// The reference code's 1e-5 added to v is left out (v⁺_j &gt; v⁺_i ≥ 0 already excludes 0/0).
/// </para>
/// </remarks>
public static class FoolsGold
{
    /// <summary>Default confidence κ of the logit (FoolsGold's κ = 1).</summary>
    public const double DefaultKappa = 1.0;

    /// <summary>Default cap applied to the rescaled weights before the logit (0.99, so the logit stays finite).</summary>
    public const double DefaultCap = 0.99;

    /// <summary>
    /// Pairwise cosine similarities of the histories <c>h_i − reference</c> (or of the <c>h_i</c>
    /// themselves when <paramref name="reference"/> is empty) into the row-major n×n
    /// <paramref name="similarity"/>. A zero history has similarity 0 to everything (1 to itself).
    /// Dot products are blocked and SIMD (in float over windows of 256 terms per lane, in double
    /// across windows; see the pairwise kernel); with a reference the differences are first written
    /// to per-thread scratch of n·d floats.
    /// </summary>
    /// <exception cref="ArgumentException">No histories, lengths disagree, or <paramref name="similarity"/> is shorter than n².</exception>
    public static unsafe void CosineSimilarities(IReadOnlyList<ReadOnlyMemory<float>> histories, ReadOnlySpan<float> reference, Span<double> similarity)
    {
        ArgumentNullException.ThrowIfNull(histories);
        int n = histories.Count;
        if (n == 0) throw new ArgumentException("FoolsGold needs at least one history.", nameof(histories));
        int d = histories[0].Length;
        for (int i = 1; i < n; i++)
            if (histories[i].Length != d) throw new ArgumentException($"History {i} has {histories[i].Length} elements but history 0 has {d}.", nameof(histories));
        if (!reference.IsEmpty && reference.Length != d)
            throw new ArgumentException($"The reference has {reference.Length} elements but the histories have {d}.", nameof(reference));
        if (similarity.Length < n * n) throw new ArgumentException($"The similarity buffer has {similarity.Length} elements; {n} histories need {n * n}.", nameof(similarity));
        var gram = similarity[..(n * n)];
        if (d == 0) { gram.Clear(); }
        else if (reference.IsEmpty)
        {
            using var pinned = PinnedRows.Pin(histories);
            fixed (nint* table = pinned.Table)
            fixed (double* g = gram)
                Pairwise.Compute<DotProduct>((float**)table, n, d, g, Simd.Best);
        }
        else
        {
            var rows = ScratchPool<float>.Rent(n * d);
            var table = ScratchPool<nint>.Rent(n);
            try
            {
                for (int i = 0; i < n; i++) TensorPrimitives.Subtract(histories[i].Span, reference, rows.AsSpan(i * d, d));
                fixed (float* r = rows)
                fixed (nint* t = table)
                fixed (double* g = gram)
                {
                    for (int i = 0; i < n; i++) t[i] = (nint)(r + (long)i * d);
                    Pairwise.Compute<DotProduct>((float**)t, n, d, g, Simd.Best);
                }
            }
            finally
            {
                ScratchPool<float>.Return(rows);
                ScratchPool<nint>.Return(table);
            }
        }
        // Gram → cosine: read the squared norms first (the diagonal is overwritten last).
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                double ni = gram[i * n + i], nj = gram[j * n + j];
                double c = ni > 0 && nj > 0 ? gram[i * n + j] / Math.Sqrt(ni * nj) : 0;
                gram[i * n + j] = Math.Clamp(c, -1, 1);
            }
        for (int i = 0; i < n; i++) gram[i * n + i] = 1;
    }

    /// <summary>
    /// FoolsGold weights (see the type's remarks) from the row-major n×n cosine-similarity matrix
    /// <paramref name="similarity"/>, which is used as scratch and overwritten. Allocation-free.
    /// </summary>
    /// <param name="similarity">The n×n similarities (at least n² elements; overwritten).</param>
    /// <param name="count">n, the number of histories (≥ 1).</param>
    /// <param name="weights">Receives the n weights in [0, 1].</param>
    /// <param name="kappa">Confidence κ of the logit (finite, &gt; 0).</param>
    /// <param name="cap">Cap on the rescaled weights before the logit (in (0, 1)).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/>, <paramref name="kappa"/> or <paramref name="cap"/> is out of range.</exception>
    /// <exception cref="ArgumentException">A buffer is too short, or a similarity is not a finite value in [−1, 1].</exception>
    public static void Weights(Span<double> similarity, int count, Span<double> weights, double kappa = DefaultKappa, double cap = DefaultCap)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, $"Invalid number of histories: {count}; must be ≥ 1.");
        if (!(kappa > 0) || !double.IsFinite(kappa)) throw new ArgumentOutOfRangeException(nameof(kappa), kappa, $"Invalid FoolsGold confidence κ: {kappa}; must be finite and > 0.");
        if (!(cap > 0 && cap < 1)) throw new ArgumentOutOfRangeException(nameof(cap), cap, $"Invalid FoolsGold weight cap: {cap}; must be in (0, 1).");
        int n = count;
        if (similarity.Length < n * n) throw new ArgumentException($"The similarity buffer has {similarity.Length} elements; {n} histories need {n * n}.", nameof(similarity));
        if (weights.Length < n) throw new ArgumentException($"The weight buffer has {weights.Length} elements; {n} histories need {n}.", nameof(weights));
        var cs = similarity[..(n * n)];
        var w = weights[..n];
        for (int k = 0; k < cs.Length; k++)
            if (!(cs[k] >= -1 && cs[k] <= 1)) throw new ArgumentException($"Invalid cosine similarity {cs[k]} at ({k / n}, {k % n}); must be in [−1, 1].", nameof(similarity));
        for (int i = 0; i < n; i++) cs[i * n + i] = -1;

        // v⁺_i = max(0, max_j cs_ij), kept in w while pardoning.
        for (int i = 0; i < n; i++) w[i] = Math.Max(0, RowMax(cs.Slice(i * n, n)));
        for (int i = 0; i < n; i++)
        {
            double vi = w[i];
            for (int j = 0; j < n; j++)
                if (j != i && vi < w[j]) cs[i * n + j] *= vi / w[j];
        }

        double top = 0;
        for (int i = 0; i < n; i++)
        {
            w[i] = Math.Clamp(1 - RowMax(cs.Slice(i * n, n)), 0, 1);
            top = Math.Max(top, w[i]);
        }
        if (!(top > 0)) { w.Clear(); return; }
        for (int i = 0; i < n; i++)
        {
            double x = Math.Min(w[i] / top, cap);
            w[i] = x <= 0 ? 0 : Math.Clamp(kappa * (Math.Log(x / (1 - x)) + 0.5), 0, 1);
        }
    }

    private static double RowMax(ReadOnlySpan<double> row)
    {
        double m = double.NegativeInfinity;
        foreach (double x in row) if (x > m) m = x;
        return m;
    }
}
