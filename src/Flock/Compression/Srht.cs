using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Subsampled randomized Hadamard transform as a linear sketch R = √(d′/s)·P·H·D, with D a diagonal
/// of random signs, H an orthonormal Walsh–Hadamard transform of length d′ ≥ d (the input
/// zero-padded) and P a uniform sample of s distinct rows of the d′. By default H is block-diagonal:
/// independent Hadamard transforms of <see cref="DefaultBlockLength"/> coordinates each
/// (<see cref="WalshHadamard"/> scaled by 1/√b, d′ = d rounded up to a whole block), which costs
/// O(d log b) instead of O(d′ log d′) with d′ the next power of two ≥ d, and needs no d′-long
/// scratch; with <c>blockLength: 0</c> (or when d fits one block) H is the full transform of the
/// next power of two ≥ d. With blocks, the s rows are stratified: split as evenly as possible over
/// the blocks (<see cref="RowsInBlock"/>), and within block i one row is drawn uniformly in each of
/// kᵢ consecutive strata (<see cref="BlockRowsOf"/>), its sketch entry scaled by √(stratum length).
/// Either way H is orthonormal and E[PᵀS²P] = I for the sampling P with its scales S, so
/// E[RᵀR] = I and the de-sketch Rᵀ(Rx) is an unbiased estimate of x. From
/// "Improved Analysis of the Subsampled Randomized Hadamard Transform" (Tropp, 2011) and "Faster
/// least squares approximation" (Drineas, Mahoney, Muthukrishnan &amp; Sarlós, 2011); used for
/// gradients in the seed paper "Sketching for First Order Method: Efficient Algorithm for
/// Low-Bandwidth Channel and Vulnerability" (2023), with a fresh sketch every iteration.
/// </summary>
/// <remarks>
/// <para>
/// <b>Seed.</b> As for <see cref="CountSketch"/>: a fresh 64-bit seed per round from (seed, node,
/// round), or from (seed, round) with <see cref="SketchSeedScope.Shared"/>; it travels in the
/// payload. The signs come from the sketch hash of each index; the rows from a <see cref="Rng"/>
/// seeded with the seed (<see cref="RowsOf"/>).
/// </para>
/// <para>
/// <b>Cost.</b> Encoding signs, transforms and samples one block at a time (a block stays in L1
/// or L2); decoding scatters the sampled values of a block, transforms it and applies the signs,
/// skipping blocks with no sampled row. <b>Payload</b> (after the header), one transform
/// (<see cref="CodecId.Srht"/>): the seed (uint64), s (int32, 0 ≤ s ≤ d′, ≥ 1 when d ≥ 1), then
/// the s float32 sketch values in increasing row order; several blocks
/// (<see cref="CodecId.SrhtBlocked"/>): the seed, log₂ of the block length (int32), s, then the
/// values. Stateless.
/// </para>
/// <para>
/// <b>Threads.</b> With several blocks, a vector of at least
/// <see cref="Flock.Tensors.KernelParallelism.MinParallelBytes"/> is encoded and decoded on several
/// threads (<see cref="Flock.Tensors.KernelParallelism"/>) over chunks of whole blocks (2^16 entries,
/// or one block if longer); block i's values start at ⌊i·s/blocks⌋ whatever the chunking, and blocks
/// are independent, so payloads and decoded vectors are bit-identical to one thread's.
/// </para>
/// </remarks>
public sealed class Srht : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "srht";

    /// <summary>Default ratio s/d.</summary>
    public const double DefaultRatio = 0.1;

    /// <summary>Default length of the diagonal blocks of the transform (2^12 floats: 16 KB, an L1-resident transform).</summary>
    public const int DefaultBlockLength = 1 << 12;

    /// <summary>Largest transform length (the padded length of the full transform).</summary>
    private const int MaxLength = 1 << 30;

    private readonly int _rows;

    /// <summary>Creates an SRHT sketch with s = ⌈ratio·d⌉ rows (at least 1, at most d′).</summary>
    /// <param name="ratio">Rows per entry, in (0, 1].</param>
    /// <param name="seedScope">Per-node or shared sketch matrices.</param>
    /// <param name="blockLength">Length of the diagonal Hadamard blocks: a power of two ≥ 2, or 0 for one full-length transform.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ratio"/> is outside (0, 1], or <paramref name="blockLength"/> is neither 0 nor a power of two in [2, 2^30].</exception>
    public Srht(double ratio = DefaultRatio, SketchSeedScope seedScope = SketchSeedScope.PerNode, int blockLength = DefaultBlockLength)
    {
        Ratio = CompressorCheck.Density(ratio, nameof(ratio));
        SeedScope = Enum.IsDefined(seedScope) ? seedScope : throw new ArgumentOutOfRangeException(nameof(seedScope), seedScope, "Invalid seed scope; must be PerNode or Shared.");
        BlockLength = CheckBlockLength(blockLength);
    }

    private Srht(int rows, SketchSeedScope seedScope, int blockLength)
    {
        _rows = CompressorCheck.Count(rows, nameof(rows), "row count s");
        SeedScope = Enum.IsDefined(seedScope) ? seedScope : throw new ArgumentOutOfRangeException(nameof(seedScope), seedScope, "Invalid seed scope; must be PerNode or Shared.");
        BlockLength = CheckBlockLength(blockLength);
    }

    /// <summary>Creates an SRHT sketch with a fixed number of rows, min(<paramref name="rows"/>, d′).</summary>
    /// <param name="rows">Number of rows s (≥ 1).</param>
    /// <param name="seedScope">Per-node or shared sketch matrices.</param>
    /// <param name="blockLength">Length of the diagonal Hadamard blocks: a power of two ≥ 2, or 0 for one full-length transform.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is less than 1, or <paramref name="blockLength"/> is neither 0 nor a power of two in [2, 2^30].</exception>
    public static Srht WithRows(int rows, SketchSeedScope seedScope = SketchSeedScope.PerNode, int blockLength = DefaultBlockLength) => new(rows, seedScope, blockLength);

    private static int CheckBlockLength(int blockLength)
    {
        if (blockLength != 0 && (blockLength < 2 || blockLength > MaxLength || !BitOperations.IsPow2(blockLength)))
            throw new ArgumentOutOfRangeException(nameof(blockLength), blockLength, $"Invalid SRHT block length {blockLength}; must be 0 (one full transform) or a power of two in [2, 2^30].");
        return blockLength;
    }

    /// <summary>Length of the diagonal Hadamard blocks (0: one full-length transform).</summary>
    public int BlockLength { get; }

    /// <summary>The ratio s/d, or 0 when a fixed row count is used.</summary>
    public double Ratio { get; }

    /// <summary>The fixed row count, or 0 when a ratio is used.</summary>
    public int FixedRows => _rows;

    /// <summary>Whose randomness draws the sketch matrix.</summary>
    public SketchSeedScope SeedScope { get; }

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    /// <remarks>A vector transformed in several blocks is written as <see cref="CodecId.SrhtBlocked"/> (its body also records the block length).</remarks>
    public CodecId Codec => CodecId.Srht;

    /// <inheritdoc />
    public string Description =>
        (_rows > 0 ? $"srht: s = {_rows} rows" : $"srht: s = ⌈{Ratio.ToString(CultureInfo.InvariantCulture)}·d⌉ rows")
        + $" of a {(SeedScope == SketchSeedScope.Shared ? "shared" : "per-node")} randomized Hadamard transform per round"
        + (BlockLength > 0 ? $" (blocks of {BlockLength})" : " (full length)");

    /// <summary>
    /// The block length b used for a vector of <paramref name="dimension"/> entries: the configured
    /// block length, or the full padded length <see cref="PaddedLength"/> when that is smaller or
    /// when <see cref="BlockLength"/> is 0 (one block then: the classic SRHT).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is negative or above 2^30.</exception>
    public int BlockLengthFor(int dimension)
    {
        int full = PaddedLength(dimension);
        return BlockLength == 0 ? full : Math.Min(BlockLength, full);
    }

    /// <summary>The transform length d′ for a vector of <paramref name="dimension"/> entries: d rounded up to a whole number of blocks.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is negative or above 2^30.</exception>
    public int TransformLength(int dimension)
    {
        int b = BlockLengthFor(dimension);
        return (int)(((long)dimension + b - 1) / b * b);
    }

    /// <summary>The padded length of the full transform: the next power of two ≥ d (1 for d ≤ 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is negative or above 2^30.</exception>
    public static int PaddedLength(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        if (dimension > 1 << 30) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Dimension {dimension} is too large for SRHT: the padded length must be at most 2^30.");
        return dimension <= 1 ? 1 : (int)BitOperations.RoundUpToPowerOf2((uint)dimension);
    }

    /// <summary>The number of rows s for a vector of <paramref name="dimension"/> entries (0 when d = 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is negative or too large.</exception>
    public int Rows(int dimension)
    {
        int padded = TransformLength(dimension);
        if (dimension == 0) return 0;
        return Math.Min(padded, _rows > 0 ? _rows : CompressorCheck.CountFromDensity(Ratio, dimension));
    }

    /// <summary>The seed this compressor uses for a context.</summary>
    public ulong SeedFor(in CompressionContext context) =>
        SeedScope == SketchSeedScope.Shared ? context.DeriveSharedSeed(RegistryName) : context.DeriveSeed(RegistryName);

    /// <summary>The sampled rows (increasing) of the transform of length <paramref name="paddedLength"/> for a seed.</summary>
    /// <exception cref="ArgumentException"><paramref name="rows"/> is longer than <paramref name="paddedLength"/>.</exception>
    public static void RowsOf(ulong seed, int paddedLength, Span<int> rows)
    {
        if (rows.Length > paddedLength) throw new ArgumentException($"Cannot sample {rows.Length} distinct rows out of {paddedLength}.", nameof(rows));
        Sampling.DistinctSorted(new Rng(Rng.DeriveSeed(seed, 0x524F5753UL)), paddedLength, rows.Length, rows);
    }

    /// <summary>The sign Dᵢᵢ ∈ {−1, +1} of index <paramref name="index"/> for a seed.</summary>
    public static float SignOf(ulong seed, int index) => SketchHash.PackedSignMask(seed, index) != 0 ? -1f : 1f;

    /// <inheritdoc />
    public int StateLength(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        return 0;
    }

    /// <inheritdoc />
    public int MaxEncodedLength(int dimension) =>
        CompressorCheck.Length(PayloadHeader.Length + 12 + (IsBlocked(dimension) ? 4 : 0) + 4L * Rows(dimension), dimension, "payload");

    /// <summary>Whether a vector of this dimension is transformed in several blocks (the <see cref="CodecId.SrhtBlocked"/> payload).</summary>
    private bool IsBlocked(int dimension) => BlockLengthFor(dimension) < TransformLength(dimension);

    /// <inheritdoc />
    public int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length, s = Rows(d), b = BlockLengthFor(d), padded = TransformLength(d);
        bool blocked = IsBlocked(d);
        ulong seed = SeedFor(context);
        var writer = new PayloadWriter(destination, blocked ? CodecId.SrhtBlocked : CodecId.Srht, d);
        writer.WriteUInt64(seed);
        if (blocked) writer.WriteInt32(BitOperations.Log2((uint)b));
        writer.WriteInt32(s);
        var values = MemoryMarshal.Cast<byte, float>(destination.Slice(writer.Position, 4 * s));
        int blocks = padded / b, chunks = blocked ? CodecChunks.BlockChunkCount(blocks, b) : 1;
        if (KernelParallelism.UseThreads(4L * d, chunks)) EncodeThreaded(seed, input, values, b, blocks, chunks);
        else EncodeChunk(seed, input, values, b, blocks, 0, blocks);
        return writer.Position + 4 * s;
    }

    /// <summary>The first sketch value of block <paramref name="block"/>: Σ_{i &lt; block} RowsInBlock = ⌊block·s/blocks⌋.</summary>
    private static int FirstRowOf(int rows, int blocks, int block) => (int)((long)block * rows / blocks);

    /// <summary>
    /// Sketches blocks [<paramref name="from"/>, <paramref name="to"/>) of the transform into their
    /// rows of <paramref name="values"/> (all s of them: block i's start at ⌊i·s/blocks⌋). Blocks
    /// are independent, so the values do not depend on how blocks are spread over threads.
    /// </summary>
    private static void EncodeChunk(ulong seed, ReadOnlySpan<float> input, Span<float> values, int b, int blocks, int from, int to)
    {
        int d = input.Length, s = values.Length;
        bool blocked = blocks > 1;
        float[] scratch = ArrayPool<float>.Shared.Rent(b);
        int[] rows = ArrayPool<int>.Shared.Rent(Math.Max(blocked ? (s + blocks - 1) / blocks : s, 1));
        int[] lengths = ArrayPool<int>.Shared.Rent(blocked ? (s + blocks - 1) / blocks : 1);
        try
        {
            var z = scratch.AsSpan(0, b);
            for (int block = from; block < to; block++)
            {
                int k = blocked ? RowsInBlock(s, blocks, block) : s;
                if (k == 0) continue;
                int o = FirstRowOf(s, blocks, block);
                int start = block * b, len = Math.Min(b, d - start);
                var r = rows.AsSpan(0, k);
                if (len == b && WalshHadamard.CanSplit16(b))
                {
                    // Signs and the first four levels in one pass over the block.
                    SignedButterflies(seed, start, input[start..], z);
                    WalshHadamard.TransformAfter16(z);
                }
                else
                {
                    ApplySigns(seed, start, input.Slice(start, len), z[..len], 1f, accumulate: false);
                    z[len..].Clear();
                    WalshHadamard.Transform(z);
                }
                if (blocked)
                {
                    // Row j of block i is √(nⱼ/b)·(H·Dᵢ·x)[rⱼ] (H unnormalized), nⱼ its stratum's length.
                    var n = lengths.AsSpan(0, k);
                    ForEachBlockRow(seed, block, b, k, r, n);
                    // nⱼ is ⌊b/k⌋ or ⌊b/k⌋ + 1: two square roots per block.
                    float inv = (float)(1.0 / b);
                    int q = b / k;
                    float w0 = MathF.Sqrt(q * inv), w1 = MathF.Sqrt((q + 1) * inv);
                    var dst = values.Slice(o, k);
                    Gather(z, r, dst);
                    Weigh(dst, n, q, w0, w1, dst);
                }
                else
                {
                    RowsOf(seed, b, r);
                    float norm = (float)(1.0 / Math.Sqrt(k));
                    for (int j = 0; j < k; j++) values[o + j] = z[r[j]] * norm;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
            ArrayPool<int>.Shared.Return(rows);
            ArrayPool<int>.Shared.Return(lengths);
        }
    }

    /// <summary><see cref="EncodeChunk"/> over chunks of whole blocks on several threads (<see cref="KernelParallelism"/>).</summary>
    private static unsafe void EncodeThreaded(ulong seed, ReadOnlySpan<float> input, Span<float> values, int b, int blocks, int chunks)
    {
        int d = input.Length, s = values.Length, g = CodecChunks.BlocksPerChunk(b);
        fixed (float* xp = input)
        fixed (float* vp = values)
        {
            nint x = (nint)xp, v = (nint)vp;
            KernelParallelism.For(chunks, 4L * d, c =>
                EncodeChunk(seed, new ReadOnlySpan<float>((float*)x, d), new Span<float>((float*)v, s), b, blocks, c * g, Math.Min(blocks, (c + 1) * g)));
        }
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => DecodeCore(payload, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => DecodeCore(payload, accumulator, scale, accumulate: true);

    internal static void DecodeCore(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
    {
        int d = output.Length;
        bool blocked = payload.Length > 0 && payload[0] == (byte)CodecId.SrhtBlocked;
        var reader = Payload.OpenForDecode(payload, blocked ? CodecId.SrhtBlocked : CodecId.Srht, d);
        if (d > MaxLength) throw reader.Error("dimension", $"dimension {d} is above the SRHT limit of 2^30.");
        int full = PaddedLength(d);
        ulong seed = reader.ReadUInt64("seed");
        int b = full;
        if (blocked)
        {
            int log = reader.ReadInt32("block length");
            // Several blocks means 2 ≤ b < the full padded length.
            if (log < 1 || log > 29 || (1 << log) >= full)
                throw reader.Error("block length", $"log₂ block length {log} is outside [1, {BitOperations.Log2((uint)Math.Max(full, 1)) - 1}] for dimension {d} (a block must be shorter than the padded length {full}).");
            b = 1 << log;
        }
        int padded = (int)(((long)d + b - 1) / b * b);
        int s = reader.ReadInt32("rows");
        if (s < (d == 0 ? 0 : 1) || s > (d == 0 ? 0 : padded))
            throw reader.Error("rows", $"s = {s} rows is outside [{(d == 0 ? 0 : 1)}, {(d == 0 ? 0 : padded)}] for dimension {d} (padded length {padded}).");
        var values = MemoryMarshal.Cast<byte, float>(reader.ReadBytes(4L * s, "values"));
        reader.End();
        if (d == 0) return;

        int blocks = padded / b, chunks = blocked ? CodecChunks.BlockChunkCount(blocks, b) : 1;
        if (KernelParallelism.UseThreads(4L * d, chunks)) DecodeThreaded(seed, values, output, b, blocks, chunks, scale, accumulate);
        else DecodeChunk(seed, values, output, b, blocks, 0, blocks, scale, accumulate);
    }

    /// <summary>
    /// De-sketches blocks [<paramref name="from"/>, <paramref name="to"/>) into their coordinates of
    /// <paramref name="output"/> from their rows of <paramref name="values"/> (all s of them). Blocks
    /// are independent, so the output does not depend on how blocks are spread over threads.
    /// </summary>
    private static void DecodeChunk(ulong seed, ReadOnlySpan<float> values, Span<float> output, int b, int blocks, int from, int to, float scale, bool accumulate)
    {
        int d = output.Length, s = values.Length;
        bool blocked = blocks > 1;
        float[] scratch = ArrayPool<float>.Shared.Rent(b);
        int[] rows = ArrayPool<int>.Shared.Rent(blocked ? (s + blocks - 1) / blocks : s);
        int[] lengths = ArrayPool<int>.Shared.Rent(blocked ? (s + blocks - 1) / blocks : 1);
        try
        {
            var z = scratch.AsSpan(0, b);
            for (int block = from; block < to; block++)
            {
                int k = blocked ? RowsInBlock(s, blocks, block) : s;
                int start = block * b, len = Math.Min(b, d - start);
                if (k == 0)
                {
                    // No sampled row in this block: its part of Rᵀy is zero.
                    if (!accumulate) output.Slice(start, len).Clear();
                    continue;
                }
                int o = FirstRowOf(s, blocks, block);
                var r = rows.AsSpan(0, k);
                z.Clear();
                if (blocked)
                {
                    var n = lengths.AsSpan(0, k);
                    ForEachBlockRow(seed, block, b, k, r, n);
                    float inv = (float)(1.0 / b);
                    int q = b / k;
                    float w0 = MathF.Sqrt(q * inv), w1 = MathF.Sqrt((q + 1) * inv);
                    var weighted = MemoryMarshal.Cast<int, float>(n);      // the lengths are not needed once weighed
                    Weigh(values.Slice(o, k), n, q, w0, w1, weighted);
                    Scatter(weighted, r, z);
                }
                else
                {
                    RowsOf(seed, b, r);
                    float norm = (float)(1.0 / Math.Sqrt(k));
                    for (int j = 0; j < k; j++) z[r[j]] = values[o + j] * norm;
                }
                if (len == b && WalshHadamard.EndsWithRadix16(b))
                {
                    // The last radix-16 pass writes D·(H·z) (or adds it) straight to the output.
                    WalshHadamard.TransformButLastPass(z, output.Slice(start, len));
                    LastPassSigned(seed, start, z, output.Slice(start, len), scale, accumulate);
                }
                else
                {
                    WalshHadamard.Transform(z);
                    ApplySigns(seed, start, z[..len], output.Slice(start, len), scale, accumulate);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
            ArrayPool<int>.Shared.Return(rows);
            ArrayPool<int>.Shared.Return(lengths);
        }
    }

    /// <summary><see cref="DecodeChunk"/> over chunks of whole blocks on several threads (<see cref="KernelParallelism"/>).</summary>
    private static unsafe void DecodeThreaded(ulong seed, ReadOnlySpan<float> values, Span<float> output, int b, int blocks, int chunks, float scale, bool accumulate)
    {
        int d = output.Length, s = values.Length, g = CodecChunks.BlocksPerChunk(b);
        fixed (float* vp = values)
        fixed (float* op = output)
        {
            nint v = (nint)vp, o = (nint)op;
            KernelParallelism.For(chunks, 4L * d, c =>
                DecodeChunk(seed, new ReadOnlySpan<float>((float*)v, s), new Span<float>((float*)o, d), b, blocks, c * g, Math.Min(blocks, (c + 1) * g), scale, accumulate));
        }
    }

    /// <summary>
    /// Rows sampled in block <paramref name="block"/> of <paramref name="blocks"/> when s rows are
    /// spread over the blocks of a blocked transform: s is split as evenly as possible,
    /// ⌊(i+1)·s/blocks⌋ − ⌊i·s/blocks⌋ (stratified sampling; each block is scaled by its own count,
    /// so E[RᵀR] = I still holds).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="block"/> is outside [0, blocks) or a count is negative.</exception>
    public static int RowsInBlock(int rows, int blocks, int block)
    {
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "Invalid row count: must be ≥ 0.");
        if ((uint)block >= (uint)blocks) throw new ArgumentOutOfRangeException(nameof(block), block, $"Invalid block {block}; must be in [0, {blocks}).");
        return (int)((block + 1L) * rows / blocks - (long)block * rows / blocks);
    }

    /// <summary>
    /// The sampled rows (increasing offsets within the block) of block <paramref name="block"/> of a
    /// blocked transform, k = rows.Length of them, by jittered (stratified) sampling: [0, b) is cut
    /// into k consecutive strata, the first b mod k of ⌊b/k⌋ + 1 rows and the others of ⌊b/k⌋
    /// (<see cref="StratumLength"/>), and one row is drawn uniformly in each by hashing (seed, block,
    /// stratum). Row j of the sketch is scaled by √nⱼ (relative to the orthonormal transform) with nⱼ its stratum's length, so that
    /// E[Σⱼ nⱼ·e_{rⱼ}e_{rⱼ}ᵀ] = I: unbiased like a uniform sample, with exactly one hash per row.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="rows"/> is longer than <paramref name="blockLength"/>.</exception>
    public static void BlockRowsOf(ulong seed, int block, int blockLength, Span<int> rows)
    {
        int k = rows.Length;
        if (k > blockLength) throw new ArgumentException($"Cannot sample {k} distinct rows out of {blockLength}.", nameof(rows));
        ForEachBlockRow(seed, block, blockLength, k, rows, default);
    }

    /// <summary>Length of stratum <paramref name="stratum"/> when <paramref name="blockLength"/> rows are cut into <paramref name="strata"/> strata (see <see cref="BlockRowsOf"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stratum"/> is outside [0, strata) or strata is outside [1, blockLength].</exception>
    public static int StratumLength(int blockLength, int strata, int stratum)
    {
        if (strata < 1 || strata > blockLength) throw new ArgumentOutOfRangeException(nameof(strata), strata, $"Invalid number of strata {strata}; must be in [1, {blockLength}].");
        if ((uint)stratum >= (uint)strata) throw new ArgumentOutOfRangeException(nameof(stratum), stratum, $"Invalid stratum {stratum}; must be in [0, {strata}).");
        return blockLength / strata + (stratum < blockLength % strata ? 1 : 0);
    }

    /// <summary>Writes the k rows of a block and, if <paramref name="lengths"/> is not empty, their strata's lengths.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForEachBlockRow(ulong seed, int block, int b, int k, Span<int> rows, Span<int> lengths)
    {
        if (k == 0) return;
        if (rows.Length < k || (!lengths.IsEmpty && lengths.Length < k)) throw new ArgumentException($"Row buffers shorter than the {k} rows.", nameof(rows));
        ulong blockSeed = Mix64(Mix64(seed ^ 0x424C4B52UL) + (ulong)block);
        int q = b / k, rem = b % k, j0 = 0;
        bool withLengths = !lengths.IsEmpty;
        ref int rr = ref MemoryMarshal.GetReference(rows);
        ref int lr = ref MemoryMarshal.GetReference(lengths);
        if (Avx512F.IsSupported)
        {
            // Row j = j·q + min(j, rem) + ⌊h·nⱼ/2^32⌋ with nⱼ = q + (j < rem), sixteen at a time
            // straight from the hashes (the high halves of 32×32-bit products, even and odd lanes).
            var a = Vector512.Create((uint)blockSeed);
            var bb = Vector512.Create((uint)(blockSeed >> 32));
            var vq = Vector512.Create((uint)q);
            var vrem = Vector512.Create((uint)rem);
            var jv = Vector512<uint>.Indices;
            var high = Vector512.Create(0xFFFFFFFF00000000UL);
            for (; j0 + 16 <= k; j0 += 16)
            {
                var h = SketchHash.Hash(a, bb, jv);
                var nv = vq - Vector512.LessThan(jv, vrem);
                var sv = jv * vq + Vector512.Min(jv, vrem);
                var even = Avx512F.Multiply(h, nv);
                var odd = Avx512F.Multiply((h.AsUInt64() >> 32).AsUInt32(), (nv.AsUInt64() >> 32).AsUInt32());
                var bucket = ((even >> 32) | (odd & high)).AsUInt32();
                (sv + bucket).AsInt32().StoreUnsafe(ref rr, (nuint)j0);
                if (withLengths) nv.AsInt32().StoreUnsafe(ref lr, (nuint)j0);
                jv += Vector512.Create(16u);
            }
            if (j0 == k) return;
        }
        int start = j0 * q + Math.Min(j0, rem);
        Span<uint> hashes = stackalloc uint[SketchHash.Chunk];
        ref uint hr = ref MemoryMarshal.GetReference(hashes);
        for (int first = j0; first < k; first += SketchHash.Chunk)
        {
            int len = Math.Min(SketchHash.Chunk, k - first);
            SketchHash.Fill(blockSeed, first, hashes[..((len + 7) & ~7)]);
            int t0 = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                // Row j = j·q + min(j, rem) + ⌊h·nⱼ/2^32⌋ with nⱼ = q + (j < rem), eight at a time.
                var vq = Vector256.Create((uint)q);
                var vrem = Vector256.Create((uint)rem);
                var iota = Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
                for (; t0 + 8 <= len; t0 += 8)
                {
                    var jv = Vector256.Create((uint)(first + t0)) + iota;
                    var nv = vq - Vector256.LessThan(jv, vrem);
                    var sv = jv * vq + Vector256.Min(jv, vrem);
                    var (hlo, hhi) = Vector256.Widen(Vector256.LoadUnsafe(ref hr, (nuint)t0));
                    var (nlo, nhi) = Vector256.Widen(nv);
                    var bucket = Vector256.Narrow((hlo * nlo) >> 32, (hhi * nhi) >> 32);
                    (sv + bucket).AsInt32().StoreUnsafe(ref rr, (nuint)(first + t0));
                    if (withLengths) nv.AsInt32().StoreUnsafe(ref lr, (nuint)(first + t0));
                }
                start = (first + t0) * q + Math.Min(first + t0, rem);
            }
            for (int t = t0; t < len; t++)
            {
                int j = first + t;
                int n = q + (j < rem ? 1 : 0);
                Unsafe.Add(ref rr, j) = start + (int)(((ulong)Unsafe.Add(ref hr, t) * (uint)n) >> 32);
                if (withLengths) Unsafe.Add(ref lr, j) = n;
                start += n;
            }
        }
    }

    /// <summary>destination[j] = z[rows[j]] (rows within z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gather(ReadOnlySpan<float> z, ReadOnlySpan<int> rows, Span<float> destination)
    {
        int k = destination.Length, j = 0;
        if (rows.Length < k) throw new ArgumentException($"{rows.Length} rows for {k} values.", nameof(rows));
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref int rr = ref MemoryMarshal.GetReference(rows);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        for (; j + 4 <= k; j += 4)
        {
            Unsafe.Add(ref dr, j) = Unsafe.Add(ref zr, Unsafe.Add(ref rr, j));
            Unsafe.Add(ref dr, j + 1) = Unsafe.Add(ref zr, Unsafe.Add(ref rr, j + 1));
            Unsafe.Add(ref dr, j + 2) = Unsafe.Add(ref zr, Unsafe.Add(ref rr, j + 2));
            Unsafe.Add(ref dr, j + 3) = Unsafe.Add(ref zr, Unsafe.Add(ref rr, j + 3));
        }
        for (; j < k; j++) Unsafe.Add(ref dr, j) = Unsafe.Add(ref zr, Unsafe.Add(ref rr, j));
    }

    /// <summary>z[rows[j]] = values[j] (rows within z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scatter(ReadOnlySpan<float> values, ReadOnlySpan<int> rows, Span<float> z)
    {
        int k = values.Length, j = 0;
        if (rows.Length < k) throw new ArgumentException($"{rows.Length} rows for {k} values.", nameof(rows));
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref int rr = ref MemoryMarshal.GetReference(rows);
        ref float vr = ref MemoryMarshal.GetReference(values);
        for (; j + 4 <= k; j += 4)
        {
            Unsafe.Add(ref zr, Unsafe.Add(ref rr, j)) = Unsafe.Add(ref vr, j);
            Unsafe.Add(ref zr, Unsafe.Add(ref rr, j + 1)) = Unsafe.Add(ref vr, j + 1);
            Unsafe.Add(ref zr, Unsafe.Add(ref rr, j + 2)) = Unsafe.Add(ref vr, j + 2);
            Unsafe.Add(ref zr, Unsafe.Add(ref rr, j + 3)) = Unsafe.Add(ref vr, j + 3);
        }
        for (; j < k; j++) Unsafe.Add(ref zr, Unsafe.Add(ref rr, j)) = Unsafe.Add(ref vr, j);
    }

    /// <summary>destination[j] = values[j]·(lengths[j] = q ? w0 : w1) (destination may be values, or lengths reinterpreted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Weigh(ReadOnlySpan<float> values, ReadOnlySpan<int> lengths, int q, float w0, float w1, Span<float> destination)
    {
        int k = values.Length, j = 0;
        if (lengths.Length < k || destination.Length < k) throw new ArgumentException($"Buffers shorter than the {k} values.", nameof(lengths));
        ref float vr = ref MemoryMarshal.GetReference(values);
        ref int nr = ref MemoryMarshal.GetReference(lengths);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        if (Vector512.IsHardwareAccelerated)
        {
            var vq = Vector512.Create(q);
            var vw0 = Vector512.Create(w0);
            var vw1 = Vector512.Create(w1);
            for (; j + 16 <= k; j += 16)
            {
                var w = Vector512.ConditionalSelect(Vector512.Equals(Vector512.LoadUnsafe(ref nr, (nuint)j), vq).AsSingle(), vw0, vw1);
                (Vector512.LoadUnsafe(ref vr, (nuint)j) * w).StoreUnsafe(ref dr, (nuint)j);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vq = Vector256.Create(q);
            var vw0 = Vector256.Create(w0);
            var vw1 = Vector256.Create(w1);
            for (; j + 8 <= k; j += 8)
            {
                var w = Vector256.ConditionalSelect(Vector256.Equals(Vector256.LoadUnsafe(ref nr, (nuint)j), vq).AsSingle(), vw0, vw1);
                (Vector256.LoadUnsafe(ref vr, (nuint)j) * w).StoreUnsafe(ref dr, (nuint)j);
            }
        }
        for (; j < k; j++) Unsafe.Add(ref dr, j) = Unsafe.Add(ref vr, j) * (Unsafe.Add(ref nr, j) == q ? w0 : w1);
    }

    /// <summary>The SplitMix64 finalizer (Steele, Lea &amp; Flood, 2014): a bijective 64-bit mix.</summary>
    private static ulong Mix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Most sign words of one split block (<see cref="WalshHadamard.CanSplit16"/> blocks have at most 4096 entries).</summary>
    private const int MaxBlockWords = 128;

    /// <summary>
    /// The sign words (hashes of ⌊i/32⌋) of the entries first … first + n − 1 of a block, first and
    /// n multiples of 32, n ≤ 32·<see cref="MaxBlockWords"/>, hashed sixteen at a time; returns how many.
    /// </summary>
    private static int SignWords(ulong seed, int first, int n, Span<uint> words)
    {
        int count = n >> 5;
        SketchHash.Fill(seed, first >> 5, words[..((count + 7) & ~7)]);
        return count;
    }

    /// <summary>z = the strides 1–8 butterflies of D·x, sixteen entries at a time (x.Length = z.Length, a multiple of 16).</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SignedButterflies(ulong seed, int first, ReadOnlySpan<float> x, Span<float> z)
    {
        // x runs from the block to the end of the input (the block is its first z.Length entries), so
        // the next block can be prefetched without forming a reference past the input.
        // first is a multiple of the block length (≥ 16): each 16 entries take half a sign word.
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float zr = ref MemoryMarshal.GetReference(z);
        var lowShifts = Vector512.Create(31u) - Vector512<uint>.Indices;   // lane l takes bit l of the word …
        var highShifts = Vector512.Create(15u) - Vector512<uint>.Indices;  // … or bit 16 + l
        var signBit = Vector512.Create(0x80000000u);
        int n = z.Length;
        if ((first & 31) == 0 && (n & 31) == 0 && n <= 32 * MaxBlockWords)
        {
            // The block's sign words hashed sixteen at a time first, then two registers per word.
            Span<uint> words = stackalloc uint[MaxBlockWords];
            int count = SignWords(seed, first, n, words);
            ref uint wr = ref MemoryMarshal.GetReference(words);
            for (int w = 0; w < count; w++)
            {
                var word = Vector512.Create(Unsafe.Add(ref wr, w));
                nuint i = (nuint)w * 32;
                // The next block's entries are read while this one is transformed.
                if (i + (nuint)n + 32 <= (nuint)x.Length)
                    unsafe
                    {
                        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref xr, i + (nuint)n)));
                        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref xr, i + 16 + (nuint)n)));
                    }
                var v0 = (Vector512.LoadUnsafe(ref xr, i).AsUInt32() ^ (Avx512F.ShiftLeftLogicalVariable(word, lowShifts) & signBit)).AsSingle();
                var v1 = (Vector512.LoadUnsafe(ref xr, i + 16).AsUInt32() ^ (Avx512F.ShiftLeftLogicalVariable(word, highShifts) & signBit)).AsSingle();
                WalshHadamard.Butterfly16(v0).StoreUnsafe(ref zr, i);
                WalshHadamard.Butterfly16(v1).StoreUnsafe(ref zr, i + 16);
            }
            return;
        }
        for (int i = 0; i + 16 <= n; i += 16)
        {
            int c = first + i;
            var word = Vector512.Create(SketchHash.Hash(seed, c >> 5));
            var v = (Vector512.LoadUnsafe(ref xr, (nuint)i).AsUInt32() ^ (Avx512F.ShiftLeftLogicalVariable(word, (c & 16) == 0 ? lowShifts : highShifts) & signBit)).AsSingle();
            WalshHadamard.Butterfly16(v).StoreUnsafe(ref zr, (nuint)i);
        }
    }

    /// <summary>
    /// The last four Walsh–Hadamard levels (strides n/16 … n/2) of <paramref name="z"/> with the
    /// signs of coordinates first … first + n − 1 applied on the way out: output = D·(H·z), or
    /// output + scale·D·(H·z). The same additions, in the same order, as the radix-16 pass.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LastPassSigned(ulong seed, int first, ReadOnlySpan<float> z, Span<float> output, float scale, bool accumulate)
    {
        int n = z.Length, h = n / 16;
        if ((first & 31) != 0 || n > 32 * MaxBlockWords) throw new ArgumentException($"Block at {first} of length {n} is not a split block.", nameof(first));
        nuint s = (nuint)h;
        var vscale = Vector512.Create(scale);
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref float orf = ref MemoryMarshal.GetReference(output);
        Span<uint> words = stackalloc uint[MaxBlockWords];
        SignWords(seed, first, n, words);
        ref uint wr = ref MemoryMarshal.GetReference(words);
        var shifts = new Signs(Vector512.Create(31u) - Vector512<uint>.Indices, Vector512.Create(15u) - Vector512<uint>.Indices);
        for (int c = 0; c < h; c += 16)
        {
            ref float q = ref Unsafe.Add(ref zr, c);
            var a0 = Vector512.LoadUnsafe(ref q); var a1 = Vector512.LoadUnsafe(ref q, s);
            var a2 = Vector512.LoadUnsafe(ref q, 2 * s); var a3 = Vector512.LoadUnsafe(ref q, 3 * s);
            var a4 = Vector512.LoadUnsafe(ref q, 4 * s); var a5 = Vector512.LoadUnsafe(ref q, 5 * s);
            var a6 = Vector512.LoadUnsafe(ref q, 6 * s); var a7 = Vector512.LoadUnsafe(ref q, 7 * s);
            var a8 = Vector512.LoadUnsafe(ref q, 8 * s); var a9 = Vector512.LoadUnsafe(ref q, 9 * s);
            var a10 = Vector512.LoadUnsafe(ref q, 10 * s); var a11 = Vector512.LoadUnsafe(ref q, 11 * s);
            var a12 = Vector512.LoadUnsafe(ref q, 12 * s); var a13 = Vector512.LoadUnsafe(ref q, 13 * s);
            var a14 = Vector512.LoadUnsafe(ref q, 14 * s); var a15 = Vector512.LoadUnsafe(ref q, 15 * s);
            var b0 = a0 + a1; var b1 = a0 - a1; var b2 = a2 + a3; var b3 = a2 - a3;
            var b4 = a4 + a5; var b5 = a4 - a5; var b6 = a6 + a7; var b7 = a6 - a7;
            var b8 = a8 + a9; var b9 = a8 - a9; var b10 = a10 + a11; var b11 = a10 - a11;
            var b12 = a12 + a13; var b13 = a12 - a13; var b14 = a14 + a15; var b15 = a14 - a15;
            a0 = b0 + b2; a2 = b0 - b2; a1 = b1 + b3; a3 = b1 - b3;
            a4 = b4 + b6; a6 = b4 - b6; a5 = b5 + b7; a7 = b5 - b7;
            a8 = b8 + b10; a10 = b8 - b10; a9 = b9 + b11; a11 = b9 - b11;
            a12 = b12 + b14; a14 = b12 - b14; a13 = b13 + b15; a15 = b13 - b15;
            b0 = a0 + a4; b4 = a0 - a4; b1 = a1 + a5; b5 = a1 - a5;
            b2 = a2 + a6; b6 = a2 - a6; b3 = a3 + a7; b7 = a3 - a7;
            b8 = a8 + a12; b12 = a8 - a12; b9 = a9 + a13; b13 = a9 - a13;
            b10 = a10 + a14; b14 = a10 - a14; b11 = a11 + a15; b15 = a11 - a15;
            ref float dst = ref Unsafe.Add(ref orf, c);
            // Entry c + m·h of the block (c and h multiples of 16) takes half of sign word (c + m·h)/32.
            Emit(ref dst, 0, b0 + b8, ref wr, c, in shifts, vscale, accumulate);
            Emit(ref dst, s, b1 + b9, ref wr, c + h, in shifts, vscale, accumulate);
            Emit(ref dst, 2 * s, b2 + b10, ref wr, c + 2 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 3 * s, b3 + b11, ref wr, c + 3 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 4 * s, b4 + b12, ref wr, c + 4 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 5 * s, b5 + b13, ref wr, c + 5 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 6 * s, b6 + b14, ref wr, c + 6 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 7 * s, b7 + b15, ref wr, c + 7 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 8 * s, b0 - b8, ref wr, c + 8 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 9 * s, b1 - b9, ref wr, c + 9 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 10 * s, b2 - b10, ref wr, c + 10 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 11 * s, b3 - b11, ref wr, c + 11 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 12 * s, b4 - b12, ref wr, c + 12 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 13 * s, b5 - b13, ref wr, c + 13 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 14 * s, b6 - b14, ref wr, c + 14 * h, in shifts, vscale, accumulate);
            Emit(ref dst, 15 * s, b7 - b15, ref wr, c + 15 * h, in shifts, vscale, accumulate);
        }

        static void Emit(ref float dst, nuint offset, Vector512<float> v, ref uint words, int index, in Signs shifts, Vector512<float> scale, bool accumulate)
        {
            var word = Vector512.Create(Unsafe.Add(ref words, index >> 5));
            var mask = Avx512F.ShiftLeftLogicalVariable(word, (index & 16) == 0 ? shifts.Low : shifts.High) & Vector512.Create(0x80000000u);
            v = (v.AsUInt32() ^ mask).AsSingle();
            if (accumulate) v = Vector512.LoadUnsafe(ref dst, offset) + v * scale;
            v.StoreUnsafe(ref dst, offset);
        }
    }

    /// <summary>Per-lane shifts that move bit l (<see cref="Low"/>) or bit 16 + l (<see cref="High"/>) of a sign word to the sign bit.</summary>
    private readonly record struct Signs(Vector512<uint> Low, Vector512<uint> High);

    /// <summary>output = D·x (or output + scale·D·x) for the coordinates first, first + 1, … of the whole vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplySigns(ulong seed, int first, ReadOnlySpan<float> x, Span<float> output, float scale, bool accumulate)
    {
        int d = x.Length, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float o = ref MemoryMarshal.GetReference(output);
        int lanes = Vector512.IsHardwareAccelerated ? 16 : Avx2.IsSupported ? 8 : 0;
        if (lanes > 0)
        {
            // Scalar up to an index that is a multiple of the vector width, then one word hash per vector.
            int head = Math.Min(d, (lanes - (first & (lanes - 1))) & (lanes - 1));
            for (; i < head; i++) Scalar(seed, first, i, ref xr, ref o, scale, accumulate);
            if (lanes == 16)
            {
                var vscale = Vector512.Create(scale);
                for (; i + 16 <= d; i += 16)
                {
                    int c = first + i;
                    var v = (Vector512.LoadUnsafe(ref xr, (nuint)i).AsUInt32() ^ SketchHash.PackedSignMasks(SketchHash.Hash(seed, c >> 5), c)).AsSingle();
                    ref float dst = ref Unsafe.Add(ref o, i);
                    if (accumulate) v = Vector512.LoadUnsafe(ref dst) + v * vscale;
                    v.StoreUnsafe(ref dst);
                }
            }
            else
            {
                var vscale = Vector256.Create(scale);
                for (; i + 8 <= d; i += 8)
                {
                    int c = first + i;
                    var v = (Vector256.LoadUnsafe(ref xr, (nuint)i).AsUInt32() ^ SketchHash.PackedSignMasks8(SketchHash.Hash(seed, c >> 5), c)).AsSingle();
                    ref float dst = ref Unsafe.Add(ref o, i);
                    if (accumulate) v = Vector256.LoadUnsafe(ref dst) + v * vscale;
                    v.StoreUnsafe(ref dst);
                }
            }
        }
        for (; i < d; i++) Scalar(seed, first, i, ref xr, ref o, scale, accumulate);

        static void Scalar(ulong seed, int first, int i, ref float xr, ref float o, float scale, bool accumulate)
        {
            float v = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(Unsafe.Add(ref xr, i)) ^ SketchHash.PackedSignMask(seed, first + i));
            ref float dst = ref Unsafe.Add(ref o, i);
            dst = accumulate ? dst + v * scale : v;
        }
    }
}
