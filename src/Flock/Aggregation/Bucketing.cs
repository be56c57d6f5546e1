using Flock.Aggregation.Kernels;
using Flock.Tensors;

namespace Flock.Aggregation;

/// <summary>
/// Bucketing pre-aggregator, from "Byzantine-Robust Learning on Heterogeneous Datasets via
/// Bucketing" (Karimireddy, He and Jaggi, 2022): the inputs are randomly permuted, cut into
/// ⌈n/s⌉ consecutive buckets of s (the last one may be smaller), and each bucket is replaced by the
/// plain mean of its inputs. The permutation is a Fisher–Yates shuffle by a <see cref="Rng"/> seeded
/// with the call's <c>seed</c>, so it is deterministic for a seed; derive the seed per node and round
/// (<see cref="Rng.DeriveSeed"/>). Sample counts are ignored inside buckets; each output's weight is
/// the number of inputs in its bucket.
/// </summary>
public sealed class Bucketing : IPreAggregator
{
    /// <summary>Creates bucketing with buckets of <paramref name="bucketSize"/> inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bucketSize"/> is below 1.</exception>
    public Bucketing(int bucketSize)
    {
        if (bucketSize < 1)
            throw new ArgumentOutOfRangeException(nameof(bucketSize), bucketSize, $"Bucketing: invalid bucket size s = {bucketSize}; must be ≥ 1.");
        BucketSize = bucketSize;
    }

    /// <summary>Inputs per bucket s.</summary>
    public int BucketSize { get; }

    /// <inheritdoc />
    public string Name => "bucketing";

    /// <inheritdoc />
    public int OutputCount(int inputCount) => inputCount > 0 ? (inputCount + BucketSize - 1) / BucketSize
        : throw new ArgumentOutOfRangeException(nameof(inputCount), inputCount, "The number of inputs must be positive.");

    /// <inheritdoc />
    public void Apply(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights,
        IReadOnlyList<Memory<float>> outputs, Span<float> outputWeights, ulong seed) =>
        ApplyAt(inputs, weights, outputs, outputWeights, seed, Simd.Best);

    internal unsafe void ApplyAt(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights,
        IReadOnlyList<Memory<float>> outputs, Span<float> outputWeights, ulong seed, SimdWidth width)
    {
        int n = AggregationGuard.ValidateInputs(Name, inputs, weights, out int d);
        int buckets = OutputCount(n);
        AggregationGuard.ValidateOutputs(Name, n, d, outputs, outputWeights.Length, buckets);
        var perm = ScratchPool<int>.Rent(n);
        var coef = ScratchPool<float>.Rent(BucketSize);
        try
        {
            for (int i = 0; i < n; i++) perm[i] = i;
            new Rng(seed).Shuffle(perm.AsSpan(0, n));
            using var rows = PinnedRows.Pin(inputs);
            using var outs = PinnedRows.Pin(outputs);
            for (int b = 0; b < buckets; b++) rows.EnsureNoOverlap(Name, outs[b], d);
            fixed (nint* t = rows.Table)
            fixed (int* p = perm)
            fixed (float* cf = coef)
            {
                for (int b = 0; b < buckets; b++)
                {
                    int first = b * BucketSize, size = Math.Min(BucketSize, n - first);
                    for (int j = 0; j < size; j++) cf[j] = 1f / size;
                    for (int start = 0; start < d; start += VectorKernels.Block)
                        VectorKernels.Combine((float**)t, p + first, cf, size, start, Math.Min(VectorKernels.Block, d - start), outs[b] + start, width);
                    outputWeights[b] = size;
                }
            }
        }
        finally
        {
            ScratchPool<int>.Return(perm);
            ScratchPool<float>.Return(coef);
        }
    }
}
