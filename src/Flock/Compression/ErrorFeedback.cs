using System.Buffers.Binary;

namespace Flock.Compression;

/// <summary>
/// Error feedback (residual accumulation) around any compressor: the node keeps the residual e of
/// everything not yet transmitted, compresses p = e + x, and keeps e ← p − decode(encode(p)).
/// From "Error Feedback Fixes SignSGD and other Gradient Compression Schemes" (Karimireddy,
/// Rebjock, Stich &amp; Jaggi, 2019), after "1-Bit Stochastic Gradient Descent" (Seide et al., 2014).
/// </summary>
/// <remarks>
/// State: the residual e (d floats) followed by the inner compressor's state. The payload is the
/// inner compressor's payload (same codec id), so receivers decode it with the inner codec or
/// <see cref="Payload.Decode"/>. The residual is updated with
/// <see cref="ICompressor.DecodeAdd"/> at scale −1, which subtracts exactly the values a receiver
/// decodes: after any number of rounds, Σ decoded + e equals Σ inputs up to the float rounding of
/// the additions, with no scratch vector. Around <see cref="ScaledSign"/> the steps are fused: two
/// passes over the vectors instead of three, with the same floats. An input whose sum with the
/// residual has a NaN or infinite entry is rejected before the residual changes (it would stay in
/// the residual for good). Large vectors run on several threads
/// (<see cref="Flock.Tensors.KernelParallelism"/>) with the same result as on one.
/// </remarks>
public sealed class ErrorFeedback : ICompressor
{
    /// <summary>Wraps <paramref name="inner"/> with error feedback.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inner"/> is itself an <see cref="ErrorFeedback"/>.</exception>
    public ErrorFeedback(ICompressor inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (inner is ErrorFeedback) throw new ArgumentException("Error feedback is already applied by the inner compressor; wrapping it twice is a configuration mistake.", nameof(inner));
        Inner = inner;
    }

    /// <summary>The wrapped compressor.</summary>
    public ICompressor Inner { get; }

    /// <inheritdoc />
    public string Name => "ef-" + Inner.Name;

    /// <inheritdoc />
    public CodecId Codec => Inner.Codec;

    /// <inheritdoc />
    public string Description => $"error feedback around [{Inner.Description}]";

    /// <inheritdoc />
    public int StateLength(int dimension) =>
        CompressorCheck.Length((long)CompressorCheck.Dimension(dimension) + Inner.StateLength(dimension), dimension, "state");

    /// <inheritdoc />
    public int MaxEncodedLength(int dimension) => Inner.MaxEncodedLength(dimension);

    /// <summary>The residual e (the first d floats of the state).</summary>
    /// <exception cref="ArgumentException"><paramref name="state"/> is shorter than <paramref name="dimension"/>.</exception>
    public static Span<float> Residual(Span<float> state, int dimension)
    {
        if (state.Length < dimension) throw new ArgumentException($"State length {state.Length} is shorter than the dimension {dimension}.", nameof(state));
        return state[..dimension];
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Residual + input has a NaN or infinite entry (the residual is left unchanged), or the inner compressor rejects the input.</exception>
    public unsafe int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length;
        var residual = state[..d];
        fixed (float* x = input)
        fixed (float* e = residual)
        {
            if (Inner is ScaledSign)
            {
                // Fused: the signs and scale of p = e + x without storing p, then e ← p − decode(p) in
                // a second pass; the same floats as the general path (sum, encode, DecodeAdd at −1).
                fixed (byte* dst = destination)
                {
                    int length = ScaledSign.EncodeCore(e, x, d, dst);
                    ScaledSign.SubtractSigns(e, x, d, BinaryPrimitives.ReadSingleLittleEndian(destination[PayloadHeader.Length..]));
                    return length;
                }
            }
            // A NaN or infinite entry would stay in the residual for good: reject it before any change.
            int bad = CodecChunks.FirstNonFiniteSum(e, x, d);
            if (bad >= 0)
                throw new ArgumentException($"Error feedback cannot encode entry {bad}: residual {e[bad]} + input {x[bad]} is not finite (the input has a NaN or infinite entry, or the sum overflows); the residual is unchanged.", nameof(input));
            CodecChunks.AddScaled(e, x, d, 1f);                           // p = e + x, in place
        }
        int n = Inner.Encode(residual, state[d..], destination, context);
        Inner.DecodeAdd(destination[..n], residual, -1f);                // e = p − decode(encode(p))
        return n;
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => Inner.Decode(payload, output);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => Inner.DecodeAdd(payload, accumulator, scale);
}
