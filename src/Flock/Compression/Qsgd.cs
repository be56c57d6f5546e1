using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Compression;

/// <summary>
/// QSGD stochastic quantization, from "QSGD: Communication-Efficient SGD via Gradient Quantization
/// and Encoding" (Alistarh, Grubic, Li, Tomioka &amp; Vojnovic, 2017). The vector is cut into
/// buckets; for each bucket with norm ‖b‖ and s levels, every entry becomes
/// ‖b‖·sign(x)·ℓ/s where ℓ ∈ {0, …, s} is |x|·s/‖b‖ rounded down or up at random with the
/// probabilities that make it unbiased (E[decode] = x). The error is below ‖b‖/s per entry.
/// </summary>
/// <remarks>
/// <para>
/// <b>Packing.</b> Each entry is sent as the code s + sign·ℓ ∈ [0, 2s] in a fixed number of bits,
/// chosen from s: 2 bits for s = 1, 4 bits for s ≤ 7, 8 bits for s ≤ 127 (the paper's Elias
/// coding of the levels is not used: fixed widths decode at memory speed). The paper's practical
/// variant normalizes per bucket (default 512 entries); a bucket size of 0 uses one norm for the
/// whole vector as in the paper's analysis.
/// </para>
/// <para>
/// <b>Payload</b> (after the header): byte 6 s (1–127); byte 7 bits per entry (2, 4 or 8, must
/// match s); bytes 8–11 bucket size B (int32; a multiple of 8, or ≥ d for a single bucket);
/// ⌈d/B⌉ float32 bucket norms (finite, ≥ 0); then ⌈d·bits/8⌉ bytes of codes, least significant
/// bits first, padding bits zero. The decoder rejects codes above 2s.
/// </para>
/// <para>
/// Randomness: sixteen xoshiro128** lanes seeded from (seed, node, round, "qsgd"); uniform
/// variates have 24 bits, so the rounding probabilities are exact to 2^−24. Stateless.
/// </para>
/// </remarks>
public sealed class Qsgd : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "qsgd";

    /// <summary>Default number of levels s (4-bit codes).</summary>
    public const int DefaultLevels = 7;

    /// <summary>Default bucket size.</summary>
    public const int DefaultBucketSize = 512;

    /// <summary>Largest supported s (8-bit codes).</summary>
    public const int MaxLevels = 127;

    private const int BodyHeaderLength = 6;

    /// <summary>Creates QSGD.</summary>
    /// <param name="levels">Number of levels s, 1–127.</param>
    /// <param name="bucketSize">Entries per norm: a positive multiple of 8, or 0 for one norm over the whole vector.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public Qsgd(int levels = DefaultLevels, int bucketSize = DefaultBucketSize)
    {
        if (levels < 1 || levels > MaxLevels)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, $"Invalid QSGD levels s: {levels}; must be in [1, {MaxLevels}].");
        if (bucketSize < 0 || bucketSize % 8 != 0)
            throw new ArgumentOutOfRangeException(nameof(bucketSize), bucketSize, $"Invalid QSGD bucket size: {bucketSize}; must be a positive multiple of 8, or 0 for the whole vector.");
        Levels = levels;
        BucketSize = bucketSize;
        BitsPerEntry = BitsFor(levels);
    }

    /// <summary>Number of levels s.</summary>
    public int Levels { get; }

    /// <summary>Entries per norm (0: the whole vector).</summary>
    public int BucketSize { get; }

    /// <summary>Bits per entry on the wire (2, 4 or 8).</summary>
    public int BitsPerEntry { get; }

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public CodecId Codec => CodecId.Qsgd;

    /// <inheritdoc />
    public string Description =>
        $"qsgd: s = {Levels} levels, {BitsPerEntry} bits/entry, " + (BucketSize == 0 ? "one norm for the whole vector" : $"buckets of {BucketSize}");

    internal static int BitsFor(int levels) => levels == 1 ? 2 : levels <= 7 ? 4 : 8;

    private int EffectiveBucket(int dimension) => BucketSize == 0 || BucketSize >= dimension ? Math.Max(dimension, 1) : BucketSize;

    /// <inheritdoc />
    public int StateLength(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        return 0;
    }

    /// <inheritdoc />
    public int MaxEncodedLength(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        long buckets = (dimension + (long)EffectiveBucket(dimension) - 1) / EffectiveBucket(dimension);
        return CompressorCheck.Length(PayloadHeader.Length + BodyHeaderLength + 4 * buckets + ((long)dimension * BitsPerEntry + 7) / 8, dimension, "payload");
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input has a NaN or infinite entry (a bucket norm is not finite).</exception>
    public int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length, bucket = EffectiveBucket(d), bits = BitsPerEntry, s = Levels;
        int buckets = (int)((d + (long)bucket - 1) / bucket);
        int pos = Payload.WriteHeader(destination, CodecId.Qsgd, d);
        destination[pos++] = (byte)s;
        destination[pos++] = (byte)bits;
        BinaryPrimitives.WriteInt32LittleEndian(destination[pos..], bucket);
        pos += 4;
        var norms = destination.Slice(pos, 4 * buckets);
        pos += 4 * buckets;
        var codes = destination[pos..];
        var rng = new SimdRandom(context.CreateRng("qsgd"));
        Span<float> uniforms = stackalloc float[Chunk];
        for (int b = 0; b < buckets; b++)
        {
            int start = b * bucket, len = Math.Min(bucket, d - start);
            var x = input.Slice(start, len);
            float norm = (float)Math.Sqrt(Kernels.SumOfSquares(x));
            if (!float.IsFinite(norm))
                throw new ArgumentException($"QSGD cannot encode bucket {b} (entries {start}–{start + len - 1}): its norm is {norm}; the input has NaN or infinite entries.", nameof(input));
            BinaryPrimitives.WriteSingleLittleEndian(norms[(4 * b)..], norm);
            float scale = norm > 0 ? s / norm : 0f;
            for (int c = 0; c < len; c += Chunk)
            {
                int n = Math.Min(Chunk, len - c);
                rng.FillFloats(uniforms[..((n + 15) & ~15)]);
                QuantizeChunk(x.Slice(c, n), uniforms, codes[(int)((long)(start + c) * bits / 8)..], scale, s, bits);
            }
        }
        return pos + (int)(((long)d * bits + 7) / 8);
    }

    /// <summary>Uniforms drawn per refill (a multiple of 32, and bucket offsets stay byte-aligned).</summary>
    private const int Chunk = 512;

    /// <summary>Quantizes up to <see cref="Chunk"/> entries with their uniforms and packs the codes.</summary>
    private static void QuantizeChunk(ReadOnlySpan<float> x, ReadOnlySpan<float> uniforms, Span<byte> codes, float scale, int s, int bits)
    {
        int n = x.Length, i = 0, o = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float ur = ref MemoryMarshal.GetReference(uniforms);
        var vscale = Vector256.Create(scale);
        var vs = Vector256.Create((float)s);
        for (; i <= n - 32; i += 32, o += 4 * bits)
        {
            var c0 = Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref ur, (nuint)i), vscale, vs);
            var c1 = Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i + 8), Vector256.LoadUnsafe(ref ur, (nuint)i + 8), vscale, vs);
            var c2 = Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i + 16), Vector256.LoadUnsafe(ref ur, (nuint)i + 16), vscale, vs);
            var c3 = Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i + 24), Vector256.LoadUnsafe(ref ur, (nuint)i + 24), vscale, vs);
            BitPacking.Store32(BitPacking.Narrow(c0, c1, c2, c3), bits, codes[o..]);
        }
        for (; i <= n - 8; i += 8, o += bits)
            BitPacking.WriteGroup(codes[o..], Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref ur, (nuint)i), vscale, vs), bits);
        if (i < n)
        {
            Span<float> tail = stackalloc float[8];
            tail.Clear();
            x[i..].CopyTo(tail);
            int valid = n - i;
            var q = Quantize(Vector256.Create((ReadOnlySpan<float>)tail), Vector256.LoadUnsafe(ref ur, (nuint)i), vscale, vs);
            var keep = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(valid));
            BitPacking.WriteGroup(codes[o..], q & keep, bits, valid);      // padding codes → 0
        }
    }

    /// <summary>Codes s + sign·ℓ for eight entries, ℓ = ⌊r⌋ or ⌈r⌉ with r = min(|x|·scale, s), up when u &lt; r − ⌊r⌋.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Quantize(Vector256<float> x, Vector256<float> u, Vector256<float> scale, Vector256<float> s)
    {
        var r = Vector256.Min(Vector256.Abs(x) * scale, s);
        var floor = Vector256.Floor(r);
        var up = Vector256.LessThan(u, r - floor);
        var level = Vector256.ConditionalSelect(up, floor + Vector256<float>.One, floor);
        var code = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), s - level, s + level);
        return Vector256.ConvertToInt32(code);
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => DecodeCore(payload, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => DecodeCore(payload, accumulator, scale, accumulate: true);

    internal static void DecodeCore(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
    {
        int d = output.Length;
        var reader = Payload.OpenForDecode(payload, CodecId.Qsgd, d);
        int s = reader.ReadByte("levels");
        if (s < 1 || s > MaxLevels) throw reader.Error("levels", $"s = {s} is outside [1, {MaxLevels}].");
        int bits = reader.ReadByte("bits");
        if (bits != BitsFor(s)) throw reader.Error("bits", $"{bits} bits per entry, but s = {s} is packed in {BitsFor(s)} bits.");
        int bucket = reader.ReadInt32("bucket size");
        if (bucket < 1 || (bucket % 8 != 0 && bucket < d))
            throw reader.Error("bucket size", $"bucket size {bucket} must be a positive multiple of 8, or ≥ the dimension {d}.");
        long buckets = (d + (long)bucket - 1) / bucket;
        var normBytes = reader.ReadBytes(4 * buckets, "norms");
        for (int b = 0; b < buckets; b++)
        {
            float norm = BinaryPrimitives.ReadSingleLittleEndian(normBytes[(4 * b)..]);
            if (!(norm >= 0) || !float.IsFinite(norm)) throw reader.Error($"norm {b}", $"bucket norm {norm} is not a finite value ≥ 0.");
        }
        long codeLength = ((long)d * bits + 7) / 8;
        var codes = reader.ReadBytes(codeLength, "codes");
        reader.End();
        ValidateCodes(ref reader, codes, d, s, bits);

        ref float o = ref MemoryMarshal.GetReference(output);
        var vs = Vector256.Create(s);
        Span<float> tail = stackalloc float[8];
        for (int b = 0; b < buckets; b++)
        {
            int start = b * bucket, len = (int)Math.Min(bucket, d - (long)start);
            float norm = BinaryPrimitives.ReadSingleLittleEndian(normBytes[(4 * b)..]);
            var step = Vector256.Create(norm / s);
            var vscale = Vector256.Create(scale);
            var c = codes[(int)((long)start * bits / 8)..];
            int i = 0, p = 0;
            for (; i <= len - 32; i += 32, p += 4 * bits)
            {
                var (q0, q1, q2, q3) = BitPacking.Widen(BitPacking.Load32(c[p..], bits));
                ref float dst = ref Unsafe.Add(ref o, start + i);
                Emit(ref dst, 0, q0, vs, step, vscale, accumulate);
                Emit(ref dst, 8, q1, vs, step, vscale, accumulate);
                Emit(ref dst, 16, q2, vs, step, vscale, accumulate);
                Emit(ref dst, 24, q3, vs, step, vscale, accumulate);
            }
            for (; i <= len - 8; i += 8, p += bits)
            {
                var q = BitPacking.FromBytes(BitPacking.Unpack(BitPacking.ReadPartial(c[p..], bits), bits));
                var value = Vector256.ConvertToSingle(q - vs) * step;
                ref float dst = ref Unsafe.Add(ref o, start + i);
                if (accumulate) value = Vector256.LoadUnsafe(ref dst) + value * vscale;
                value.StoreUnsafe(ref dst);
            }
            if (i < len)
            {
                int valid = len - i;
                var q = BitPacking.FromBytes(BitPacking.Unpack(BitPacking.ReadPartial(c[p..], (valid * bits + 7) / 8), bits));
                (Vector256.ConvertToSingle(q - vs) * step).CopyTo(tail);
                for (int j = 0; j < valid; j++)
                {
                    ref float dst = ref Unsafe.Add(ref o, start + i + j);
                    dst = accumulate ? dst + tail[j] * scale : tail[j];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Emit(ref float dst, nuint offset, Vector256<int> code, Vector256<int> s, Vector256<float> step, Vector256<float> scale, bool accumulate)
    {
        var value = Vector256.ConvertToSingle(code - s) * step;
        if (accumulate) value = Vector256.LoadUnsafe(ref dst, offset) + value * scale;
        value.StoreUnsafe(ref dst, offset);
    }

    /// <summary>Every code ≤ 2s and the padding bits of the last byte zero.</summary>
    private static void ValidateCodes(ref PayloadReader reader, ReadOnlySpan<byte> codes, int d, int s, int bits)
    {
        int limit = 2 * s;
        int i = 0, n = codes.Length;
        bool bad = false;
        ref byte r = ref MemoryMarshal.GetReference(codes);
        var vlimit = Vector256.Create((byte)limit);
        var low = Vector256.Create((byte)0x0F);
        var pairs = Vector256.Create((byte)0x55);
        for (; i <= n - 32 && !bad; i += 32)
        {
            var v = Vector256.LoadUnsafe(ref r, (nuint)i);
            bad = bits switch
            {
                8 => Vector256.GreaterThanAny(v, vlimit),
                4 => Vector256.GreaterThanAny(v & low, vlimit) || Vector256.GreaterThanAny(v >>> 4, vlimit),
                _ => ((v & (v >>> 1) & pairs) != Vector256<byte>.Zero),
            };
        }
        for (; i < n && !bad; i++)
        {
            int v = codes[i];
            bad = bits switch
            {
                8 => v > limit,
                4 => (v & 0x0F) > limit || (v >> 4) > limit,
                _ => (v & (v >> 1) & 0x55) != 0,
            };
        }
        if (bad)
        {
            for (int e = 0; e < d; e++)
            {
                int code = (codes[(int)((long)e * bits / 8)] >> (int)((long)e * bits % 8)) & ((1 << bits) - 1);
                if (code > limit) throw reader.Error($"code {e}", $"code {code} is above 2s = {limit}.");
            }
        }
        int usedBits = (int)((long)d * bits % 8);
        if (usedBits != 0 && (codes[^1] >> usedBits) != 0)
            throw reader.Error("codes", $"padding bits after entry {d - 1} are set (last byte 0x{codes[^1]:X2}).");
    }
}
