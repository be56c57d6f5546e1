namespace Flock.Compression;

/// <summary>
/// No compression: the vector as d little-endian float32 values after the header (payload length
/// 6 + 4·d). The exact baseline every compressor is compared against. Values are passed through
/// bit for bit, NaN and infinities included. Stateless. Large vectors are copied on several threads
/// (<see cref="Flock.Tensors.KernelParallelism"/>).
/// </summary>
public sealed class Identity : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "identity";

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public CodecId Codec => CodecId.Identity;

    /// <inheritdoc />
    public string Description => "identity: dense float32, lossless";

    /// <inheritdoc />
    public int StateLength(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        return 0;
    }

    /// <inheritdoc />
    public int MaxEncodedLength(int dimension) =>
        CompressorCheck.Length(PayloadHeader.Length + 4L * CompressorCheck.Dimension(dimension), dimension, "payload");

    /// <inheritdoc />
    public unsafe int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int pos = Payload.WriteHeader(destination, CodecId.Identity, input.Length);
        fixed (float* x = input)
        fixed (byte* dst = destination)
            CodecChunks.Copy((byte*)x, dst + pos, 4L * input.Length);
        return pos + 4 * input.Length;
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => DecodeCore(payload, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => DecodeCore(payload, accumulator, scale, accumulate: true);

    internal static unsafe void DecodeCore(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
    {
        var reader = Payload.OpenForDecode(payload, CodecId.Identity, output.Length);
        var bytes = reader.ReadBytes(4L * output.Length, "values");
        reader.End();
        fixed (byte* v = bytes)
        fixed (float* o = output)
        {
            if (accumulate) CodecChunks.AddScaled(o, (float*)v, output.Length, scale);
            else CodecChunks.Copy(v, (byte*)o, bytes.Length);
        }
    }
}
