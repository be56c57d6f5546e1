using System.Numerics.Tensors;

namespace Flock.Attacks;

/// <summary>
/// Coordinate-wise statistics of a set of vectors, computed over a coordinate range in blocks with
/// stack buffers (no allocation). Two-pass standard deviation for accuracy.
/// </summary>
internal static class VectorStats
{
    /// <summary>Coordinates processed per block (2 KiB of floats per stack buffer).</summary>
    public const int Block = 512;

    /// <summary>mean[j] = (1/k) Σᵢ xs[i][offset + j] for j &lt; mean.Length (sequential float sum, then one division).</summary>
    public static void Mean(IReadOnlyList<ReadOnlyMemory<float>> xs, Span<float> mean, int offset = 0)
    {
        int k = xs.Count, len = mean.Length;
        xs[0].Span.Slice(offset, len).CopyTo(mean);
        for (int i = 1; i < k; i++) TensorPrimitives.Add(mean, xs[i].Span.Slice(offset, len), mean);
        if (k > 1) TensorPrimitives.Divide(mean, k, mean);
    }

    /// <summary>
    /// Mean and standard deviation per coordinate of range [offset, offset + mean.Length): population
    /// (divide by k) or sample (divide by k − 1; 0 when k &lt; 2).
    /// </summary>
    public static void MeanAndStd(IReadOnlyList<ReadOnlyMemory<float>> xs, Span<float> mean, Span<float> std, bool sample, int offset = 0)
    {
        Mean(xs, mean, offset);
        int k = xs.Count, len = mean.Length;
        std.Clear();
        int divisor = sample ? k - 1 : k;
        if (divisor < 1) return;
        Span<float> diff = stackalloc float[Block];
        for (int start = 0; start < len; start += Block)
        {
            int b = Math.Min(Block, len - start);
            var m = mean.Slice(start, b);
            var s = std.Slice(start, b);
            var dv = diff[..b];
            for (int i = 0; i < k; i++)
            {
                TensorPrimitives.Subtract(xs[i].Span.Slice(offset + start, b), m, dv);
                TensorPrimitives.MultiplyAdd(dv, dv, s, s);
            }
        }
        TensorPrimitives.Divide(std, divisor, std);
        TensorPrimitives.Sqrt(std, std);
    }
}
