using System.Buffers;

namespace Flock.Compression;

/// <summary>Conveniences over <see cref="ICompressor"/> for callers that want an exact-length array.</summary>
public static class CompressorExtensions
{
    /// <summary>
    /// Encodes into a pooled buffer and returns a new array of exactly the payload's length
    /// (one allocation; hot paths should rent <see cref="ICompressor.MaxEncodedLength"/> bytes and
    /// call <see cref="ICompressor.Encode"/> instead).
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="ICompressor.Encode"/>.</exception>
    public static byte[] EncodeToArray(this ICompressor compressor, ReadOnlySpan<float> input, Span<float> state, in CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(compressor);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(compressor.MaxEncodedLength(input.Length));
        try
        {
            int n = compressor.Encode(input, state, buffer, context);
            return buffer.AsSpan(0, n).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Encodes a stateless compressor's input (no state vector) into an exact-length array.</summary>
    /// <exception cref="ArgumentException">The compressor needs state, or as for <see cref="ICompressor.Encode"/>.</exception>
    public static byte[] EncodeToArray(this ICompressor compressor, ReadOnlySpan<float> input, in CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(compressor);
        return compressor.EncodeToArray(input, Span<float>.Empty, context);
    }
}
