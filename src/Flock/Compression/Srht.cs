using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
/// next power of two ≥ d. Either way H is orthonormal and E[PᵀP] = (s/d′)·I, so E[RᵀR] = I and the
/// de-sketch Rᵀ(Rx) is an unbiased estimate of x. From
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
    public static float SignOf(ulong seed, int index) => SketchHash.SignMask(SketchHash.Hash(seed, index)) != 0 ? -1f : 1f;

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
        float[] scratch = ArrayPool<float>.Shared.Rent(b);
        int[] rows = ArrayPool<int>.Shared.Rent(Math.Max(s, 1));
        try
        {
            var z = scratch.AsSpan(0, b);
            RowsOf(seed, padded, rows.AsSpan(0, s));
            float norm = (float)Math.Sqrt((double)padded / ((double)s * b));
            int j = 0;
            for (int start = 0; start < d && j < s; start += b)
            {
                if (rows[j] >= start + b) continue; // no sampled row in this block
                int len = Math.Min(b, d - start);
                ApplySigns(seed, start, input.Slice(start, len), z[..len], 1f, accumulate: false);
                z[len..].Clear();
                WalshHadamard.Transform(z);
                for (; j < s && rows[j] < start + b; j++) values[j] = z[rows[j] - start] * norm;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
            ArrayPool<int>.Shared.Return(rows);
        }
        return writer.Position + 4 * s;
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

        float[] scratch = ArrayPool<float>.Shared.Rent(b);
        int[] rows = ArrayPool<int>.Shared.Rent(s);
        try
        {
            var z = scratch.AsSpan(0, b);
            RowsOf(seed, padded, rows.AsSpan(0, s));
            float norm = (float)Math.Sqrt((double)padded / ((double)s * b));
            int j = 0;
            for (int start = 0; start < d; start += b)
            {
                int len = Math.Min(b, d - start);
                if (j >= s || rows[j] >= start + b)
                {
                    // No sampled row in this block: its part of Rᵀy is zero.
                    if (!accumulate) output.Slice(start, len).Clear();
                    continue;
                }
                z.Clear();
                for (; j < s && rows[j] < start + b; j++) z[rows[j] - start] = values[j] * norm;
                WalshHadamard.Transform(z);
                ApplySigns(seed, start, z[..len], output.Slice(start, len), scale, accumulate);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
            ArrayPool<int>.Shared.Return(rows);
        }
    }

    /// <summary>output = D·x (or output + scale·D·x) for the coordinates first, first + 1, … of the whole vector.</summary>
    private static void ApplySigns(ulong seed, int first, ReadOnlySpan<float> x, Span<float> output, float scale, bool accumulate)
    {
        int d = x.Length;
        Span<uint> hashes = stackalloc uint[SketchHash.Chunk];
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float o = ref MemoryMarshal.GetReference(output);
        var vscale = Vector256.Create(scale);
        for (int start = 0; start < d; start += SketchHash.Chunk)
        {
            int len = Math.Min(SketchHash.Chunk, d - start);
            SketchHash.Fill(seed, first + start, hashes[..((len + 7) & ~7)]);
            int j = 0;
            for (; j <= len - 8; j += 8)
            {
                var v = SketchHash.ApplySigns(Vector256.LoadUnsafe(ref xr, (nuint)(start + j)), Vector256.LoadUnsafe(ref hashes[j]));
                ref float dst = ref Unsafe.Add(ref o, start + j);
                if (accumulate) v = Vector256.LoadUnsafe(ref dst) + v * vscale;
                v.StoreUnsafe(ref dst);
            }
            for (; j < len; j++)
            {
                float v = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(Unsafe.Add(ref xr, start + j)) ^ SketchHash.SignMask(hashes[j]));
                ref float dst = ref Unsafe.Add(ref o, start + j);
                dst = accumulate ? dst + v * scale : v;
            }
        }
    }
}
