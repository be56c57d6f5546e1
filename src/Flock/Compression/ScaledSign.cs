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
/// entry i is negative, padding bits zero. Stateless and deterministic. The scale is Σ |xᵢ| in
/// double over fixed chunks of 64 Ki entries, the chunk sums added in chunk order, so large vectors
/// are encoded (one pass: signs and magnitudes together) and decoded on several threads
/// (<see cref="Flock.Tensors.KernelParallelism"/>) with the same bytes as on one.
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
    public unsafe int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        fixed (float* x = input)
        fixed (byte* dst = destination)
            return EncodeCore(x, null, input.Length, dst);
    }

    /// <summary>
    /// Encodes p = <paramref name="x"/> (+ <paramref name="addend"/> when not null, the float sum
    /// e + x) into <paramref name="destination"/> in one pass over the input: each chunk writes its
    /// sign bits and its Σ |p| in double, and the scale is the chunk partials added in chunk order
    /// over d. Returns the payload length.
    /// </summary>
    /// <exception cref="ArgumentException">The scale is not finite.</exception>
    internal static unsafe int EncodeCore(float* x, float* addend, int d, byte* destination)
    {
        int pos = Payload.WriteHeader(new Span<byte>(destination, PayloadHeader.Length), CodecId.ScaledSign, d);
        byte* signs = destination + pos + 4;
        int chunks = CodecChunks.Count(d);
        double[]? rented = chunks > CodecChunks.MaxStackPartials ? new double[chunks] : null;
        double* stackPartials = stackalloc double[rented is null ? chunks : 0];
        double total = 0;
        fixed (double* heapPartials = rented)
        {
            double* partials = rented is null ? stackPartials : heapPartials;
            CodecChunks.Run(new SignJob(x, addend, d, signs, partials), chunks, (addend is null ? 4L : 8L) * d);
            for (int c = 0; c < chunks; c++) total += partials[c];
        }
        float scale = d == 0 ? 0f : (float)(total / d);
        if (!float.IsFinite(scale))
            throw new ArgumentException($"Scaled sign cannot encode this input: its mean magnitude is {scale}; the input has NaN or infinite entries.", "input");
        BinaryPrimitives.WriteSingleLittleEndian(new Span<byte>(destination + pos, 4), scale);
        return pos + 4 + (d + 7) / 8;
    }

    /// <summary>Sign bits and Σ |p| of one chunk.</summary>
    private readonly unsafe struct SignJob(float* x, float* addend, int d, byte* signs, double* partials) : IChunkJob
    {
        public void Run(int chunk)
        {
            int start = chunk * CodecChunks.Length, n = Math.Min(CodecChunks.Length, d - start);
            partials[chunk] = DenseKernels.SignsAndMagnitudes(new ReadOnlySpan<float>(x + start, n),
                addend is null ? default : new ReadOnlySpan<float>(addend + start, n), new Span<byte>(signs + start / 8, (n + 7) / 8));
        }
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => DecodeCore(payload, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => DecodeCore(payload, accumulator, scale, accumulate: true);

    internal static unsafe void DecodeCore(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
    {
        int d = output.Length;
        var reader = Payload.OpenForDecode(payload, CodecId.ScaledSign, d);
        float magnitude = reader.ReadSingle("scale");
        if (!(magnitude >= 0) || !float.IsFinite(magnitude)) throw reader.Error("scale", $"scale {magnitude} is not a finite value ≥ 0.");
        var bits = reader.ReadBytes((d + 7L) / 8, "signs");
        reader.End();
        if ((d & 7) != 0 && (bits[^1] >> (d & 7)) != 0)
            throw reader.Error("signs", $"padding bits after entry {d - 1} are set (last byte 0x{bits[^1]:X2}).");
        fixed (byte* b = bits)
        fixed (float* o = output)
            CodecChunks.Run(new DecodeJob(b, o, d, magnitude, scale, accumulate), CodecChunks.Count(d), 4L * d);
    }

    /// <summary>
    /// Adds −(±m) to p = e + x for one chunk, with the sign of p: e ← p − CopySign(m, p), exactly
    /// the value <c>DecodeAdd(payload, e, −1)</c> leaves after e ← e + x (the error-feedback residual update).
    /// </summary>
    internal static unsafe void SubtractSigns(float* residual, float* x, int d, float magnitude) =>
        CodecChunks.Run(new ResidualJob(residual, x, d, magnitude), CodecChunks.Count(d), 8L * d);

    private readonly unsafe struct ResidualJob(float* residual, float* x, int d, float magnitude) : IChunkJob
    {
        public void Run(int chunk)
        {
            int start = chunk * CodecChunks.Length, n = Math.Min(CodecChunks.Length, d - start), i = 0;
            float* e = residual + start, v = x + start;
            if (Vector512.IsHardwareAccelerated)
            {
                var m = Vector512.Create(magnitude);
                for (; i <= n - 16; i += 16)
                {
                    var p = Vector512.Load(e + i) + Vector512.Load(v + i);
                    (p - Vector512.CopySign(m, p)).Store(e + i);
                }
            }
            var m8 = Vector256.Create(magnitude);
            for (; i <= n - 8; i += 8)
            {
                var p = Vector256.Load(e + i) + Vector256.Load(v + i);
                (p - Vector256.CopySign(m8, p)).Store(e + i);
            }
            for (; i < n; i++)
            {
                float p = e[i] + v[i];
                e[i] = p - MathF.CopySign(magnitude, p);
            }
        }
    }

    /// <summary>Decodes one chunk.</summary>
    private readonly unsafe struct DecodeJob(byte* bits, float* output, int d, float magnitude, float scale, bool accumulate) : IChunkJob
    {
        public void Run(int chunk)
        {
            int start = chunk * CodecChunks.Length, n = Math.Min(CodecChunks.Length, d - start), i = 0;
            byte* b = bits + start / 8;
            float* o = output + start;
            if (Vector512.IsHardwareAccelerated)
            {
                var pos = Vector512.Create(magnitude);
                var neg = Vector512.Create(-magnitude);
                var vscale = Vector512.Create(scale);
                var lanes = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
                for (; i <= n - 16; i += 16)
                {
                    var positive = Vector512.Equals(Vector512.Create((int)*(ushort*)(b + (i >> 3))) & lanes, Vector512<int>.Zero);
                    var value = Vector512.ConditionalSelect(positive.AsSingle(), pos, neg);
                    if (accumulate) value = Vector512.Load(o + i) + value * vscale;
                    value.Store(o + i);
                }
            }
            {
                var pos = Vector256.Create(magnitude);
                var neg = Vector256.Create(-magnitude);
                var vscale = Vector256.Create(scale);
                var lanes = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
                for (; i <= n - 8; i += 8)
                {
                    var positive = Vector256.Equals(Vector256.Create((int)b[i >> 3]) & lanes, Vector256<int>.Zero);
                    var value = Vector256.ConditionalSelect(positive.AsSingle(), pos, neg);
                    if (accumulate) value = Vector256.Load(o + i) + value * vscale;
                    value.Store(o + i);
                }
            }
            for (; i < n; i++)
            {
                float value = ((b[i >> 3] >> (i & 7)) & 1) != 0 ? -magnitude : magnitude;
                o[i] = accumulate ? o[i] + value * scale : value;
            }
        }
    }
}
