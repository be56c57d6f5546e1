using System.Buffers;
using System.Globalization;

namespace Flock.Compression;

/// <summary>
/// Random-k sparsification: send k entries chosen uniformly without replacement (a fresh subset per
/// node and round, from the context's generator), as (index, value) pairs in the shared sparse
/// format. With <see cref="Unbiased"/> the sent values are scaled by d/k so that the decoded vector
/// is an unbiased estimate of the input (E[decode] = x). From "Sparsified SGD with Memory" (Stich,
/// Cordonnier &amp; Jaggi, 2018) and "Gradient Sparsification for Communication-Efficient
/// Distributed Optimization" (Wangni, Wang, Liu &amp; Zhang, 2018). Stateless.
/// </summary>
public sealed class RandomK : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "random-k";

    /// <summary>Default density.</summary>
    public const double DefaultDensity = 0.01;

    private readonly int _count;

    /// <summary>Creates random-k keeping k = ⌈density·d⌉ entries (at least 1, at most d).</summary>
    /// <param name="density">Fraction of entries kept, in (0, 1].</param>
    /// <param name="unbiased">Scale the sent values by d/k (unbiased estimator); false sends the raw values (use with <see cref="ErrorFeedback"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="density"/> is outside (0, 1].</exception>
    public RandomK(double density = DefaultDensity, bool unbiased = true)
    {
        Density = CompressorCheck.Density(density, nameof(density));
        Unbiased = unbiased;
    }

    private RandomK(int count, bool unbiased)
    {
        _count = CompressorCheck.Count(count, nameof(count), "count k");
        Unbiased = unbiased;
    }

    /// <summary>Creates random-k keeping a fixed number of entries, min(<paramref name="count"/>, d).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public static RandomK WithCount(int count, bool unbiased = true) => new(count, unbiased);

    /// <summary>The density, or 0 when a fixed count is used.</summary>
    public double Density { get; }

    /// <summary>The fixed count, or 0 when a density is used.</summary>
    public int FixedCount => _count;

    /// <summary>Whether sent values are scaled by d/k.</summary>
    public bool Unbiased { get; }

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public CodecId Codec => CodecId.RandomK;

    /// <inheritdoc />
    public string Description =>
        (_count > 0 ? $"random-k: k = {_count}" : $"random-k: density {Density.ToString(CultureInfo.InvariantCulture)}")
        + (Unbiased ? ", values scaled by d/k (unbiased)" : ", raw values");

    /// <summary>The number of entries kept for a vector of <paramref name="dimension"/> entries.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is negative.</exception>
    public int Count(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        return _count > 0 ? Math.Min(_count, dimension) : CompressorCheck.CountFromDensity(Density, dimension);
    }

    /// <inheritdoc />
    public int StateLength(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        return 0;
    }

    /// <inheritdoc />
    public int MaxEncodedLength(int dimension) =>
        CompressorCheck.Length(SparseFormat.MaxLength(dimension, Count(dimension)), dimension, "payload");

    /// <inheritdoc />
    public int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length, k = Count(d);
        int[] indices = ArrayPool<int>.Shared.Rent(Math.Max(k, 1));
        try
        {
            Sampling.DistinctSorted(context.CreateRng("random-k"), d, k, indices);
            float scale = Unbiased && k > 0 ? (float)((double)d / k) : 1f;
            return SparseFormat.Write(destination, CodecId.RandomK, d, indices.AsSpan(0, k), input, scale);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(indices);
        }
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => SparseFormat.Decode(payload, CodecId.RandomK, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => SparseFormat.Decode(payload, CodecId.RandomK, accumulator, scale, accumulate: true);
}
