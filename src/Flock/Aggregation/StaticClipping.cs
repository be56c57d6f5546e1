using System.Numerics.Tensors;
using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Static clipping pre-aggregator: every input is scaled to L2 norm at most c,
/// <c>xᵢ · min(1, c / ‖xᵢ‖)</c> (the norm clipping of "Deep Learning with Differential Privacy",
/// Abadi et al., 2016, applied to whole inputs with a fixed threshold, as used before robust rules
/// in the Byzantine-ML literature). Norms are accumulated in double-safe blocks, so huge finite
/// inputs are clipped correctly. Weights pass through unchanged (1 each when none are given).
/// </summary>
public sealed class StaticClipping : IPreAggregator
{
    /// <summary>Creates static clipping at threshold <paramref name="threshold"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The threshold is not a finite value &gt; 0.</exception>
    public StaticClipping(float threshold)
    {
        if (!(threshold > 0) || float.IsInfinity(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"Static clipping: invalid clipping threshold c = {threshold}; must be a finite value > 0.");
        Threshold = threshold;
    }

    /// <summary>Clipping threshold c.</summary>
    public float Threshold { get; }

    /// <inheritdoc />
    public string Name => "static-clipping";

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
        AggregationGuard.ValidateOutputs(Name, n, d, outputs, outputWeights.Length, n);
        using var rows = PinnedRows.Pin(inputs);
        using var outs = PinnedRows.Pin(outputs);
        for (int i = 0; i < n; i++) rows.EnsureNoOverlap(Name, outs[i], d);
        for (int i = 0; i < n; i++)
        {
            double norm = Math.Sqrt(VectorKernels.SquaredDistance(rows[i], null, d, width));
            var src = new ReadOnlySpan<float>(rows[i], d);
            var dst = new Span<float>(outs[i], d);
            if (norm <= Threshold) src.CopyTo(dst);
            else TensorPrimitives.Multiply(src, (float)(Threshold / norm), dst);
            outputWeights[i] = AggregationGuard.WeightAt(weights, i);
        }
    }
}
