using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Nearest-neighbour mixing (NNM) pre-aggregator, from "Fixing by Mixing: A Recipe for Optimal
/// Byzantine ML under Heterogeneity" (Allouah, Farhadkhani, Guerraoui, Gupta, Pinot and Stephan,
/// 2023): every input xᵢ is replaced by the mean of its n − f nearest inputs in L2 distance, itself
/// included (ties broken by lower index). Requires f &lt; n. Weights pass through unchanged (1 each
/// when none are given). Distances are computed blockwise in cache; the n means are formed chunk by
/// chunk (every output of a chunk of coordinates before the next chunk, so the inputs are read from
/// memory once), from tabulated subset sums of groups of 4 inputs when the means are long (see
/// the kernel notes).
/// </summary>
public sealed class NearestNeighborMixing : IPreAggregator
{
    /// <summary>Creates NNM tolerating <paramref name="f"/> Byzantine inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="f"/> is negative.</exception>
    public NearestNeighborMixing(int f) => F = AggregationGuard.NonNegativeF("NNM", f);

    /// <summary>Assumed number of Byzantine inputs.</summary>
    public int F { get; }

    /// <inheritdoc />
    public string Name => "nnm";

    /// <inheritdoc />
    public int OutputCount(int inputCount) => inputCount > 0 ? inputCount
        : throw new ArgumentOutOfRangeException(nameof(inputCount), inputCount, "The number of inputs must be positive.");

    /// <inheritdoc />
    public void Apply(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights,
        IReadOnlyList<Memory<float>> outputs, Span<float> outputWeights, ulong seed) =>
        ApplyAt(inputs, weights, outputs, outputWeights, Simd.Best);

    internal unsafe void ApplyAt(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights,
        IReadOnlyList<Memory<float>> outputs, Span<float> outputWeights, SimdWidth width)
    {
        int n = AggregationGuard.ValidateInputs(Name, inputs, weights, out int d);
        if (F >= n) throw AggregationGuard.Precondition("NNM", "f < n", n, F);
        AggregationGuard.ValidateOutputs(Name, n, d, outputs, outputWeights.Length, n);
        int k = n - F;
        var dist = ScratchPool<double>.Rent(n * n);
        var keys = ScratchPool<double>.Rent(n);
        var order = ScratchPool<int>.Rent(n);
        var neighbours = ScratchPool<int>.Rent(n * k);
        try
        {
            using var rows = PinnedRows.Pin(inputs);
            using var outs = PinnedRows.Pin(outputs);
            for (int i = 0; i < n; i++) rows.EnsureNoOverlap(Name, outs[i], d);
            fixed (nint* t = rows.Table)
            fixed (int* nb = neighbours)
            {
                float** tab = (float**)t;
                KrumScoring.Distances(tab, n, d, dist, width);
                for (int i = 0; i < n; i++) NearestOf(i, n, k, dist, keys, order, new Span<int>(nb + i * k, k));
                fixed (nint* op = outs.Table)
                {
                    // Grouped (four Russians) when a mean has more terms than there are groups of 4.
                    if (k > (n + 3) / 4 + 2) VectorKernels.SubsetMeansGrouped(tab, n, nb, k, n, 1f / k, d, (float**)op, width);
                    else VectorKernels.SubsetMeans(tab, n, nb, k, n, 1f / k, d, (float**)op, width);
                }
            }
            for (int i = 0; i < n; i++) outputWeights[i] = AggregationGuard.WeightAt(weights, i);
        }
        finally
        {
            ScratchPool<double>.Return(dist);
            ScratchPool<double>.Return(keys);
            ScratchPool<int>.Return(order);
            ScratchPool<int>.Return(neighbours);
        }
    }

    /// <summary>Indices of i itself and its k − 1 nearest others (by distance, then index), in ascending index order.</summary>
    private static void NearestOf(int i, int n, int k, double[] dist, double[] keys, int[] order, Span<int> result)
    {
        int m = 0;
        for (int j = 0; j < n; j++)
        {
            if (j == i) continue;
            keys[m] = dist[i * n + j];
            order[m++] = j;
        }
        keys.AsSpan(0, m).Sort(order.AsSpan(0, m));
        // The sort is not stable: order equal distances by index.
        for (int a = 0; a < m;)
        {
            int b = a + 1;
            while (b < m && keys[b] == keys[a]) b++;
            if (b - a > 1) order.AsSpan(a, b - a).Sort();
            a = b;
        }
        result[0] = i;
        for (int j = 1; j < k; j++) result[j] = order[j - 1];
        result.Sort();
    }
}
