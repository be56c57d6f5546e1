using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Count sketch as a linear sketch R (s×d, one ±1 per column): a hash h: [d] → [s] and a sign
/// σ: [d] → {±1} drawn from a seed; the sketch is Rx (bucket b holds Σ_{h(i) = b} σᵢ·xᵢ) and the
/// receiver de-sketches Rᵀ(Rx), estimating each entry as σᵢ·bucket[h(i)]. E[RᵀR] = I, so the
/// estimate is unbiased; colliding entries add variance. From "Finding Frequent Items in Data
/// Streams" (Charikar, Chen &amp; Farach-Colton, 2002), used for gradients in the seed paper
/// "Sketching for First Order Method: Efficient Algorithm for Low-Bandwidth Channel and
/// Vulnerability" (2023), which draws a fresh sketch every iteration.
/// </summary>
/// <remarks>
/// <para>
/// <b>Seed.</b> A fresh 64-bit seed per round, derived from (seed, node, round) or, with
/// <see cref="SketchSeedScope.Shared"/>, from (seed, round) so all nodes use the same R and their
/// sketches can be summed before de-sketching. The seed travels in the payload, so decoding needs
/// nothing else. The hash functions are <see cref="BucketOf"/> and <see cref="SignOf"/>.
/// </para>
/// <para>
/// <b>Blocks.</b> A long vector's random buckets would make every update a cache miss (the sketch of
/// a 10M-entry vector at ratio 0.1 is 4 MB). By default the entries are hashed in blocks of
/// <see cref="DefaultBlockLength"/>: block i of the nb = ⌈d/B⌉ blocks owns the bucket segment
/// [⌊i·s/nb⌋, ⌊(i+1)·s/nb⌋) and hashes its entries into it (<see cref="SegmentOf"/>), so the
/// segment being updated stays in L1. R still has one ±1 per column with independent random signs,
/// so E[RᵀR] = I and the estimate stays unbiased; an entry only collides with entries of its own
/// block, as many on average as with global hashing. With <c>blockLength: 0</c>, or when d ≤ B or
/// s &lt; nb, the buckets are global (one block).
/// </para>
/// <para>
/// <b>Payload</b> (after the header), one block (<see cref="CodecId.CountSketch"/>): the seed
/// (uint64), s (int32; ≥ 1, or 0 for d = 0), then s float32 bucket sums; several blocks
/// (<see cref="CodecId.CountSketchBlocked"/>): the seed, log₂ B (int32), s, then the sums. Stateless.
/// </para>
/// <para>
/// <b>Threads.</b> On a vector of at least <see cref="Flock.Tensors.KernelParallelism.MinParallelBytes"/>,
/// encoding and decoding run on several threads (<see cref="Flock.Tensors.KernelParallelism"/>) over
/// chunks of whole blocks (2^16 entries, or one block if longer), a partition that depends only on
/// d and B: each chunk owns its blocks' bucket segments and sums them in entry order, and decoding is
/// entry by entry, so payloads and decoded vectors are bit-identical to one thread's. With global
/// buckets only the decode is split (into chunks of 2^16 entries).
/// </para>
/// </remarks>
public sealed class CountSketch : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "count-sketch";

    /// <summary>Default ratio s/d.</summary>
    public const double DefaultRatio = 0.1;

    /// <summary>
    /// Default number of entries per block (2^10: at ratio 0.1 a block's bucket segment is 102
    /// buckets, which the decoder holds in eight AVX-512 registers and the encoder sums in L1).
    /// </summary>
    public const int DefaultBlockLength = 1 << 10;

    private readonly int _size;

    /// <summary>Creates a count sketch with s = ⌈ratio·d⌉ buckets (at least 1).</summary>
    /// <param name="ratio">Buckets per entry, in (0, 1].</param>
    /// <param name="seedScope">Per-node or shared sketch matrices.</param>
    /// <param name="blockLength">Entries per block: a power of two ≥ 2, or 0 for global buckets.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ratio"/> is outside (0, 1], or <paramref name="blockLength"/> is neither 0 nor a power of two in [2, 2^30].</exception>
    public CountSketch(double ratio = DefaultRatio, SketchSeedScope seedScope = SketchSeedScope.PerNode, int blockLength = DefaultBlockLength)
    {
        Ratio = CompressorCheck.Density(ratio, nameof(ratio));
        SeedScope = CheckScope(seedScope);
        BlockLength = CheckBlockLength(blockLength);
    }

    private CountSketch(int size, SketchSeedScope seedScope, int blockLength)
    {
        _size = CompressorCheck.Count(size, nameof(size), "sketch size s");
        SeedScope = CheckScope(seedScope);
        BlockLength = CheckBlockLength(blockLength);
    }

    /// <summary>Creates a count sketch with a fixed number of buckets (may exceed d).</summary>
    /// <param name="size">Number of buckets s (≥ 1).</param>
    /// <param name="seedScope">Per-node or shared sketch matrices.</param>
    /// <param name="blockLength">Entries per block: a power of two ≥ 2, or 0 for global buckets.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is less than 1, or <paramref name="blockLength"/> is neither 0 nor a power of two in [2, 2^30].</exception>
    public static CountSketch WithSize(int size, SketchSeedScope seedScope = SketchSeedScope.PerNode, int blockLength = DefaultBlockLength) => new(size, seedScope, blockLength);

    private static int CheckBlockLength(int blockLength)
    {
        if (blockLength != 0 && (blockLength < 2 || blockLength > 1 << 30 || !System.Numerics.BitOperations.IsPow2(blockLength)))
            throw new ArgumentOutOfRangeException(nameof(blockLength), blockLength, $"Invalid count-sketch block length {blockLength}; must be 0 (global buckets) or a power of two in [2, 2^30].");
        return blockLength;
    }

    /// <summary>Entries per block (0: global buckets).</summary>
    public int BlockLength { get; }

    /// <summary>
    /// The number of blocks a vector of <paramref name="dimension"/> entries is hashed in: ⌈d/B⌉, or
    /// 1 when blocks are off, d ≤ B, or there are fewer buckets than blocks.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is negative.</exception>
    public int Blocks(int dimension)
    {
        int s = Size(dimension);
        if (BlockLength == 0 || dimension <= BlockLength) return 1;
        int nb = (int)(((long)dimension + BlockLength - 1) / BlockLength);
        return s >= nb ? nb : 1;
    }

    /// <summary>Bucket segment [start, start + length) of block <paramref name="block"/> of <paramref name="blocks"/> in a sketch of <paramref name="size"/> buckets.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="block"/> is outside [0, blocks).</exception>
    public static (int Start, int Length) SegmentOf(int size, int blocks, int block)
    {
        if ((uint)block >= (uint)blocks) throw new ArgumentOutOfRangeException(nameof(block), block, $"Invalid block {block}; must be in [0, {blocks}).");
        int start = (int)((long)block * size / blocks);
        return (start, (int)((block + 1L) * size / blocks) - start);
    }

    private static SketchSeedScope CheckScope(SketchSeedScope scope) =>
        Enum.IsDefined(scope) ? scope : throw new ArgumentOutOfRangeException(nameof(scope), scope, "Invalid seed scope; must be PerNode or Shared.");

    /// <summary>The ratio s/d, or 0 when a fixed size is used.</summary>
    public double Ratio { get; }

    /// <summary>The fixed size, or 0 when a ratio is used.</summary>
    public int FixedSize => _size;

    /// <summary>Whose randomness draws the sketch matrix.</summary>
    public SketchSeedScope SeedScope { get; }

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public CodecId Codec => CodecId.CountSketch;

    /// <inheritdoc />
    public string Description =>
        (_size > 0 ? $"count-sketch: s = {_size} buckets" : $"count-sketch: s = ⌈{Ratio.ToString(CultureInfo.InvariantCulture)}·d⌉ buckets")
        + $", {(SeedScope == SketchSeedScope.Shared ? "shared" : "per-node")} seed per round";

    /// <summary>The number of buckets s for a vector of <paramref name="dimension"/> entries (0 when d = 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is negative.</exception>
    public int Size(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        if (dimension == 0) return 0;
        return _size > 0 ? _size : CompressorCheck.CountFromDensity(Ratio, dimension);
    }

    /// <summary>The bucket h(<paramref name="index"/>) ∈ [0, <paramref name="buckets"/>) for a seed.</summary>
    public static int BucketOf(ulong seed, int index, int buckets) => SketchHash.Bucket(SketchHash.Hash(seed, index), buckets);

    /// <summary>The sign σ(<paramref name="index"/>) ∈ {−1, +1} for a seed.</summary>
    public static float SignOf(ulong seed, int index) => SketchHash.SignMask(SketchHash.Hash(seed, index)) != 0 ? -1f : 1f;

    /// <summary>The seed this compressor uses for a context.</summary>
    public ulong SeedFor(in CompressionContext context) =>
        SeedScope == SketchSeedScope.Shared ? context.DeriveSharedSeed(RegistryName) : context.DeriveSeed(RegistryName);

    /// <inheritdoc />
    public int StateLength(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        return 0;
    }

    /// <inheritdoc />
    public int MaxEncodedLength(int dimension) =>
        CompressorCheck.Length(PayloadHeader.Length + 12 + (Blocks(dimension) > 1 ? 4 : 0) + 4L * Size(dimension), dimension, "payload");

    /// <summary>Sketches of at least this many buckets (1 MB) are prefetched ahead of the scatter/gather.</summary>
    private const int LargeSketch = 1 << 18;

    /// <summary>Bucket segments up to this length take the in-register decode and the four-copy encode.</summary>
    private const int SmallSegment = 128;

    /// <summary>How many entries ahead the bucket of a large sketch is prefetched.</summary>
    private const int PrefetchAhead = 32;

    /// <inheritdoc />
    /// <remarks>A vector hashed in several blocks is written as <see cref="CodecId.CountSketchBlocked"/>.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length, s = Size(d), blocks = Blocks(d);
        ulong seed = SeedFor(context);
        var writer = new PayloadWriter(destination, blocks > 1 ? CodecId.CountSketchBlocked : CodecId.CountSketch, d);
        writer.WriteUInt64(seed);
        if (blocks > 1) writer.WriteInt32(System.Numerics.BitOperations.Log2((uint)BlockLength));
        writer.WriteInt32(s);
        var sketch = MemoryMarshal.Cast<byte, float>(destination.Slice(writer.Position, 4 * s));
        int chunks = blocks > 1 ? CodecChunks.BlockChunkCount(blocks, BlockLength) : 1;
        if (KernelParallelism.UseThreads(4L * d, chunks)) ScatterThreaded(seed, input, sketch, BlockLength, blocks, chunks);
        else
            for (int c = 0; c < chunks; c++) ScatterChunk(seed, input, sketch, BlockLength, blocks, c);
        return writer.Position + 4 * s;
    }

    /// <summary>
    /// Clears the bucket segments of the blocks of chunk <paramref name="chunk"/> and scatters their
    /// entries (one chunk covers everything when the buckets are global). Chunks own disjoint
    /// segments, and each segment is summed in entry order, so the sketch does not depend on how
    /// chunks are spread over threads.
    /// </summary>
    private static void ScatterChunk(ulong seed, ReadOnlySpan<float> input, Span<float> sketch, int blockLength, int blocks, int chunk)
    {
        int d = input.Length, s = sketch.Length;
        if (blocks == 1)
        {
            sketch.Clear();
            Scatter(seed, 0, input, sketch);
            return;
        }
        int g = CodecChunks.BlocksPerChunk(blockLength), first = chunk * g, last = Math.Min(blocks, first + g);
        int segFrom = SegmentOf(s, blocks, first).Start, segTo = last == blocks ? s : SegmentOf(s, blocks, last).Start;
        sketch[segFrom..segTo].Clear();
        for (int block = first; block < last; block++)
        {
            var (segStart, segLength) = SegmentOf(s, blocks, block);
            int start = block * blockLength, len = Math.Min(blockLength, d - start);
            Scatter(seed, start, input.Slice(start, len), sketch.Slice(segStart, segLength));
        }
    }

    /// <summary><see cref="ScatterChunk"/> over every chunk on several threads (<see cref="KernelParallelism"/>).</summary>
    private static unsafe void ScatterThreaded(ulong seed, ReadOnlySpan<float> input, Span<float> sketch, int blockLength, int blocks, int chunks)
    {
        int d = input.Length, s = sketch.Length;
        fixed (float* xp = input)
        fixed (float* sp = sketch)
        {
            nint x = (nint)xp, sk = (nint)sp;
            KernelParallelism.For(chunks, 4L * d, c => ScatterChunk(seed, new ReadOnlySpan<float>((float*)x, d), new Span<float>((float*)sk, s), blockLength, blocks, c));
        }
    }

    /// <summary>Adds σ(i)·x[i] to bucket h(i) of <paramref name="sketch"/> for entries first … first + x.Length − 1.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scatter(ulong seed, int first, ReadOnlySpan<float> input, Span<float> sketch)
    {
        int s = sketch.Length, d = input.Length;
        if (Avx512F.IsSupported && s <= SmallSegment)
        {
            ScatterSmall512(seed, first, input, sketch);
            return;
        }
        Span<int> buckets = stackalloc int[SketchHash.Chunk];
        Span<uint> signs = stackalloc uint[SketchHash.Chunk];
        ref float sk = ref MemoryMarshal.GetReference(sketch);
        ref uint x = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(input));
        ref int br = ref MemoryMarshal.GetReference(buckets);
        ref uint sr = ref MemoryMarshal.GetReference(signs);
        // A segment of at most SmallSegment buckets is summed in four interleaved copies (short
        // dependency chains through memory), added up at the end: (c0 + c1) + (c2 + c3).
        bool small = s <= SmallSegment;
        Span<float> copies = stackalloc float[small ? 4 * SmallSegment : 0];
        copies.Clear();
        ref float cp = ref MemoryMarshal.GetReference(copies);
        for (int start = 0; start < d; start += SketchHash.Chunk)
        {
            int len = Math.Min(SketchHash.Chunk, d - start);
            int len8 = (len + 7) & ~7;
            ref uint xs = ref Unsafe.Add(ref x, start);
            int j = 0;
            if (Avx512F.IsSupported)
            {
                // Buckets and signed values x ⊕ sign, sixteen at a time, straight from the hashes.
                var a = Vector512.Create((uint)seed);
                var bb = Vector512.Create((uint)(seed >> 32));
                var vs = Vector512.Create((ulong)(uint)s).AsUInt32();
                var idx = Vector512.Create((uint)(first + start)) + Vector512<uint>.Indices;
                for (; j + 16 <= len; j += 16)
                {
                    var h = SketchHash.Hash(a, bb, idx);
                    SketchHash.Buckets(h, vs).StoreUnsafe(ref br, (nuint)j);
                    (Vector512.LoadUnsafe(ref xs, (nuint)j) ^ SketchHash.SignMasks(h)).StoreUnsafe(ref sr, (nuint)j);
                    idx += Vector512.Create(16u);
                }
                for (int t = j; t < len; t++)
                {
                    uint h = SketchHash.Hash(seed, first + start + t);
                    Unsafe.Add(ref br, t) = SketchHash.Bucket(h, s);
                    Unsafe.Add(ref sr, t) = Unsafe.Add(ref xs, t) ^ SketchHash.SignMask(h);
                }
                j = len;
            }
            else
                SketchHash.FillBuckets(seed, first + start, s, buckets[..len8], signs[..len8]);
            // Signed values x ⊕ sign first (SIMD, into the sign buffer), so the scatter below is
            // just load bucket, load value, add, store, four entries per iteration.
            if (Vector256.IsHardwareAccelerated)
                for (; j + 8 <= len; j += 8)
                    (Vector256.LoadUnsafe(ref xs, (nuint)j) ^ Vector256.LoadUnsafe(ref sr, (nuint)j)).StoreUnsafe(ref sr, (nuint)j);
            for (; j < len; j++) Unsafe.Add(ref sr, j) ^= Unsafe.Add(ref xs, j);
            ref float vr = ref Unsafe.As<uint, float>(ref sr);
            j = 0;
            if (Sse.IsSupported && s >= LargeSketch)
            {
                // A large sketch (global buckets) does not fit the caches: ask for the buckets a few entries ahead.
                unsafe
                {
                    fixed (float* table = sketch)
                    {
                        for (; j + PrefetchAhead < len; j++)
                        {
                            Sse.Prefetch0(table + Unsafe.Add(ref br, j + PrefetchAhead));
                            Unsafe.Add(ref sk, Unsafe.Add(ref br, j)) += Unsafe.Add(ref vr, j);
                        }
                    }
                }
            }
            if (small)
            {
                // Entry j adds into copy j mod 4, so a run of hits on one bucket is four independent chains.
                unsafe
                {
                    j = ScatterFour((float*)Unsafe.AsPointer(ref cp), (int*)Unsafe.AsPointer(ref br), (float*)Unsafe.AsPointer(ref vr), j, len);
                }
                for (; j < len; j++) Unsafe.Add(ref cp, SmallSegment * (j & 3) + Unsafe.Add(ref br, j)) += Unsafe.Add(ref vr, j);
                continue;
            }
            // In program order, so entries hitting the same bucket add up exactly as one at a time.
            for (; j + 4 <= len; j += 4)
            {
                Unsafe.Add(ref sk, Unsafe.Add(ref br, j)) += Unsafe.Add(ref vr, j);
                Unsafe.Add(ref sk, Unsafe.Add(ref br, j + 1)) += Unsafe.Add(ref vr, j + 1);
                Unsafe.Add(ref sk, Unsafe.Add(ref br, j + 2)) += Unsafe.Add(ref vr, j + 2);
                Unsafe.Add(ref sk, Unsafe.Add(ref br, j + 3)) += Unsafe.Add(ref vr, j + 3);
            }
            for (; j < len; j++) Unsafe.Add(ref sk, Unsafe.Add(ref br, j)) += Unsafe.Add(ref vr, j);
        }
        if (small)
            for (int b = 0; b < s; b++)
                Unsafe.Add(ref sk, b) += (Unsafe.Add(ref cp, b) + Unsafe.Add(ref cp, SmallSegment + b)) + (Unsafe.Add(ref cp, 2 * SmallSegment + b) + Unsafe.Add(ref cp, 3 * SmallSegment + b));
    }

    /// <summary>
    /// <see cref="Scatter"/> for a segment of at most <see cref="SmallSegment"/> buckets with AVX-512:
    /// the hashing of sixteen entries (vector work) and the four-copy scatter of the sixteen hashed
    /// <see cref="ScatterLag"/> entries earlier (loads and stores) share one loop, so the two kinds of
    /// work overlap. Entries are added in the same order, into the same copies, as hashing the whole
    /// chunk first.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ScatterSmall512(ulong seed, int first, ReadOnlySpan<float> input, Span<float> sketch)
    {
        int s = sketch.Length, d = input.Length;
        int* buckets = stackalloc int[SketchHash.Chunk];
        float* values = stackalloc float[SketchHash.Chunk];
        float* copies = stackalloc float[4 * SmallSegment];
        new Span<float>(copies, 4 * SmallSegment).Clear();
        var a = Vector512.Create((uint)seed);
        var bb = Vector512.Create((uint)(seed >> 32));
        var vs = Vector512.Create((ulong)(uint)s).AsUInt32();
        fixed (float* xp = input)
        {
            for (int start = 0; start < d; start += SketchHash.Chunk)
            {
                int len = Math.Min(SketchHash.Chunk, d - start), j = 0;
                uint* xs = (uint*)(xp + start);
                var idx = Vector512.Create((uint)(first + start)) + Vector512<uint>.Indices;
                for (; j + 16 <= len; j += 16)
                {
                    var h = SketchHash.Hash(a, bb, idx);
                    idx += Vector512.Create(16u);
                    SketchHash.Buckets(h, vs).Store(buckets + j);
                    (Vector512.Load(xs + j) ^ SketchHash.SignMasks(h)).Store((uint*)values + j);
                    if (j >= ScatterLag) ScatterFour(copies, buckets, values, j - ScatterLag, j - ScatterLag + 16);
                }
                int done = Math.Max(0, j - ScatterLag);
                for (int t = j; t < len; t++)
                {
                    uint h = SketchHash.Hash(seed, first + start + t);
                    buckets[t] = SketchHash.Bucket(h, s);
                    ((uint*)values)[t] = xs[t] ^ SketchHash.SignMask(h);
                }
                done = ScatterFour(copies, buckets, values, done, len);
                for (; done < len; done++) copies[SmallSegment * (done & 3) + buckets[done]] += values[done];
            }
        }
        ref float sk = ref MemoryMarshal.GetReference(sketch);
        for (int b = 0; b < s; b++)
            Unsafe.Add(ref sk, b) += (copies[b] + copies[SmallSegment + b]) + (copies[2 * SmallSegment + b] + copies[3 * SmallSegment + b]);
    }

    /// <summary>How many entries the scatter of <see cref="ScatterSmall512"/> runs behind the hashing (a multiple of 16: the scattered buckets are no longer in flight).</summary>
    private const int ScatterLag = 64;

    /// <summary>
    /// copies[(j mod 4)·<see cref="SmallSegment"/> + buckets[j]] += values[j] for j = from, … while
    /// four entries remain before <paramref name="length"/> (stack buffers: pointers and native-width
    /// offsets, four memory operations per entry); returns the first entry left.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int ScatterFour(float* copies, int* buckets, float* values, int from, int length)
    {
        nint j = from;
        for (; j + 4 <= length; j += 4)
        {
            copies[(nint)buckets[j]] += values[j];
            copies[(nint)buckets[j + 1] + SmallSegment] += values[j + 1];
            copies[(nint)buckets[j + 2] + 2 * SmallSegment] += values[j + 2];
            copies[(nint)buckets[j + 3] + 3 * SmallSegment] += values[j + 3];
        }
        return (int)j;
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => DecodeCore(payload, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => DecodeCore(payload, accumulator, scale, accumulate: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DecodeCore(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
    {
        int d = output.Length;
        bool blocked = payload.Length > 0 && payload[0] == (byte)CodecId.CountSketchBlocked;
        var reader = Payload.OpenForDecode(payload, blocked ? CodecId.CountSketchBlocked : CodecId.CountSketch, d);
        ulong seed = reader.ReadUInt64("seed");
        int blockLength = Math.Max(d, 1), blocks = 1;
        if (blocked)
        {
            int log = reader.ReadInt32("block length");
            if (log < 1 || log > 30 || (1L << log) >= d)
                throw reader.Error("block length", $"log₂ block length {log} is outside [1, 30] or not below the dimension {d} (several blocks need B < d).");
            blockLength = 1 << log;
            blocks = (int)(((long)d + blockLength - 1) / blockLength);
        }
        int s = reader.ReadInt32("size");
        if (d == 0 ? s != 0 : s < 1) throw reader.Error("size", d == 0 ? $"s = {s}, but an empty vector has an empty sketch (s = 0)." : $"s = {s} buckets; must be ≥ 1.");
        if (blocked && s < blocks) throw reader.Error("size", $"s = {s} buckets is fewer than the {blocks} blocks of {blockLength} entries.");
        var sketch = MemoryMarshal.Cast<byte, float>(reader.ReadBytes(4L * s, "buckets"));
        reader.End();
        int chunks = blocked ? CodecChunks.BlockChunkCount(blocks, blockLength) : CodecChunks.Count(d);
        if (KernelParallelism.UseThreads(4L * d, chunks)) GatherThreaded(seed, sketch, output, blocked ? blockLength : 0, blocks, chunks, scale, accumulate);
        else if (blocked)
            for (int c = 0; c < chunks; c++) GatherChunk(seed, sketch, output, blockLength, blocks, c, scale, accumulate);
        else GatherBlock(seed, 0, sketch, output, scale, accumulate);
    }

    /// <summary>
    /// De-sketches the entries of chunk <paramref name="chunk"/>: whole blocks of a blocked sketch
    /// (<paramref name="blockLength"/> &gt; 0), or <see cref="CodecChunks.Length"/> entries of a global one.
    /// Every entry is computed on its own, so the output does not depend on the chunking.
    /// </summary>
    private static void GatherChunk(ulong seed, ReadOnlySpan<float> sketch, Span<float> output, int blockLength, int blocks, int chunk, float scale, bool accumulate)
    {
        int d = output.Length, s = sketch.Length;
        if (blockLength == 0)
        {
            int start = chunk * CodecChunks.Length, len = Math.Min(CodecChunks.Length, d - start);
            GatherBlock(seed, start, sketch, output.Slice(start, len), scale, accumulate);
            return;
        }
        int g = CodecChunks.BlocksPerChunk(blockLength), first = chunk * g, last = Math.Min(blocks, first + g);
        for (int block = first; block < last; block++)
        {
            var (segStart, segLength) = SegmentOf(s, blocks, block);
            int start = block * blockLength, len = Math.Min(blockLength, d - start);
            GatherBlock(seed, start, sketch.Slice(segStart, segLength), output.Slice(start, len), scale, accumulate);
        }
    }

    /// <summary><see cref="GatherChunk"/> over every chunk on several threads (<see cref="KernelParallelism"/>).</summary>
    private static unsafe void GatherThreaded(ulong seed, ReadOnlySpan<float> sketch, Span<float> output, int blockLength, int blocks, int chunks, float scale, bool accumulate)
    {
        int d = output.Length, s = sketch.Length;
        fixed (float* sp = sketch)
        fixed (float* op = output)
        {
            nint sk = (nint)sp, o = (nint)op;
            KernelParallelism.For(chunks, 4L * d, c => GatherChunk(seed, new ReadOnlySpan<float>((float*)sk, s), new Span<float>((float*)o, d), blockLength, blocks, c, scale, accumulate));
        }
    }

    /// <summary>output[j] = σ(first + j)·sketch[h(first + j)] (or adds scale times it).</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GatherBlock(ulong seed, int first, ReadOnlySpan<float> sketch, Span<float> output, float scale, bool accumulate)
    {
        int d = output.Length, s = sketch.Length;
        Span<int> buckets = stackalloc int[SketchHash.Chunk];
        Span<uint> signs = stackalloc uint[SketchHash.Chunk];
        ref float sk = ref MemoryMarshal.GetReference(sketch);
        ref float o = ref MemoryMarshal.GetReference(output);
        ref int br = ref MemoryMarshal.GetReference(buckets);
        ref uint sr = ref MemoryMarshal.GetReference(signs);
        var vscale = Vector256.Create(scale);
        if (Avx512F.IsSupported && s <= SmallSegment && d >= 16)
        {
            // A segment of at most 128 buckets lives in eight registers: look the buckets up with
            // two-table permutes (low five bits) and pick among the four results with bits 5 and 6.
            Span<float> table = stackalloc float[SmallSegment];
            table.Clear();
            sketch.CopyTo(table);
            ref float tr = ref MemoryMarshal.GetReference(table);
            var t0 = Vector512.LoadUnsafe(ref tr);
            var t1 = Vector512.LoadUnsafe(ref tr, 16);
            var t2 = Vector512.LoadUnsafe(ref tr, 32);
            var t3 = Vector512.LoadUnsafe(ref tr, 48);
            var t4 = Vector512.LoadUnsafe(ref tr, 64);
            var t5 = Vector512.LoadUnsafe(ref tr, 80);
            var t6 = Vector512.LoadUnsafe(ref tr, 96);
            var t7 = Vector512.LoadUnsafe(ref tr, 112);
            var bit6 = Vector512.Create(64);
            var a = Vector512.Create((uint)seed);
            var bb = Vector512.Create((uint)(seed >> 32));
            var vs = Vector512.Create((ulong)(uint)s).AsUInt32();
            var idx = Vector512.Create((uint)first) + Vector512<uint>.Indices;
            var vscale5 = Vector512.Create(scale);
            var half = Vector512.Create(32);
            int j = 0;
            for (; j + 16 <= d; j += 16)
            {
                var h = SketchHash.Hash(a, bb, idx);
                idx += Vector512.Create(16u);
                var bk = SketchHash.Buckets(h, vs);
                var upper32 = Vector512.Equals(bk & half, half).AsSingle();
                var lo = Vector512.ConditionalSelect(upper32, Avx512F.PermuteVar16x32x2(t2, bk, t3), Avx512F.PermuteVar16x32x2(t0, bk, t1));
                var hi = Vector512.ConditionalSelect(upper32, Avx512F.PermuteVar16x32x2(t6, bk, t7), Avx512F.PermuteVar16x32x2(t4, bk, t5));
                var g = Vector512.ConditionalSelect(Vector512.Equals(bk & bit6, bit6).AsSingle(), hi, lo);
                var v = (g.AsUInt32() ^ SketchHash.SignMasks(h)).AsSingle();
                if (accumulate) v = Vector512.LoadUnsafe(ref o, (nuint)j) + v * vscale5;
                v.StoreUnsafe(ref o, (nuint)j);
            }
            for (; j < d; j++)
            {
                uint h = SketchHash.Hash(seed, first + j);
                float value = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(Unsafe.Add(ref sk, SketchHash.Bucket(h, s))) ^ SketchHash.SignMask(h));
                ref float dst = ref Unsafe.Add(ref o, j);
                dst = accumulate ? dst + value * scale : value;
            }
            return;
        }
        if (Avx512F.IsSupported && s < LargeSketch)
        {
            var a = Vector512.Create((uint)seed);
            var bb = Vector512.Create((uint)(seed >> 32));
            var vs = Vector512.Create((ulong)(uint)s).AsUInt32();
            var idx = Vector512.Create((uint)first) + Vector512<uint>.Indices;
            var vscale5 = Vector512.Create(scale);
            int j = 0;
            // Buckets and sign masks of a chunk (SIMD), its raw bucket values (scalar loads: on
            // sketches that fit the caches they beat hardware gathers), then signs and scale (SIMD).
            Span<int> bucketBuffer = stackalloc int[SketchHash.Chunk];
            Span<uint> signBuffer = stackalloc uint[SketchHash.Chunk];
            Span<uint> valueBuffer = stackalloc uint[SketchHash.Chunk];
            ref int bq = ref MemoryMarshal.GetReference(bucketBuffer);
            ref uint sq = ref MemoryMarshal.GetReference(signBuffer);
            ref uint vq = ref MemoryMarshal.GetReference(valueBuffer);
            ref uint skb = ref Unsafe.As<float, uint>(ref sk);
            for (; j + 16 <= d; j += SketchHash.Chunk)
            {
                int len = Math.Min(SketchHash.Chunk, d - j) & ~15;
                for (int t = 0; t < len; t += 16)
                {
                    var h = SketchHash.Hash(a, bb, idx);
                    idx += Vector512.Create(16u);
                    SketchHash.Buckets(h, vs).StoreUnsafe(ref bq, (nuint)t);
                    SketchHash.SignMasks(h).StoreUnsafe(ref sq, (nuint)t);
                }
                for (int t = 0; t < len; t += 4)
                {
                    Unsafe.Add(ref vq, t) = Unsafe.Add(ref skb, Unsafe.Add(ref bq, t));
                    Unsafe.Add(ref vq, t + 1) = Unsafe.Add(ref skb, Unsafe.Add(ref bq, t + 1));
                    Unsafe.Add(ref vq, t + 2) = Unsafe.Add(ref skb, Unsafe.Add(ref bq, t + 2));
                    Unsafe.Add(ref vq, t + 3) = Unsafe.Add(ref skb, Unsafe.Add(ref bq, t + 3));
                }
                ref float oj = ref Unsafe.Add(ref o, j);
                for (int t = 0; t < len; t += 16)
                {
                    var v = (Vector512.LoadUnsafe(ref vq, (nuint)t) ^ Vector512.LoadUnsafe(ref sq, (nuint)t)).AsSingle();
                    if (accumulate) v = Vector512.LoadUnsafe(ref oj, (nuint)t) + v * vscale5;
                    v.StoreUnsafe(ref oj, (nuint)t);
                }
                if (len < SketchHash.Chunk)
                {
                    j += len;
                    break;
                }
            }
            for (; j < d; j++)
            {
                uint h = SketchHash.Hash(seed, first + j);
                float value = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(Unsafe.Add(ref sk, SketchHash.Bucket(h, s))) ^ SketchHash.SignMask(h));
                ref float dst = ref Unsafe.Add(ref o, j);
                dst = accumulate ? dst + value * scale : value;
            }
            return;
        }
        for (int start = 0; start < d; start += SketchHash.Chunk)
        {
            int len = Math.Min(SketchHash.Chunk, d - start);
            int len8 = (len + 7) & ~7;
            SketchHash.FillBuckets(seed, first + start, s, buckets[..len8], signs[..len8]);
            int j = 0;
            if (Avx2.IsSupported)
            {
                unsafe
                {
                    fixed (float* table = sketch)
                    {
                        for (; j <= len - 8; j += 8)
                        {
                            if (s >= LargeSketch && j + PrefetchAhead + 8 <= len)
                                for (int t = 0; t < 8; t++) Sse.Prefetch0(table + Unsafe.Add(ref br, j + PrefetchAhead + t));
                            var g = Avx2.GatherVector256(table, Vector256.LoadUnsafe(ref br, (nuint)j), 4);
                            var v = (g.AsUInt32() ^ Vector256.LoadUnsafe(ref sr, (nuint)j)).AsSingle();
                            ref float dst = ref Unsafe.Add(ref o, start + j);
                            if (accumulate) v = Vector256.LoadUnsafe(ref dst) + v * vscale;
                            v.StoreUnsafe(ref dst);
                        }
                    }
                }
            }
            for (; j < len; j++)
            {
                float value = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(Unsafe.Add(ref sk, Unsafe.Add(ref br, j))) ^ Unsafe.Add(ref sr, j));
                ref float dst = ref Unsafe.Add(ref o, start + j);
                dst = accumulate ? dst + value * scale : value;
            }
        }
    }
}
