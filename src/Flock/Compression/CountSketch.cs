using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// <b>Payload</b> (after the header): the seed (uint64), s (int32; ≥ 1, or 0 for d = 0), then s
/// float32 bucket sums. Stateless.
/// </para>
/// </remarks>
public sealed class CountSketch : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "count-sketch";

    /// <summary>Default ratio s/d.</summary>
    public const double DefaultRatio = 0.1;

    private readonly int _size;

    /// <summary>Creates a count sketch with s = ⌈ratio·d⌉ buckets (at least 1).</summary>
    /// <param name="ratio">Buckets per entry, in (0, 1].</param>
    /// <param name="seedScope">Per-node or shared sketch matrices.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ratio"/> is outside (0, 1].</exception>
    public CountSketch(double ratio = DefaultRatio, SketchSeedScope seedScope = SketchSeedScope.PerNode)
    {
        Ratio = CompressorCheck.Density(ratio, nameof(ratio));
        SeedScope = CheckScope(seedScope);
    }

    private CountSketch(int size, SketchSeedScope seedScope)
    {
        _size = CompressorCheck.Count(size, nameof(size), "sketch size s");
        SeedScope = CheckScope(seedScope);
    }

    /// <summary>Creates a count sketch with a fixed number of buckets (may exceed d).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is less than 1.</exception>
    public static CountSketch WithSize(int size, SketchSeedScope seedScope = SketchSeedScope.PerNode) => new(size, seedScope);

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
    public int MaxEncodedLength(int dimension) => CompressorCheck.Length(PayloadHeader.Length + 12 + 4L * Size(dimension), dimension, "payload");

    /// <summary>Sketches of at least this many buckets (1 MB) are prefetched ahead of the scatter/gather.</summary>
    private const int LargeSketch = 1 << 18;

    /// <summary>How many entries ahead the bucket of a large sketch is prefetched.</summary>
    private const int PrefetchAhead = 32;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length, s = Size(d);
        ulong seed = SeedFor(context);
        var writer = new PayloadWriter(destination, CodecId.CountSketch, d);
        writer.WriteUInt64(seed);
        writer.WriteInt32(s);
        var sketch = MemoryMarshal.Cast<byte, float>(destination.Slice(writer.Position, 4 * s));
        sketch.Clear();
        Span<int> buckets = stackalloc int[SketchHash.Chunk];
        Span<uint> signs = stackalloc uint[SketchHash.Chunk];
        ref float sk = ref MemoryMarshal.GetReference(sketch);
        ref uint x = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(input));
        ref int br = ref MemoryMarshal.GetReference(buckets);
        ref uint sr = ref MemoryMarshal.GetReference(signs);
        for (int start = 0; start < d; start += SketchHash.Chunk)
        {
            int len = Math.Min(SketchHash.Chunk, d - start);
            int len8 = (len + 7) & ~7;
            SketchHash.FillBuckets(seed, start, s, buckets[..len8], signs[..len8]);
            ref uint xs = ref Unsafe.Add(ref x, start);
            int j = 0;
            if (Sse.IsSupported && s >= LargeSketch)
            {
                // A large sketch does not fit the caches: ask for the bucket a few entries ahead.
                unsafe
                {
                    fixed (float* table = sketch)
                    {
                        for (; j + PrefetchAhead < len; j++)
                        {
                            Sse.Prefetch0(table + Unsafe.Add(ref br, j + PrefetchAhead));
                            Unsafe.Add(ref sk, Unsafe.Add(ref br, j)) += BitConverter.UInt32BitsToSingle(Unsafe.Add(ref xs, j) ^ Unsafe.Add(ref sr, j));
                        }
                    }
                }
            }
            for (; j < len; j++)
                Unsafe.Add(ref sk, Unsafe.Add(ref br, j)) += BitConverter.UInt32BitsToSingle(Unsafe.Add(ref xs, j) ^ Unsafe.Add(ref sr, j));
        }
        return writer.Position + 4 * s;
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => DecodeCore(payload, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => DecodeCore(payload, accumulator, scale, accumulate: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DecodeCore(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
    {
        int d = output.Length;
        var reader = Payload.OpenForDecode(payload, CodecId.CountSketch, d);
        ulong seed = reader.ReadUInt64("seed");
        int s = reader.ReadInt32("size");
        if (d == 0 ? s != 0 : s < 1) throw reader.Error("size", d == 0 ? $"s = {s}, but an empty vector has an empty sketch (s = 0)." : $"s = {s} buckets; must be ≥ 1.");
        var sketch = MemoryMarshal.Cast<byte, float>(reader.ReadBytes(4L * s, "buckets"));
        reader.End();

        Span<int> buckets = stackalloc int[SketchHash.Chunk];
        Span<uint> signs = stackalloc uint[SketchHash.Chunk];
        ref float sk = ref MemoryMarshal.GetReference(sketch);
        ref float o = ref MemoryMarshal.GetReference(output);
        ref int br = ref MemoryMarshal.GetReference(buckets);
        ref uint sr = ref MemoryMarshal.GetReference(signs);
        var vscale = Vector256.Create(scale);
        for (int start = 0; start < d; start += SketchHash.Chunk)
        {
            int len = Math.Min(SketchHash.Chunk, d - start);
            int len8 = (len + 7) & ~7;
            SketchHash.FillBuckets(seed, start, s, buckets[..len8], signs[..len8]);
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
