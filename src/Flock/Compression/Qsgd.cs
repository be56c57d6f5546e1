using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// Randomness: the vector is cut into chunks of 64 Ki entries (whole buckets; or pieces of a
/// bucket longer than that), each with its own sixteen xoshiro128** lanes seeded from (seed, node,
/// round, "qsgd", chunk), so large vectors are encoded on several threads
/// (<see cref="Flock.Tensors.KernelParallelism"/>) with the same bytes as on one; uniform
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
    public unsafe int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length, bits = BitsPerEntry, s = Levels;
        var layout = new Layout(d, EffectiveBucket(d));
        int pos = Payload.WriteHeader(destination, CodecId.Qsgd, d);
        destination[pos++] = (byte)s;
        destination[pos++] = (byte)bits;
        BinaryPrimitives.WriteInt32LittleEndian(destination[pos..], layout.Bucket);
        pos += 4;
        int normsAt = pos;
        pos += 4 * layout.Buckets;
        ulong seed = context.DeriveSeed(RegistryName);
        fixed (float* x = input)
        fixed (byte* dst = destination)
        {
            var job = new EncodeJob(x, dst + normsAt, dst + pos, layout, s, bits, seed);
            if (layout.Pieces == 1)
            {
                CodecChunks.Run(job, layout.Chunks, 4L * d);                // norms and codes, whole buckets per chunk
            }
            else
            {
                // Buckets longer than a chunk: partial sums of squares per piece, added in piece order.
                double[]? rented = layout.Chunks > CodecChunks.MaxStackPartials ? new double[layout.Chunks] : null;
                double* stackPartials = stackalloc double[rented is null ? layout.Chunks : 0];
                fixed (double* heapPartials = rented)
                {
                    double* partials = rented is null ? stackPartials : heapPartials;
                    CodecChunks.Run(new SquaresJob(x, layout, partials), layout.Chunks, 4L * d);
                    for (int b = 0; b < layout.Buckets; b++)
                    {
                        double sum = 0;
                        for (int q = b * layout.Pieces; q < (b + 1) * layout.Pieces; q++) sum += partials[q];
                        BinaryPrimitives.WriteSingleLittleEndian(destination[(normsAt + 4 * b)..], (float)Math.Sqrt(sum));
                    }
                }
                CodecChunks.Run(job, layout.Chunks, 4L * d);              // skips buckets whose norm is not finite
            }
        }
        ThrowIfNotFinite(destination.Slice(normsAt, 4 * layout.Buckets), layout);
        return pos + (int)(((long)d * bits + 7) / 8);
    }

    private static void ThrowIfNotFinite(ReadOnlySpan<byte> norms, in Layout layout)
    {
        for (int b = 0; b < layout.Buckets; b++)
        {
            float norm = BinaryPrimitives.ReadSingleLittleEndian(norms[(4 * b)..]);
            if (!float.IsFinite(norm))
            {
                long start = (long)b * layout.Bucket, end = Math.Min(layout.Dimension, start + layout.Bucket) - 1;
                throw new ArgumentException($"QSGD cannot encode bucket {b} (entries {start}–{end}): its norm is {norm}; the input has NaN or infinite entries.", "input");
            }
        }
    }

    /// <summary>
    /// The chunking of a vector of d entries in buckets of <see cref="Bucket"/>: a chunk is
    /// <see cref="PerChunk"/> whole buckets when buckets are at most <see cref="CodecChunks.Length"/>
    /// entries, else one of the <see cref="Pieces"/> pieces of <see cref="CodecChunks.Length"/> entries
    /// of a bucket (the last piece of a bucket shorter, or empty in a short last bucket).
    /// </summary>
    private readonly struct Layout
    {
        public Layout(int d, int bucket)
        {
            Dimension = d;
            Bucket = bucket;
            Buckets = (int)((d + (long)bucket - 1) / bucket);
            if (bucket <= CodecChunks.Length)
            {
                PerChunk = CodecChunks.Length / bucket;
                Pieces = 1;
                Chunks = (Buckets + PerChunk - 1) / PerChunk;
            }
            else
            {
                PerChunk = 1;
                Pieces = (bucket + CodecChunks.Length - 1) / CodecChunks.Length;
                Chunks = Buckets * Pieces;
            }
        }

        public int Dimension { get; }

        public int Bucket { get; }

        public int Buckets { get; }

        /// <summary>Whole buckets per chunk (1 when buckets are cut into pieces).</summary>
        public int PerChunk { get; }

        /// <summary>Chunks per bucket (1 when chunks hold whole buckets).</summary>
        public int Pieces { get; }

        public int Chunks { get; }

        /// <summary>The entries [start, start + length) of chunk <paramref name="chunk"/>.</summary>
        public (long Start, int Length) Range(int chunk)
        {
            if (Pieces == 1)
            {
                long first = (long)chunk * PerChunk * Bucket;
                return (first, (int)(Math.Min(Dimension, first + (long)PerChunk * Bucket) - first));
            }
            long bucketStart = (long)(chunk / Pieces) * Bucket, bucketEnd = Math.Min(Dimension, bucketStart + Bucket);
            long start = bucketStart + (long)(chunk % Pieces) * CodecChunks.Length;
            return (start, (int)Math.Clamp(bucketEnd - start, 0, CodecChunks.Length));
        }
    }

    /// <summary>Σ x² of each piece (buckets longer than a chunk).</summary>
    private readonly unsafe struct SquaresJob(float* x, Layout layout, double* partials) : IChunkJob
    {
        public void Run(int chunk)
        {
            var (start, length) = layout.Range(chunk);
            partials[chunk] = DenseKernels.SumOfSquares(new ReadOnlySpan<float>(x + start, length));
        }
    }

    /// <summary>
    /// Quantizes one chunk with its own random stream: with whole buckets per chunk it first writes
    /// each bucket's norm (skipping buckets whose norm is not finite, which the caller reports); with
    /// pieces it reads the norm the caller wrote.
    /// </summary>
    private readonly unsafe struct EncodeJob(float* x, byte* norms, byte* codes, Layout layout, int s, int bits, ulong seed) : IChunkJob
    {
        public void Run(int chunk)
        {
            var rng = SimdRandom.FromSeed(CodecChunks.Seed(seed, chunk));
            Span<uint> random = stackalloc uint[Chunk];
            Span<float> scaled = stackalloc float[Chunk];
            var (start, length) = layout.Range(chunk);
            for (long end = start + length; start < end;)
            {
                int b = (int)(start / layout.Bucket);
                long segmentEnd = Math.Min(end, (long)(b + 1) * layout.Bucket);
                var segment = new ReadOnlySpan<float>(x + start, (int)(segmentEnd - start));
                var normBytes = new Span<byte>(norms + 4L * b, 4);
                float norm;
                if (layout.Pieces == 1)
                {
                    norm = (float)Math.Sqrt(DenseKernels.SumOfSquares(segment));
                    BinaryPrimitives.WriteSingleLittleEndian(normBytes, norm);
                }
                else norm = BinaryPrimitives.ReadSingleLittleEndian(normBytes);
                if (float.IsFinite(norm))
                {
                    float scale = norm > 0 ? s / norm : 0f;
                    // A norm below s / float.MaxValue (≈ 1e-38) makes s / norm infinite: quantize the
                    // bucket times 2^64 (exact) against the norm times 2^64 instead.
                    bool tiny = float.IsInfinity(scale);
                    if (tiny) scale = s / (norm * TinyScale);
                    byte* c = codes + start * bits / 8;
                    for (int i = 0; i < segment.Length; i += Chunk)
                    {
                        int n = Math.Min(Chunk, segment.Length - i);
                        rng.Fill(random[..((n + 15) & ~15)]);
                        scoped ReadOnlySpan<float> part = segment.Slice(i, n);
                        if (tiny)
                        {
                            for (int j = 0; j < n; j++) scaled[j] = part[j] * TinyScale;
                            part = scaled[..n];
                        }
                        QuantizeChunk(part, random, new Span<byte>(c + (long)i * bits / 8, (n * bits + 7) / 8), scale, s, bits);
                    }
                }
                start = segmentEnd;
            }
        }
    }

    /// <summary>Uniforms drawn per refill (a multiple of 32, and bucket offsets stay byte-aligned).</summary>
    private const int Chunk = 512;

    /// <summary>2^64: buckets whose norm is too small for s / norm are quantized scaled by it (exactly).</summary>
    private const float TinyScale = 18446744073709551616f;

    /// <summary>
    /// Quantizes up to <see cref="Chunk"/> entries with their random words (entry i's uniform is
    /// (random[i] &gt;&gt; 8)·2^−24) and packs the codes. The AVX-512 and Vector256 paths compute every
    /// code with the same float operations.
    /// </summary>
    private static void QuantizeChunk(ReadOnlySpan<float> x, ReadOnlySpan<uint> random, Span<byte> codes, float scale, int s, int bits)
    {
        int n = x.Length, i = 0, o = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref uint rr = ref MemoryMarshal.GetReference(random);
        if (Avx512BW.IsSupported && codes.Length >= n * bits / 8)
        {
            ref byte cr = ref MemoryMarshal.GetReference(codes);
            var scale5 = Vector512.Create(scale);
            var s5 = Vector512.Create((float)s);
            for (; i <= n - 64; i += 64, o += 8 * bits)
            {
                var b0 = Avx512F.ConvertToVector128Byte(Quantize(Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref rr, (nuint)i), scale5, s5));
                var b1 = Avx512F.ConvertToVector128Byte(Quantize(Vector512.LoadUnsafe(ref xr, (nuint)i + 16), Vector512.LoadUnsafe(ref rr, (nuint)i + 16), scale5, s5));
                var b2 = Avx512F.ConvertToVector128Byte(Quantize(Vector512.LoadUnsafe(ref xr, (nuint)i + 32), Vector512.LoadUnsafe(ref rr, (nuint)i + 32), scale5, s5));
                var b3 = Avx512F.ConvertToVector128Byte(Quantize(Vector512.LoadUnsafe(ref xr, (nuint)i + 48), Vector512.LoadUnsafe(ref rr, (nuint)i + 48), scale5, s5));
                BitPacking.Store64(Vector512.Create(Vector256.Create(b0, b1), Vector256.Create(b2, b3)), bits, ref Unsafe.Add(ref cr, o));
            }
        }
        var vscale = Vector256.Create(scale);
        var vs = Vector256.Create((float)s);
        for (; i <= n - 32; i += 32, o += 4 * bits)
        {
            var c0 = Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref rr, (nuint)i), vscale, vs);
            var c1 = Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i + 8), Vector256.LoadUnsafe(ref rr, (nuint)i + 8), vscale, vs);
            var c2 = Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i + 16), Vector256.LoadUnsafe(ref rr, (nuint)i + 16), vscale, vs);
            var c3 = Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i + 24), Vector256.LoadUnsafe(ref rr, (nuint)i + 24), vscale, vs);
            BitPacking.Store32(BitPacking.Narrow(c0, c1, c2, c3), bits, codes[o..]);
        }
        for (; i <= n - 8; i += 8, o += bits)
            BitPacking.WriteGroup(codes[o..], Quantize(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref rr, (nuint)i), vscale, vs), bits);
        if (i < n)
        {
            Span<float> tail = stackalloc float[8];
            tail.Clear();
            x[i..].CopyTo(tail);
            int valid = n - i;
            var q = Quantize(Vector256.Create((ReadOnlySpan<float>)tail), Vector256.LoadUnsafe(ref rr, (nuint)i), vscale, vs);
            var keep = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(valid));
            BitPacking.WriteGroup(codes[o..], q & keep, bits, valid);      // padding codes → 0
        }
    }

    /// <summary>
    /// Codes s + sign·ℓ for eight entries, ℓ = ⌊r⌋ or ⌈r⌉ with r = min(|x|·scale, s), up when
    /// u &lt; r − ⌊r⌋; the sign is x's sign bit (−0 and +0 both give ℓ = 0, code s).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Quantize(Vector256<float> x, Vector256<uint> random, Vector256<float> scale, Vector256<float> s)
    {
        var r = Vector256.MinNative(Vector256.Abs(x) * scale, s);                // finite: the bucket norm is
        var floor = Vector256.Floor(r);
        var u = Vector256.ConvertToSingle((random >>> 8).AsInt32()) * Vector256.Create(1f / (1 << 24));
        var level = Vector256.ConditionalSelect(Vector256.LessThan(u, r - floor), floor + Vector256<float>.One, floor);
        return Vector256.ConvertToInt32Native(s + Vector256.CopySign(level, x));   // in [0, 2s]
    }

    /// <summary>Sixteen-lane <see cref="Quantize(Vector256{float}, Vector256{uint}, Vector256{float}, Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Quantize(Vector512<float> x, Vector512<uint> random, Vector512<float> scale, Vector512<float> s)
    {
        var r = Vector512.MinNative(Vector512.Abs(x) * scale, s);
        var floor = Vector512.Floor(r);
        var u = Vector512.ConvertToSingle((random >>> 8).AsInt32()) * Vector512.Create(1f / (1 << 24));
        var level = Vector512.ConditionalSelect(Vector512.LessThan(u, r - floor), floor + Vector512<float>.One, floor);
        return Vector512.ConvertToInt32Native(s + Vector512.CopySign(level, x));
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => DecodeCore(payload, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => DecodeCore(payload, accumulator, scale, accumulate: true);

    internal static unsafe void DecodeCore(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
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
        // A bucket at least as long as the vector is one bucket of d entries (d = 0: no chunk).
        var layout = new Layout(d, d == 0 ? 1 : Math.Min(bucket, d));
        fixed (byte* c = codes)
        fixed (byte* n = normBytes)
        fixed (float* o = output)
        {
            int bad = 0;
            CodecChunks.Run(new CheckJob(c, layout, s, bits, &bad), layout.Chunks, codeLength);
            if (bad != 0) ThrowBadCode(ref reader, codes, d, s, bits);
            int usedBits = (int)((long)d * bits % 8);
            if (usedBits != 0 && (codes[^1] >> usedBits) != 0)
                throw reader.Error("codes", $"padding bits after entry {d - 1} are set (last byte 0x{codes[^1]:X2}).");
            CodecChunks.Run(new DecodeJob(c, n, o, layout, s, bits, scale, accumulate), layout.Chunks, 4L * d);
        }
    }

    /// <summary>Decodes one chunk, bucket segment by bucket segment.</summary>
    private readonly unsafe struct DecodeJob(byte* codes, byte* norms, float* output, Layout layout, int s, int bits, float scale, bool accumulate) : IChunkJob
    {
        public void Run(int chunk)
        {
            var (start, length) = layout.Range(chunk);
            for (long end = start + length; start < end;)
            {
                int b = (int)(start / layout.Bucket);
                long segmentEnd = Math.Min(end, (long)(b + 1) * layout.Bucket);
                float norm = BinaryPrimitives.ReadSingleLittleEndian(new ReadOnlySpan<byte>(norms + 4L * b, 4));
                DecodeSegment(codes + start * bits / 8, output + start, (int)(segmentEnd - start), norm, s, bits, scale, accumulate);
                start = segmentEnd;
            }
        }
    }

    /// <summary>Decodes <paramref name="len"/> entries of one bucket starting at a byte-aligned code.</summary>
    private static unsafe void DecodeSegment(byte* codes, float* output, int len, float norm, int s, int bits, float scale, bool accumulate)
    {
        var c = new ReadOnlySpan<byte>(codes, (int)(((long)len * bits + 7) / 8));
        ref float o = ref *output;
        var vs = Vector256.Create(s);
        var step = Vector256.Create(norm / s);
        var vscale = Vector256.Create(scale);
        int i = 0, p = 0;
        if (Avx512BW.IsSupported)
        {
            var s5 = Vector512.Create(s);
            var step5 = Vector512.Create(norm / s);
            var scale5 = Vector512.Create(scale);
            for (; i <= len - 64; i += 64, p += 8 * bits)
            {
                var q = BitPacking.Load64(ref codes[p], bits);
                float* dst = output + i;
                Emit(dst, Avx512F.ConvertToVector512Int32(q.GetLower().GetLower()), s5, step5, scale5, accumulate);
                Emit(dst + 16, Avx512F.ConvertToVector512Int32(q.GetLower().GetUpper()), s5, step5, scale5, accumulate);
                Emit(dst + 32, Avx512F.ConvertToVector512Int32(q.GetUpper().GetLower()), s5, step5, scale5, accumulate);
                Emit(dst + 48, Avx512F.ConvertToVector512Int32(q.GetUpper().GetUpper()), s5, step5, scale5, accumulate);
            }
        }
        for (; i <= len - 32; i += 32, p += 4 * bits)
        {
            var (q0, q1, q2, q3) = BitPacking.Widen(BitPacking.Load32(c[p..], bits));
            ref float dst = ref Unsafe.Add(ref o, i);
            Emit(ref dst, 0, q0, vs, step, vscale, accumulate);
            Emit(ref dst, 8, q1, vs, step, vscale, accumulate);
            Emit(ref dst, 16, q2, vs, step, vscale, accumulate);
            Emit(ref dst, 24, q3, vs, step, vscale, accumulate);
        }
        for (; i <= len - 8; i += 8, p += bits)
            Emit(ref Unsafe.Add(ref o, i), 0, BitPacking.FromBytes(BitPacking.Unpack(BitPacking.ReadPartial(c[p..], bits), bits)), vs, step, vscale, accumulate);
        if (i < len)
        {
            int valid = len - i;
            Span<float> tail = stackalloc float[8];
            var q = BitPacking.FromBytes(BitPacking.Unpack(BitPacking.ReadPartial(c[p..], (valid * bits + 7) / 8), bits));
            (Vector256.ConvertToSingle(q - vs) * step).CopyTo(tail);
            for (int j = 0; j < valid; j++)
            {
                ref float dst = ref Unsafe.Add(ref o, i + j);
                dst = accumulate ? dst + tail[j] * scale : tail[j];
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Emit(float* dst, Vector512<int> code, Vector512<int> s, Vector512<float> step, Vector512<float> scale, bool accumulate)
    {
        var value = Vector512.ConvertToSingle(code - s) * step;
        if (accumulate) value = Vector512.Load(dst) + value * scale;
        value.Store(dst);
    }

    /// <summary>Sets *bad when a code of the chunk is above 2s (padding codes are checked to be zero separately).</summary>
    private readonly unsafe struct CheckJob(byte* codes, Layout layout, int s, int bits, int* bad) : IChunkJob
    {
        public void Run(int chunk)
        {
            var (start, length) = layout.Range(chunk);
            long from = start * bits / 8, to = ((start + length) * bits + 7) / 8;
            if (BitPacking.AnyAbove(new ReadOnlySpan<byte>(codes + from, (int)(to - from)), 2 * s, bits)) *bad = 1;
        }
    }

    /// <summary>Throws for the first code above 2s.</summary>
    private static void ThrowBadCode(ref PayloadReader reader, ReadOnlySpan<byte> codes, int d, int s, int bits)
    {
        int limit = 2 * s;
        for (int e = 0; e < d; e++)
        {
            int code = (codes[(int)((long)e * bits / 8)] >> (int)((long)e * bits % 8)) & ((1 << bits) - 1);
            if (code > limit) throw reader.Error($"code {e}", $"code {code} is above 2s = {limit}.");
        }
        // A padding code above 2s: reported with the padding check.
    }
}
