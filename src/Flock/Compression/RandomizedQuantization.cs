using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Compression;

/// <summary>
/// The Randomized Quantization Mechanism (RQM), from "Randomized Quantization is All You Need for
/// Differential Privacy in Federated Learning" (Youn, Hu, Ziani &amp; Abernethy, 2023): privacy
/// from two randomizations of a quantizer, without added noise.
/// </summary>
/// <remarks>
/// <para>
/// <b>Mechanism.</b> Each entry is clipped to [−c, c]. A uniform grid of m levels
/// B(j) = −(c + Δ) + j·w, w = 2(c + Δ)/(m − 1), j = 0 … m − 1, covers the slightly wider range
/// [−c − Δ, c + Δ]. For each entry independently, every interior level is kept with probability q
/// (B(0) and B(m − 1) always), and the entry is rounded to the nearest kept level below or above
/// it, choosing the upper one with probability (x − B(lo))/(B(hi) − B(lo)): unbiased for the
/// clipped value. The output is the level index j.
/// </para>
/// <para>
/// <b>Implementation.</b> Only the levels the rounding needs are drawn: the number of dropped levels
/// below (and above) the entry's grid cell is geometric, P(G ≥ g) = (1 − q)^g, sampled from one
/// 32-bit uniform per side by comparison with a table of (1 − q)^g·2^32, which is exactly the
/// distribution of independent Bernoulli(q) keeps up to the 2^−32 resolution of the uniforms;
/// the walk stops at the always-kept ends. When every threshold is a multiple of 2^16 (q = 0.5
/// with m ≤ 17, q = 0.75 with m ≤ 9, …) only the top 16 bits of a walk's uniform matter, and both
/// walks take their 16 bits from one random word (the same distribution); with q = 1 or m = 2
/// nothing can be dropped and the walks draw nothing. The rounding uniform has 24 bits.
/// Randomness: the vector is cut into chunks of 64 Ki entries, each with two streams of sixteen
/// xoshiro128** lanes (the walks', the rounding's) seeded from (seed, node, round, "rqm", chunk,
/// stream) and drawn in blocks of 512 entries, so large vectors are encoded on several threads
/// (<see cref="Flock.Tensors.KernelParallelism"/>) with the same bytes as on one.
/// NaN entries are treated as 0.
/// </para>
/// <para>
/// <b>UNCONFIRMED</b> (the algorithm sheet could not check these against the paper): the level
/// subset is drawn independently per entry; the defaults (c = 1, m = 16, q = 0.5, Δ = 0.1) are
/// placeholders to be set from the privacy target. The parameters are public so that a privacy
/// accountant can compute the Rényi DP of the mechanism.
/// </para>
/// <para>
/// <b>Payload</b> (after the header): c (float32), Δ (float32), m (int32), q (float32), bits per
/// entry (byte: 1, 2, 4, 8 or 16, the smallest that holds m − 1), then ⌈d·bits/8⌉ bytes of level
/// indices, least significant bits first, padding zero. The decoder rejects indices ≥ m and
/// parameters out of range, and decodes B(j) with the same float operations as the encoder.
/// </para>
/// </remarks>
public sealed class RandomizedQuantization : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "rqm";

    /// <summary>Largest supported number of levels.</summary>
    public const int MaxLevels = 65536;

    private const int BodyHeaderLength = 17;

    private readonly int[] _dropThresholds;
    private readonly int _unconditional;

    /// <summary>Random words per entry for the two walks: 2, 1 (16 bits each, every threshold a multiple of 2^16) or 0 (nothing can be dropped).</summary>
    private readonly int _walkWords;

    /// <summary>Most thresholds in one octave [2^(31−z), 2^(32−z)) for which the octave tables are used.</summary>
    private const int MaxPerOctave = 4;

    /// <summary>
    /// Octave tables (null when some octave holds more than <see cref="MaxPerOctave"/> thresholds):
    /// for z = min(lzcnt(u), 31), entry z of table 0 counts the thresholds ≥ 2^(32−z) (all above
    /// any u of that octave) and entries z of tables 1 … k are the thresholds inside the octave
    /// (0 where there are fewer), so G = table0[z] + #{k : tablek[z] &gt; u}, exactly the count of
    /// the threshold table.
    /// </summary>
    private readonly uint[][]? _octaves;

    /// <summary>Creates the mechanism.</summary>
    /// <param name="clipBound">Clipping bound c (finite, &gt; 0).</param>
    /// <param name="levels">Number of grid levels m, 2–65536.</param>
    /// <param name="keepProbability">Probability q in (0, 1] that an interior level is kept.</param>
    /// <param name="extension">Extension Δ of the grid beyond [−c, c] (finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public RandomizedQuantization(float clipBound = 1f, int levels = 16, float keepProbability = 0.5f, float extension = 0.1f)
    {
        ClipBound = CompressorCheck.PositiveFinite(clipBound, nameof(clipBound), "clip bound c");
        if (levels < 2 || levels > MaxLevels)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, $"Invalid number of levels m: {levels}; must be in [2, {MaxLevels}].");
        Levels = levels;
        if (!(keepProbability > 0 && keepProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(keepProbability), keepProbability, $"Invalid keep probability q: {keepProbability.ToString(CultureInfo.InvariantCulture)}; must be in (0, 1].");
        KeepProbability = keepProbability;
        Extension = CompressorCheck.NonNegativeFinite(extension, nameof(extension), "extension Δ");
        if (!float.IsFinite(ClipBound + Extension) || !float.IsFinite(2 * (ClipBound + Extension)))
            throw new ArgumentOutOfRangeException(nameof(extension), extension, $"Invalid grid: c + Δ = {ClipBound + Extension} overflows.");
        BitsPerEntry = BitsFor(levels);
        _dropThresholds = DropThresholds(keepProbability, levels);
        // Comparisons g < unconditional run without a branch: the smallest g with (1 − q)^g ≤ 1/256.
        _unconditional = 1;
        while (_unconditional < _dropThresholds.Length && Math.Pow(1.0 - keepProbability, _unconditional) > 1.0 / 256) _unconditional++;
        _octaves = OctaveTables(_dropThresholds);
        _walkWords = 1;
        foreach (int t in _dropThresholds.AsSpan(1))
            if ((t & 0xFFFF) != 0) _walkWords = 2;
        if (_dropThresholds.Length == 1 || levels == 2) _walkWords = 0;           // m = 2: no interior level to drop
    }

    /// <summary>Clipping bound c: entries are clipped to [−c, c].</summary>
    public float ClipBound { get; }

    /// <summary>Number of grid levels m.</summary>
    public int Levels { get; }

    /// <summary>Probability q that an interior level is kept.</summary>
    public float KeepProbability { get; }

    /// <summary>Extension Δ: the grid covers [−c − Δ, c + Δ].</summary>
    public float Extension { get; }

    /// <summary>Spacing w = 2(c + Δ)/(m − 1) between consecutive levels.</summary>
    public float LevelSpacing => Spacing(ClipBound, Extension, Levels);

    /// <summary>Bits per entry on the wire.</summary>
    public int BitsPerEntry { get; }

    /// <summary>The value B(j) = −(c + Δ) + j·w of level <paramref name="index"/>, as the decoder computes it.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, m).</exception>
    public float Level(int index)
    {
        if (index < 0 || index >= Levels) throw new ArgumentOutOfRangeException(nameof(index), index, $"Invalid level index {index}; must be in [0, {Levels}).");
        return index * LevelSpacing - (ClipBound + Extension);
    }

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public CodecId Codec => CodecId.Rqm;

    /// <inheritdoc />
    public string Description => FormattableString.Invariant($"rqm: clip c = {ClipBound}, m = {Levels} levels on [−c−Δ, c+Δ] with Δ = {Extension}, keep probability q = {KeepProbability}, {BitsPerEntry} bits/entry");

    internal static int BitsFor(int levels) => levels <= 2 ? 1 : levels <= 4 ? 2 : levels <= 16 ? 4 : levels <= 256 ? 8 : 16;

    private static float Spacing(float c, float delta, int levels) => 2 * (c + delta) / (levels - 1);

    /// <summary>
    /// t[g] = round((1 − q)^g · 2^32) for g ≥ 1 while it is positive (t[0] unused), stored with
    /// the top bit flipped so that a signed comparison orders them as unsigned values.
    /// </summary>
    private static int[] DropThresholds(float q, int levels)
    {
        var list = new List<int> { int.MaxValue };
        double p = 1;
        for (int g = 1; g < levels; g++)
        {
            p *= 1.0 - q;
            double t = Math.Round(p * 4294967296.0);
            if (t < 1) break;
            list.Add((int)((uint)Math.Min(t, uint.MaxValue) ^ 0x80000000u));
        }
        return list.ToArray();
    }

    /// <summary>The octave tables of <see cref="_octaves"/> for thresholds stored as by <see cref="DropThresholds"/>.</summary>
    private static uint[][]? OctaveTables(int[] flipped)
    {
        var t = new uint[flipped.Length - 1];
        for (int g = 1; g < flipped.Length; g++) t[g - 1] = (uint)flipped[g] ^ 0x80000000u;
        var inside = new List<uint>[32];
        var tables = new List<uint[]> { new uint[32] };
        for (int z = 0; z < 32; z++)
        {
            ulong hi = 1UL << (32 - z), lo = z == 31 ? 0 : 1UL << (31 - z);
            inside[z] = [];
            foreach (uint v in t)
            {
                if (v >= hi) tables[0][z]++;
                else if (v > lo || (z == 31 && v >= lo)) inside[z].Add(v);   // v = 2^(31−z) is never above a u of its octave
            }
            if (inside[z].Count > MaxPerOctave) return null;
            while (tables.Count <= inside[z].Count) tables.Add(new uint[32]);
        }
        for (int z = 0; z < 32; z++)
            for (int k = 0; k < inside[z].Count; k++) tables[k + 1][z] = inside[z][k];
        return tables.ToArray();
    }

    /// <inheritdoc />
    public int StateLength(int dimension)
    {
        CompressorCheck.Dimension(dimension);
        return 0;
    }

    /// <inheritdoc />
    public int MaxEncodedLength(int dimension) =>
        CompressorCheck.Length(PayloadHeader.Length + BodyHeaderLength + ((long)CompressorCheck.Dimension(dimension) * BitsPerEntry + 7) / 8, dimension, "payload");

    /// <inheritdoc />
    public unsafe int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length, bits = BitsPerEntry;
        var writer = new PayloadWriter(destination, CodecId.Rqm, d);
        writer.WriteSingle(ClipBound);
        writer.WriteSingle(Extension);
        writer.WriteInt32(Levels);
        writer.WriteSingle(KeepProbability);
        writer.WriteByte((byte)bits);
        ulong seed = context.DeriveSeed(RegistryName);
        fixed (float* x = input)
        fixed (byte* codes = destination[writer.Position..])
            CodecChunks.Run(new EncodeJob(this, x, codes, d, bits, seed), CodecChunks.Count(d), 4L * d);
        return writer.Position + (int)(((long)d * bits + 7) / 8);
    }

    /// <summary>Encodes one chunk of <see cref="CodecChunks.Length"/> entries with its own random stream.</summary>
    private readonly unsafe struct EncodeJob(RandomizedQuantization owner, float* x, byte* codes, int d, int bits, ulong seed) : IChunkJob
    {
        public void Run(int chunk)
        {
            var walks = SimdRandom.FromSeed(CodecChunks.Seed(seed, chunk, 0));
            var rounding = SimdRandom.FromSeed(CodecChunks.Seed(seed, chunk, 1));
            Span<uint> lowBits = stackalloc uint[Chunk];
            Span<uint> highBits = stackalloc uint[Chunk];
            Span<uint> uniformBits = stackalloc uint[Chunk];
            Span<int> levels = stackalloc int[Chunk];
            int first = chunk * CodecChunks.Length, end = Math.Min(d, first + CodecChunks.Length);
            if (owner._walkWords == 0)
            {
                lowBits.Clear();
                highBits.Clear();
            }
            for (int start = first; start < end; start += Chunk)
            {
                int n = Math.Min(Chunk, end - start), n16 = (n + 15) & ~15;
                if (owner._walkWords == 0) rounding.Fill(uniformBits[..n16]);
                else
                {
                    SimdRandom.Fill(ref walks, lowBits[..n16], ref rounding, uniformBits[..n16]);
                    if (owner._walkWords == 2) walks.Fill(highBits[..n16]);
                }
                owner.QuantizeChunk(new ReadOnlySpan<float>(x + start, n), lowBits, owner._walkWords == 1 ? lowBits : highBits, uniformBits, levels);
                Pack(levels[..n], bits, new Span<byte>(codes + (long)start * bits / 8, (n * bits + 7) / 8));
            }
        }
    }

    /// <summary>Entries per refill of the random buffers (a multiple of 32).</summary>
    private const int Chunk = 512;

    /// <summary>
    /// Level indices of up to <see cref="Chunk"/> entries, given a random word per entry for each
    /// walk (the same words for both when one word serves both walks) and one for the rounding
    /// (its uniform is (w &gt;&gt; 8)·2^−24). Entries past the chunk's end (up to the next multiple of 8)
    /// get index 0.
    /// </summary>
    private void QuantizeChunk(ReadOnlySpan<float> input, ReadOnlySpan<uint> lowBits, ReadOnlySpan<uint> highBits, ReadOnlySpan<uint> uniformBits, Span<int> levels)
    {
        int n = input.Length;
        // One word for both walks (_walkWords = 1, highBits is lowBits): the low walk's uniform is
        // w & 0xFFFF0000 and the high walk's w << 16, exact when every threshold is a multiple of
        // 2^16 (then t > u depends only on u's top 16 bits). Otherwise the words are used as drawn.
        bool shared = _walkWords == 1;
        int highShift = shared ? 16 : 0;
        uint lowMask = shared ? 0xFFFF0000u : uint.MaxValue;
        var lowMask5 = Vector512.Create(lowMask);
        var lowMask8 = Vector256.Create(lowMask);
        var shiftCount = Vector128.CreateScalar((uint)highShift);                  // a count register, hoisted
        ReadOnlySpan<int> thresholds = _dropThresholds;
        int unconditional = _unconditional;
        float top = ClipBound + Extension;
        var c = Vector256.Create(ClipBound);
        var vtop = Vector256.Create(top);
        var inverse = Vector256.Create((Levels - 1) / (2 * top));
        var last = Vector256.Create(Levels - 1);
        var maxLow = Vector256.Create(Levels - 2);
        var flip = Vector256.Create(int.MinValue);
        Span<float> tail = stackalloc float[8];
        ref float xr = ref MemoryMarshal.GetReference(input);
        ref uint lr = ref MemoryMarshal.GetReference(lowBits);
        ref uint hr = ref MemoryMarshal.GetReference(highBits);
        ref uint ur = ref MemoryMarshal.GetReference(uniformBits);
        ref int outr = ref MemoryMarshal.GetReference(levels);
        int i = 0;
        if (_octaves is { } octaves && Avx512F.IsSupported && Avx512CD.IsSupported)
        {
            // Geometric counts from the octave of each uniform (its leading zeros): one table
            // lookup for the thresholds above the octave plus a comparison per threshold inside it.
            // Level indices are kept as floats (small integers, exact), which spares conversions.
            var c5 = Vector512.Create(ClipBound);
            var negC5 = Vector512.Create(-ClipBound);
            var top5 = Vector512.Create(top);
            var inverse5 = Vector512.Create((Levels - 1) / (2 * top));
            var last5 = Vector512.Create((float)(Levels - 1));
            var lastOctave = Vector512.Create(31u);
            var baseLo = Vector512.ConvertToSingle(Vector512.Create((ReadOnlySpan<uint>)octaves[0].AsSpan(0, 16)).AsInt32());
            var baseHi = Vector512.ConvertToSingle(Vector512.Create((ReadOnlySpan<uint>)octaves[0].AsSpan(16, 16)).AsInt32());
            var baseLo1 = baseLo + Vector512<float>.One;                                     // 1 + G for the walk up
            var baseHi1 = baseHi + Vector512<float>.One;
            int inside = octaves.Length - 1;
            Span<Vector512<uint>> candidates = stackalloc Vector512<uint>[2 * MaxPerOctave];
            for (int k = 0; k < inside; k++)
            {
                candidates[2 * k] = Vector512.Create((ReadOnlySpan<uint>)octaves[k + 1].AsSpan(0, 16));
                candidates[2 * k + 1] = Vector512.Create((ReadOnlySpan<uint>)octaves[k + 1].AsSpan(16, 16));
            }
            for (; i + 16 <= n; i += 16)
            {
                var x = Vector512.LoadUnsafe(ref xr, (nuint)i);
                x = Vector512.ConditionalSelect(Vector512.Equals(x, x), Vector512.MaxNative(x, negC5), Vector512<float>.Zero);
                x = Vector512.MinNative(x, c5);                                             // NaN → 0, then clipped
                var p = (x + top5) * inverse5;                                               // 0 ≤ p ≲ m − 1
                // No cap at m − 2: where ⌊p⌋ = m − 1 (x = c) the walk up is capped at m − 1 and the
                // rounding goes up (p − lo ≥ hi − lo), the index m − 1 either way.
                var j0 = Vector512.Floor(p);
                var low = Vector512.LoadUnsafe(ref lr, (nuint)i) & lowMask5;
                var high = Avx512F.ShiftLeftLogical(Vector512.LoadUnsafe(ref hr, (nuint)i), shiftCount);
                var zLow = Vector512.Min(Avx512CD.LeadingZeroCount(low), lastOctave);
                var zHigh = Vector512.Min(Avx512CD.LeadingZeroCount(high), lastOctave);
                var gLow = Avx512F.PermuteVar16x32x2(baseLo, zLow.AsInt32(), baseHi);
                var gHigh = Avx512F.PermuteVar16x32x2(baseLo1, zHigh.AsInt32(), baseHi1);       // 1 + G
                for (int k = 0; k < inside; k++)
                {
                    var cLo = candidates[2 * k];
                    var cHi = candidates[2 * k + 1];
                    gLow += Vector512.ConditionalSelect(Vector512.GreaterThan(Avx512F.PermuteVar16x32x2(cLo, zLow, cHi), low).AsSingle(), Vector512<float>.One, Vector512<float>.Zero);
                    gHigh += Vector512.ConditionalSelect(Vector512.GreaterThan(Avx512F.PermuteVar16x32x2(cLo, zHigh, cHi), high).AsSingle(), Vector512<float>.One, Vector512<float>.Zero);
                }
                var lo = Vector512.MaxNative(j0 - gLow, Vector512<float>.Zero);
                var hi = Vector512.MinNative(j0 + gHigh, last5);
                var up = Vector512.LessThan(Uniform(Vector512.LoadUnsafe(ref ur, (nuint)i)) * (hi - lo), p - lo);
                Vector512.ConvertToInt32Native(Vector512.ConditionalSelect(up, hi, lo)).StoreUnsafe(ref outr, (nuint)i);
            }
        }
        else if (Vector512.IsHardwareAccelerated)
        {
            // The same computation, sixteen entries per step, while full vectors remain.
            var c5 = Vector512.Create(ClipBound);
            var top5 = Vector512.Create(top);
            var inverse5 = Vector512.Create((Levels - 1) / (2 * top));
            var last5 = Vector512.Create(Levels - 1);
            var maxLow5 = Vector512.Create(Levels - 2);
            var flip5 = Vector512.Create(int.MinValue);
            for (; i + 16 <= n; i += 16)
            {
                var x = Vector512.LoadUnsafe(ref xr, (nuint)i);
                x = Vector512.ConditionalSelect(Vector512.Equals(x, x), x, Vector512<float>.Zero);
                x = Vector512.MinNative(Vector512.MaxNative(x, -c5), c5);                // x is not NaN here
                var p = (x + top5) * inverse5;
                var j0 = Vector512.Min(Vector512.ConvertToInt32Native(p), maxLow5);    // 0 ≤ p ≤ m − 1: truncation is the floor
                var low = (Vector512.LoadUnsafe(ref lr, (nuint)i) & lowMask5).AsInt32() ^ flip5;
                var high = (Vector512.LoadUnsafe(ref hr, (nuint)i) << highShift).AsInt32() ^ flip5;
                var gLow = Vector512<int>.Zero;
                var gHigh = Vector512<int>.Zero;
                int g = 1;
                for (; g < unconditional; g++)
                {
                    var th = Vector512.Create(thresholds[g]);
                    gLow += Vector512.GreaterThan(th, low);
                    gHigh += Vector512.GreaterThan(th, high);
                }
                for (; g < thresholds.Length; g++)
                {
                    var th = Vector512.Create(thresholds[g]);
                    var dl = Vector512.GreaterThan(th, low);
                    var dh = Vector512.GreaterThan(th, high);
                    if ((dl | dh) == Vector512<int>.Zero) break;
                    gLow += dl;
                    gHigh += dh;
                }
                var lo = Vector512.Max(j0 + gLow, Vector512<int>.Zero);
                var hi = Vector512.Min(j0 + Vector512<int>.One - gHigh, last5);
                var up = Vector512.LessThan(Uniform(Vector512.LoadUnsafe(ref ur, (nuint)i)) * Vector512.ConvertToSingle(hi - lo), p - Vector512.ConvertToSingle(lo));
                Vector512.ConditionalSelect(up.AsInt32(), hi, lo).StoreUnsafe(ref outr, (nuint)i);
            }
        }
        for (; i < n; i += 8)
        {
            Vector256<float> x;
            if (i + 8 <= n) x = Vector256.LoadUnsafe(ref xr, (nuint)i);
            else
            {
                tail.Clear();
                input[i..].CopyTo(tail);
                x = Vector256.Create((ReadOnlySpan<float>)tail);
            }
            x = Vector256.ConditionalSelect(Vector256.Equals(x, x), x, Vector256<float>.Zero);   // NaN → 0
            x = Vector256.MinNative(Vector256.MaxNative(x, -c), c);
            var p = (x + vtop) * inverse;                                                       // position in level units
            var j0 = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32Native(Vector256.Floor(p)), Vector256<int>.Zero), maxLow);
            // Dropped levels below (from j0 down) and above (from j0 + 1 up): geometric counts,
            // G ≥ g exactly when the uniform is below round((1 − q)^g·2^32). Thresholds and
            // uniforms are compared as signed ints after flipping the top bit. The first
            // `unconditional` comparisons run without a data-dependent branch (a lane survives them
            // with probability ≤ 1/256), the rest only while some lane is still walking.
            var low = (Vector256.LoadUnsafe(ref lr, (nuint)i) & lowMask8).AsInt32() ^ flip;
            var high = (Vector256.LoadUnsafe(ref hr, (nuint)i) << highShift).AsInt32() ^ flip;
            var gLow = Vector256<int>.Zero;
            var gHigh = Vector256<int>.Zero;
            int g = 1;
            for (; g < unconditional; g++)
            {
                var th = Vector256.Create(thresholds[g]);
                gLow += Vector256.GreaterThan(th, low);                                         // −1 where dropped
                gHigh += Vector256.GreaterThan(th, high);
            }
            for (; g < thresholds.Length; g++)
            {
                var th = Vector256.Create(thresholds[g]);
                var dl = Vector256.GreaterThan(th, low);
                var dh = Vector256.GreaterThan(th, high);
                if ((dl | dh) == Vector256<int>.Zero) break;
                gLow += dl;
                gHigh += dh;
            }
            var lo = Vector256.Max(j0 + gLow, Vector256<int>.Zero);
            var hi = Vector256.Min(j0 + Vector256<int>.One - gHigh, last);
            var up = Vector256.LessThan(Uniform(Vector256.LoadUnsafe(ref ur, (nuint)i)) * Vector256.ConvertToSingle(hi - lo), p - Vector256.ConvertToSingle(lo));
            var code = Vector256.ConditionalSelect(up.AsInt32(), hi, lo);
            if (i + 8 > n) code &= Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(n - i));
            code.StoreUnsafe(ref outr, (nuint)i);
        }
    }

    /// <summary>The rounding uniform of sixteen random words: (w &gt;&gt; 8)·2^−24, 24 random bits in [0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Uniform(Vector512<uint> words) => Vector512.ConvertToSingle((words >>> 8).AsInt32()) * Vector512.Create(1f / (1 << 24));

    /// <summary>The rounding uniform of eight random words: (w &gt;&gt; 8)·2^−24.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Uniform(Vector256<uint> words) => Vector256.ConvertToSingle((words >>> 8).AsInt32()) * Vector256.Create(1f / (1 << 24));

    /// <summary>Packs level indices (zero past the end up to a multiple of 8) at <paramref name="bits"/> bits each.</summary>
    private static void Pack(ReadOnlySpan<int> levels, int bits, Span<byte> codes)
    {
        int n = levels.Length, i = 0, o = 0;
        ref int lr = ref MemoryMarshal.GetReference(levels);
        if (bits is 2 or 4 or 8 && Avx512BW.IsSupported && codes.Length >= n * bits / 8)
        {
            ref byte cr = ref MemoryMarshal.GetReference(codes);
            for (; i <= n - 64; i += 64, o += 8 * bits)
            {
                var b0 = Avx512F.ConvertToVector128Byte(Vector512.LoadUnsafe(ref lr, (nuint)i));
                var b1 = Avx512F.ConvertToVector128Byte(Vector512.LoadUnsafe(ref lr, (nuint)i + 16));
                var b2 = Avx512F.ConvertToVector128Byte(Vector512.LoadUnsafe(ref lr, (nuint)i + 32));
                var b3 = Avx512F.ConvertToVector128Byte(Vector512.LoadUnsafe(ref lr, (nuint)i + 48));
                BitPacking.Store64(Vector512.Create(Vector256.Create(b0, b1), Vector256.Create(b2, b3)), bits, ref Unsafe.Add(ref cr, o));
            }
        }
        if (bits is 2 or 4 or 8)
        {
            for (; i <= n - 32; i += 32, o += 4 * bits)
                BitPacking.Store32(BitPacking.Narrow(Vector256.LoadUnsafe(ref lr, (nuint)i), Vector256.LoadUnsafe(ref lr, (nuint)i + 8),
                    Vector256.LoadUnsafe(ref lr, (nuint)i + 16), Vector256.LoadUnsafe(ref lr, (nuint)i + 24)), bits, codes[o..]);
        }
        for (; i < n; i += 8, o += bits)
            BitPacking.WriteGroup(codes[o..], Vector256.LoadUnsafe(ref lr, (nuint)i), bits, Math.Min(8, n - i));
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => DecodeCore(payload, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => DecodeCore(payload, accumulator, scale, accumulate: true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Emit(ref float dst, nuint offset, Vector256<int> code, Vector256<float> w, Vector256<float> top, Vector256<float> scale, bool accumulate)
    {
        var value = Vector256.ConvertToSingle(code) * w - top;
        if (accumulate) value = Vector256.LoadUnsafe(ref dst, offset) + value * scale;
        value.StoreUnsafe(ref dst, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Emit(ref float dst, nuint offset, Vector512<int> code, Vector512<float> w, Vector512<float> top, Vector512<float> scale, bool accumulate)
    {
        var value = Vector512.ConvertToSingle(code) * w - top;
        if (accumulate) value = Vector512.LoadUnsafe(ref dst, offset) + value * scale;
        value.StoreUnsafe(ref dst, offset);
    }

    internal static unsafe void DecodeCore(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
    {
        int d = output.Length;
        var reader = Payload.OpenForDecode(payload, CodecId.Rqm, d);
        float c = reader.ReadSingle("clip bound");
        if (!(c > 0) || !float.IsFinite(c)) throw reader.Error("clip bound", $"c = {c} is not a finite value > 0.");
        float delta = reader.ReadSingle("extension");
        if (!(delta >= 0) || !float.IsFinite(delta) || !float.IsFinite(2 * (c + delta))) throw reader.Error("extension", $"Δ = {delta} is not a finite value ≥ 0 (with a finite grid).");
        int m = reader.ReadInt32("levels");
        if (m < 2 || m > MaxLevels) throw reader.Error("levels", $"m = {m} is outside [2, {MaxLevels}].");
        float q = reader.ReadSingle("keep probability");
        if (!(q > 0 && q <= 1)) throw reader.Error("keep probability", $"q = {q} is outside (0, 1].");
        int bits = reader.ReadByte("bits");
        if (bits != BitsFor(m)) throw reader.Error("bits", $"{bits} bits per entry, but m = {m} levels are packed in {BitsFor(m)} bits.");
        var codes = reader.ReadBytes(((long)d * bits + 7) / 8, "codes");
        reader.End();

        float top = c + delta, w = Spacing(c, delta, m);
        fixed (byte* p = codes)
        fixed (float* o = output)
        {
            int chunks = CodecChunks.Count(d), bad = 0;
            CodecChunks.Run(new CheckJob(p, d, bits, m, &bad), chunks, codes.Length);
            if (bad != 0)
            {
                for (int i = 0, at = 0; i < d; i += 8, at += bits)
                {
                    var g = BitPacking.ReadGroup(codes[at..], bits, Math.Min(8, d - i));
                    for (int j = 0; j < 8; j++)
                        if (g[j] >= m) throw reader.Error($"code {i + j}", $"level index {g[j]} is outside [0, {m}).");
                }
            }
            int usedBits = (int)((long)d * bits % 8);
            if (usedBits != 0 && (codes[^1] >> usedBits) != 0)
                throw reader.Error("codes", $"padding bits after entry {d - 1} are set (last byte 0x{codes[^1]:X2}).");
            CodecChunks.Run(new DecodeJob(p, o, d, bits, w, top, scale, accumulate), chunks, 4L * d);
        }
    }

    /// <summary>Sets *bad when a level index of the chunk (or a padding code) is ≥ m.</summary>
    private readonly unsafe struct CheckJob(byte* codes, int d, int bits, int m, int* bad) : IChunkJob
    {
        public void Run(int chunk)
        {
            int start = chunk * CodecChunks.Length, n = Math.Min(CodecChunks.Length, d - start);
            if (BitPacking.AnyAbove(new ReadOnlySpan<byte>(codes + (long)start * bits / 8, (int)(((long)n * bits + 7) / 8)), m - 1, bits)) *bad = 1;
        }
    }

    /// <summary>Decodes one chunk of <see cref="CodecChunks.Length"/> entries.</summary>
    private readonly unsafe struct DecodeJob(byte* codes, float* output, int d, int bits, float w, float top, float scale, bool accumulate) : IChunkJob
    {
        public void Run(int chunk)
        {
            int start = chunk * CodecChunks.Length, n = Math.Min(CodecChunks.Length, d - start);
            DecodeRange(new ReadOnlySpan<byte>(codes + (long)start * bits / 8, (int)(((long)n * bits + 7) / 8)), new Span<float>(output + start, n), bits, w, top, scale, accumulate);
        }
    }

    private static void DecodeRange(ReadOnlySpan<byte> codes, Span<float> output, int bits, float w, float top, float scale, bool accumulate)
    {
        int d = output.Length, i = 0, p = 0;
        var vw = Vector256.Create(w);
        var vtop = Vector256.Create(top);
        var vscale = Vector256.Create(scale);
        ref float o = ref MemoryMarshal.GetReference(output);
        if (bits is 2 or 4 or 8 && Avx512BW.IsSupported)
        {
            var w5 = Vector512.Create(w);
            var top5 = Vector512.Create(top);
            var scale5 = Vector512.Create(scale);
            for (; i <= d - 64; i += 64, p += 8 * bits)
            {
                var q = BitPacking.Load64(in codes[p], bits);
                ref float dst = ref Unsafe.Add(ref o, i);
                Emit(ref dst, 0, Avx512F.ConvertToVector512Int32(q.GetLower().GetLower()), w5, top5, scale5, accumulate);
                Emit(ref dst, 16, Avx512F.ConvertToVector512Int32(q.GetLower().GetUpper()), w5, top5, scale5, accumulate);
                Emit(ref dst, 32, Avx512F.ConvertToVector512Int32(q.GetUpper().GetLower()), w5, top5, scale5, accumulate);
                Emit(ref dst, 48, Avx512F.ConvertToVector512Int32(q.GetUpper().GetUpper()), w5, top5, scale5, accumulate);
            }
        }
        if (bits is 2 or 4 or 8)
        {
            for (; i <= d - 32; i += 32, p += 4 * bits)
            {
                var (c0, c1, c2, c3) = BitPacking.Widen(BitPacking.Load32(codes[p..], bits));
                ref float dst = ref Unsafe.Add(ref o, i);
                Emit(ref dst, 0, c0, vw, vtop, vscale, accumulate);
                Emit(ref dst, 8, c1, vw, vtop, vscale, accumulate);
                Emit(ref dst, 16, c2, vw, vtop, vscale, accumulate);
                Emit(ref dst, 24, c3, vw, vtop, vscale, accumulate);
            }
        }
        for (; i <= d - 8; i += 8, p += bits)
            Emit(ref Unsafe.Add(ref o, i), 0, BitPacking.ReadGroup(codes[p..], bits), vw, vtop, vscale, accumulate);
        if (i < d)
        {
            int valid = d - i;
            Span<float> tail = stackalloc float[8];
            (Vector256.ConvertToSingle(BitPacking.ReadGroup(codes[p..], bits, valid)) * vw - vtop).CopyTo(tail);
            for (int j = 0; j < valid; j++)
            {
                ref float dst = ref Unsafe.Add(ref o, i + j);
                dst = accumulate ? dst + tail[j] * scale : tail[j];
            }
        }
    }
}
