using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Compression;

/// <summary>
/// Scaled sign compression: one bit per entry (its sign) and one scale, the mean magnitude
/// ‖x‖₁/d, so the decoded vector is (‖x‖₁/d)·sign(x). signSGD from "signSGD: Compressed
/// Optimisation for Non-Convex Problems" (Bernstein, Wang, Azizzadenesheli &amp; Anandkumar, 2018);
/// the ‖x‖₁/d scale and its pairing with error feedback from "Error Feedback Fixes SignSGD and
/// other Gradient Compression Schemes" (Karimireddy et al., 2019). Biased: use it inside
/// <see cref="ErrorFeedback"/>.
/// </summary>
/// <remarks>
/// The sign is the IEEE sign bit: −0 decodes as −scale and +0 as +scale. Payload (after the
/// header): the scale as float32 (finite, ≥ 0), then ⌈d/8⌉ bytes, bit i%8 of byte i/8 set when
/// entry i is negative, padding bits zero. Stateless and deterministic.
/// </remarks>
public sealed class ScaledSign : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "sign";

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public CodecId Codec => CodecId.ScaledSign;

    /// <inheritdoc />
    public string Description => "sign: 1 bit per entry, scale ‖x‖₁/d";

    /// <inheritdoc />
    public int StateLength(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        return 0;
    }

    /// <inheritdoc />
    public int MaxEncodedLength(int dimension) =>
        CompressorCheck.Length(PayloadHeader.Length + 4 + (CompressorCheck.Dimension(dimension) + 7L) / 8, dimension, "payload");

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input has a NaN or infinite entry (the scale is not finite).</exception>
    public int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length;
        float scale = d == 0 ? 0f : (float)(Kernels.SumOfMagnitudes(input) / d);
        if (!float.IsFinite(scale))
            throw new ArgumentException($"Scaled sign cannot encode this input: its mean magnitude is {scale}; the input has NaN or infinite entries.", nameof(input));
        int pos = Payload.WriteHeader(destination, CodecId.ScaledSign, d);
        BinaryPrimitives.WriteSingleLittleEndian(destination[pos..], scale);
        pos += 4;
        var bits = destination.Slice(pos, (d + 7) / 8);
        ref float x = ref MemoryMarshal.GetReference(input);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= d - 16; i += 16)
                BinaryPrimitives.WriteUInt16LittleEndian(bits[(i >> 3)..], (ushort)Vector512.ExtractMostSignificantBits(Vector512.LoadUnsafe(ref x, (nuint)i)));
        }
        for (; i <= d - 8; i += 8)
            bits[i >> 3] = (byte)Vector256.ExtractMostSignificantBits(Vector256.LoadUnsafe(ref x, (nuint)i));
        if (i < d)
        {
            int last = 0;
            for (int j = i; j < d; j++) last |= (int)(BitConverter.SingleToUInt32Bits(Unsafe.Add(ref x, j)) >> 31) << (j - i);
            bits[i >> 3] = (byte)last;
        }
        return pos + bits.Length;
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => DecodeCore(payload, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => DecodeCore(payload, accumulator, scale, accumulate: true);

    internal static void DecodeCore(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
    {
        int d = output.Length;
        var reader = Payload.OpenForDecode(payload, CodecId.ScaledSign, d);
        float magnitude = reader.ReadSingle("scale");
        if (!(magnitude >= 0) || !float.IsFinite(magnitude)) throw reader.Error("scale", $"scale {magnitude} is not a finite value ≥ 0.");
        var bits = reader.ReadBytes((d + 7L) / 8, "signs");
        reader.End();
        if ((d & 7) != 0 && (bits[^1] >> (d & 7)) != 0)
            throw reader.Error("signs", $"padding bits after entry {d - 1} are set (last byte 0x{bits[^1]:X2}).");

        ref float o = ref MemoryMarshal.GetReference(output);
        var pos = Vector256.Create(magnitude);
        var neg = Vector256.Create(-magnitude);
        var vscale = Vector256.Create(scale);
        var lanes = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
        int i = 0;
        for (; i <= d - 8; i += 8)
        {
            var positive = Vector256.Equals(Vector256.Create((int)bits[i >> 3]) & lanes, Vector256<int>.Zero);
            var value = Vector256.ConditionalSelect(positive.AsSingle(), pos, neg);
            ref float dst = ref Unsafe.Add(ref o, i);
            if (accumulate) value = Vector256.LoadUnsafe(ref dst) + value * vscale;
            value.StoreUnsafe(ref dst);
        }
        for (; i < d; i++)
        {
            float value = ((bits[i >> 3] >> (i & 7)) & 1) != 0 ? -magnitude : magnitude;
            ref float dst = ref Unsafe.Add(ref o, i);
            dst = accumulate ? dst + value * scale : value;
        }
    }
}
