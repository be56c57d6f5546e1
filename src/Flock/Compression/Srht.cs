using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Subsampled randomized Hadamard transform as a linear sketch R = √(d′/s)·P·H·D, with d′ the next
/// power of two ≥ d (the input zero-padded), D a diagonal of random signs, H the orthonormal
/// Walsh–Hadamard matrix (<see cref="WalshHadamard"/>, scaled by 1/√d′) and P a uniform sample of s
/// distinct rows of the d′. E[RᵀR] = I, so the de-sketch Rᵀ(Rx) is an unbiased estimate of x. From
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
/// <b>Cost.</b> Encoding and decoding each run one in-place fast Walsh–Hadamard transform of
/// length d′ (O(d′ log d′)) in a pooled scratch vector of d′ floats. <b>Payload</b> (after the
/// header): the seed (uint64), s (int32, 0 ≤ s ≤ d′, ≥ 1 when d ≥ 1), then the s float32 sketch
/// values in increasing row order. Stateless.
/// </para>
/// </remarks>
public sealed class Srht : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "srht";

    /// <summary>Default ratio s/d.</summary>
    public const double DefaultRatio = 0.1;

    private readonly int _rows;

    /// <summary>Creates an SRHT sketch with s = ⌈ratio·d⌉ rows (at least 1, at most d′).</summary>
    /// <param name="ratio">Rows per entry, in (0, 1].</param>
    /// <param name="seedScope">Per-node or shared sketch matrices.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ratio"/> is outside (0, 1].</exception>
    public Srht(double ratio = DefaultRatio, SketchSeedScope seedScope = SketchSeedScope.PerNode)
    {
        Ratio = CompressorCheck.Density(ratio, nameof(ratio));
        SeedScope = Enum.IsDefined(seedScope) ? seedScope : throw new ArgumentOutOfRangeException(nameof(seedScope), seedScope, "Invalid seed scope; must be PerNode or Shared.");
    }

    private Srht(int rows, SketchSeedScope seedScope)
    {
        _rows = CompressorCheck.Count(rows, nameof(rows), "row count s");
        SeedScope = Enum.IsDefined(seedScope) ? seedScope : throw new ArgumentOutOfRangeException(nameof(seedScope), seedScope, "Invalid seed scope; must be PerNode or Shared.");
    }

    /// <summary>Creates an SRHT sketch with a fixed number of rows, min(<paramref name="rows"/>, d′).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is less than 1.</exception>
    public static Srht WithRows(int rows, SketchSeedScope seedScope = SketchSeedScope.PerNode) => new(rows, seedScope);

    /// <summary>The ratio s/d, or 0 when a fixed row count is used.</summary>
    public double Ratio { get; }

    /// <summary>The fixed row count, or 0 when a ratio is used.</summary>
    public int FixedRows => _rows;

    /// <summary>Whose randomness draws the sketch matrix.</summary>
    public SketchSeedScope SeedScope { get; }

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public CodecId Codec => CodecId.Srht;

    /// <inheritdoc />
    public string Description =>
        (_rows > 0 ? $"srht: s = {_rows} rows" : $"srht: s = ⌈{Ratio.ToString(CultureInfo.InvariantCulture)}·d⌉ rows")
        + $" of a {(SeedScope == SketchSeedScope.Shared ? "shared" : "per-node")} randomized Hadamard transform per round";

    /// <summary>The padded length d′: the next power of two ≥ d (1 for d ≤ 1).</summary>
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
        int padded = PaddedLength(dimension);
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
    public int MaxEncodedLength(int dimension) => CompressorCheck.Length(PayloadHeader.Length + 12 + 4L * Rows(dimension), dimension, "payload");

    /// <inheritdoc />
    public int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length, s = Rows(d), padded = PaddedLength(d);
        ulong seed = SeedFor(context);
        var writer = new PayloadWriter(destination, CodecId.Srht, d);
        writer.WriteUInt64(seed);
        writer.WriteInt32(s);
        var values = MemoryMarshal.Cast<byte, float>(destination.Slice(writer.Position, 4 * s));
        float[] scratch = ArrayPool<float>.Shared.Rent(padded);
        int[] rows = ArrayPool<int>.Shared.Rent(Math.Max(s, 1));
        try
        {
            var z = scratch.AsSpan(0, padded);
            ApplySigns(seed, input, z[..d], 1f, accumulate: false);
            z[d..].Clear();
            WalshHadamard.Transform(z);
            RowsOf(seed, padded, rows.AsSpan(0, s));
            float norm = (float)(1.0 / Math.Sqrt(s));
            for (int j = 0; j < s; j++) values[j] = z[rows[j]] * norm;
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
        var reader = Payload.OpenForDecode(payload, CodecId.Srht, d);
        if (d > 1 << 30) throw reader.Error("dimension", $"dimension {d} is above the SRHT limit of 2^30.");
        int padded = PaddedLength(d);
        ulong seed = reader.ReadUInt64("seed");
        int s = reader.ReadInt32("rows");
        if (s < (d == 0 ? 0 : 1) || s > (d == 0 ? 0 : padded))
            throw reader.Error("rows", $"s = {s} rows is outside [{(d == 0 ? 0 : 1)}, {(d == 0 ? 0 : padded)}] for dimension {d} (padded length {padded}).");
        var values = MemoryMarshal.Cast<byte, float>(reader.ReadBytes(4L * s, "values"));
        reader.End();
        if (d == 0) return;

        float[] scratch = ArrayPool<float>.Shared.Rent(padded);
        int[] rows = ArrayPool<int>.Shared.Rent(s);
        try
        {
            var z = scratch.AsSpan(0, padded);
            z.Clear();
            RowsOf(seed, padded, rows.AsSpan(0, s));
            float norm = (float)(1.0 / Math.Sqrt(s));
            for (int j = 0; j < s; j++) z[rows[j]] = values[j] * norm;
            WalshHadamard.Transform(z);
            ApplySigns(seed, z[..d], output, scale, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
            ArrayPool<int>.Shared.Return(rows);
        }
    }

    /// <summary>output = D·x (or output + scale·D·x).</summary>
    private static void ApplySigns(ulong seed, ReadOnlySpan<float> x, Span<float> output, float scale, bool accumulate)
    {
        int d = x.Length;
        Span<uint> hashes = stackalloc uint[SketchHash.Chunk];
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float o = ref MemoryMarshal.GetReference(output);
        var vscale = Vector256.Create(scale);
        for (int start = 0; start < d; start += SketchHash.Chunk)
        {
            int len = Math.Min(SketchHash.Chunk, d - start);
            SketchHash.Fill(seed, start, hashes[..((len + 7) & ~7)]);
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
