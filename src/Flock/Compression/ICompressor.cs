namespace Flock.Compression;

/// <summary>
/// An encoder/decoder of update vectors (gradients, model deltas) into a real byte payload: the
/// simulator charges its exact length and the network sends it as is.
/// </summary>
/// <remarks>
/// <para>
/// <b>State.</b> Like the optimizers, a compressor keeps no per-node state of its own. Methods
/// with memory (error-feedback residuals, DGC's momentum and accumulated velocity) keep it in a
/// flat float vector owned by the node: <see cref="StateLength"/> floats, zero-initialized, passed
/// to every <see cref="Encode"/>. One instance serves every node and thread.
/// </para>
/// <para>
/// <b>Randomness.</b> Stochastic encoders draw only from generators derived from the
/// <see cref="CompressionContext"/> (experiment seed, node, round), so the same inputs and context
/// give byte-identical payloads on every machine (the SIMD code paths consume randomness and round
/// identically whatever the instruction set).
/// </para>
/// <para>
/// <b>Decoding is stateless.</b> Everything a receiver needs travels in the payload: the codec id,
/// a format version, the dimension, and the codec's parameters (QSGD's levels, a sketch's seed,
/// RQM's grid). So <see cref="Payload.Decode"/> can decode any payload without knowing the sender's
/// configuration. Every decoder validates the whole payload before writing anything and throws a
/// <see cref="PayloadFormatException"/> naming the codec, the field, and the expected versus the
/// actual value; a rejected payload leaves the output untouched.
/// </para>
/// <para>
/// <b>Wire format.</b> Little-endian. A 6-byte header (<see cref="PayloadHeader"/>: codec id, format
/// version, dimension as int32) followed by the codec's body, documented on each codec.
/// </para>
/// </remarks>
public interface ICompressor
{
    /// <summary>Name in the registry (e.g. <c>"top-k"</c>, <c>"qsgd"</c>).</summary>
    string Name { get; }

    /// <summary>The codec id written in the payload header.</summary>
    CodecId Codec { get; }

    /// <summary>A one-line summary of the method and its parameters (for logs and <c>flock list</c>).</summary>
    string Description { get; }

    /// <summary>Floats of per-node state for vectors of <paramref name="dimension"/> entries (0 for stateless codecs).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is negative or too large for the state to fit an array.</exception>
    int StateLength(int dimension);

    /// <summary>An upper bound on the payload length for vectors of <paramref name="dimension"/> entries (rent this many bytes).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is negative or the bound exceeds the largest array.</exception>
    int MaxEncodedLength(int dimension);

    /// <summary>
    /// Encodes <paramref name="input"/> into <paramref name="destination"/> and returns the exact
    /// number of bytes written; updates the node's <paramref name="state"/>. Allocation-free
    /// except for pooled scratch buffers. <paramref name="input"/> must not overlap
    /// <paramref name="state"/> or <paramref name="destination"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="state"/> does not have <see cref="StateLength"/> floats, or <paramref name="destination"/> is shorter than <see cref="MaxEncodedLength"/>.</exception>
    int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context);

    /// <summary>Decodes <paramref name="payload"/> (exactly the bytes <see cref="Encode"/> returned) into <paramref name="output"/>.</summary>
    /// <exception cref="PayloadFormatException">The payload is malformed, truncated, from another codec, or its dimension is not <paramref name="output"/>'s length.</exception>
    void Decode(ReadOnlySpan<byte> payload, Span<float> output);

    /// <summary>
    /// Adds <paramref name="scale"/> times the decoded vector to <paramref name="accumulator"/>:
    /// <c>acc[i] ← acc[i] + scale·decoded[i]</c>, with <c>decoded[i]</c> rounded exactly as
    /// <see cref="Decode"/> writes it and no fused multiply-add, so with a scale of ±1 the result is
    /// exactly <c>acc ± Decode(payload)</c>. Sparse payloads touch only their entries, which is how
    /// receivers sum sparse updates cheaply.
    /// </summary>
    /// <exception cref="PayloadFormatException">As for <see cref="Decode"/>.</exception>
    void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale);
}
