using System.Buffers;
using System.Globalization;

namespace Flock.Compression;

/// <summary>
/// Top-k sparsification: send the k entries of largest magnitude as (index, value) pairs in the
/// shared sparse format (bitmap or delta varints, whichever is shorter). From "Sparsified SGD with
/// Memory" (Stich, Cordonnier &amp; Jaggi, 2018) and "Sparse Communication for Distributed Gradient
/// Descent" (Aji &amp; Heafield, 2017); biased, so normally wrapped in <see cref="ErrorFeedback"/>.
/// </summary>
/// <remarks>
/// The selection is exact: the payload holds exactly the k largest magnitudes, and among entries
/// tied at the k-th largest magnitude the lowest indices win (NaN ranks below every number). It is
/// found without sorting: about 0.25% of the magnitudes (enough to see 64 above the threshold) are
/// sampled from the context's generator to estimate a threshold that admits k candidates plus four
/// standard deviations, one SIMD pass collects the candidates with their entries (refining the
/// threshold if there are fewer than k or far too many), and an exact selection (radix select of
/// the k-th magnitude) runs among the candidates only. The payload does not depend on the random
/// sample. On a vector of at least <see cref="Flock.Tensors.KernelParallelism.MinParallelBytes"/>
/// the collecting pass runs on several threads (chunks gathered in chunk order: the same payload),
/// as does the decode of a payload that large. Stateless.
/// </remarks>
public sealed class TopK : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "top-k";

    /// <summary>Default density (fraction of entries kept).</summary>
    public const double DefaultDensity = 0.01;

    private readonly int _count;

    /// <summary>Creates top-k keeping k = ⌈density·d⌉ entries (at least 1, at most d).</summary>
    /// <param name="density">Fraction of entries kept, in (0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="density"/> is outside (0, 1].</exception>
    public TopK(double density = DefaultDensity)
    {
        Density = CompressorCheck.Density(density, nameof(density));
    }

    private TopK(int count)
    {
        _count = CompressorCheck.Count(count, nameof(count), "count k");
    }

    /// <summary>Creates top-k keeping a fixed number of entries, min(<paramref name="count"/>, d).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public static TopK WithCount(int count) => new(count);

    /// <summary>The density, or 0 when a fixed count is used.</summary>
    public double Density { get; }

    /// <summary>The fixed count, or 0 when a density is used.</summary>
    public int FixedCount => _count;

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public CodecId Codec => CodecId.TopK;

    /// <inheritdoc />
    public string Description => _count > 0
        ? $"top-k: k = {_count} largest magnitudes"
        : $"top-k: density {Density.ToString(CultureInfo.InvariantCulture)} (k = ⌈density·d⌉ largest magnitudes)";

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
        int k = Count(input.Length);
        // Room for every candidate, so the selection can copy the kept ones out in one pass.
        int capacity = Math.Max(Math.Max(k, Selection.TopKCapacity(input.Length, k)), 1);
        int[] indices = ArrayPool<int>.Shared.Rent(capacity);
        float[] values = ArrayPool<float>.Shared.Rent(capacity);
        try
        {
            // The selection hands back the kept entries too (collected with their indices).
            int n = Selection.TopK(input, k, context.CreateRng("top-k"), indices, values);
            return SparseFormat.WriteValues(destination, CodecId.TopK, input.Length, indices.AsSpan(0, n), values.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(indices);
            ArrayPool<float>.Shared.Return(values);
        }
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => SparseFormat.Decode(payload, CodecId.TopK, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => SparseFormat.Decode(payload, CodecId.TopK, accumulator, scale, accumulate: true);
}
