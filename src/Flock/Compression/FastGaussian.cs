using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Fast seeded standard-normal vectors for shared-randomness methods (zeroth-order SPSA with
/// regenerated perturbations, Gaussian sketches): the same 64-bit seed gives the same vector on
/// every machine, whatever its instruction set, at a fraction of a nanosecond per entry.
/// </summary>
/// <remarks>
/// <para>
/// <b>Stream.</b> Sixteen xoshiro128** lanes seeded from <c>new Rng(seed)</c> (the generator of
/// the stochastic quantizers) produce 32-bit words in blocks of 32: words 0–15 of a block are
/// u-words, words 16–31 are a-words. Lane j turns its pair into two outputs by Box–Muller,
/// <c>r = √(−2 ln u)</c> with <c>u = ((u-word &gt;&gt; 8) + 1)·2^−24 ∈ (0, 1]</c>, and an angle
/// <c>θ = ψ + k·π/2</c> with <c>ψ = f·π/2 − π/4</c>, <c>f = (a-word &amp; 0xFFFFFF)·2^−24</c> and the quadrant
/// k = a-word &gt;&gt; 30; output 32b + j is <c>r·cos θ</c> and output 32b + 16 + j is <c>r·sin θ</c>.
/// A prefix of a longer vector equals the shorter vector of the same seed.
/// </para>
/// <para>
/// <b>Accuracy.</b> ln, sin and cos are evaluated with fixed polynomials (atanh series on the
/// mantissa reduced to [√½, √2], Taylor series of degree 9 and 10 on [−π/4, π/4]), accurate to a
/// few float ulps; every lane is computed with the same separately rounded float operations (no
/// fused multiply-add, IEEE division and square root), so Vector512 and Vector256 hardware give
/// bit-identical vectors. The radius is bounded by √(2·24·ln 2) ≈ 5.77 (u ≥ 2^−24), a truncation
/// of the normal tail at probability 2^−24 per pair.
/// </para>
/// </remarks>
public static class FastGaussian
{
    private const int Chunk = 512;

    [ThreadStatic] private static Rng? t_rng;

    /// <summary>Fills <paramref name="destination"/> with the standard-normal vector of <paramref name="seed"/>.</summary>
    public static void Fill(ulong seed, Span<float> destination)
    {
        var rng = CreateLanes(seed);
        Span<uint> bits = stackalloc uint[Chunk];
        Span<float> z = stackalloc float[Chunk];
        for (int off = 0; off < destination.Length; off += Chunk)
        {
            int m = Math.Min(Chunk, destination.Length - off);
            rng.Fill(bits);
            if (m == Chunk) Transform(bits, destination.Slice(off, Chunk));
            else
            {
                Transform(bits, z);
                z[..m].CopyTo(destination[off..]);
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="scale"/> times the standard-normal vector of <paramref name="seed"/> to
    /// <paramref name="accumulator"/> (<c>acc[i] ← acc[i] + scale·z[i]</c>, product and sum rounded
    /// separately) without materializing the vector. Allocation-free.
    /// </summary>
    public static void AddScaled(ulong seed, float scale, Span<float> accumulator)
    {
        var rng = CreateLanes(seed);
        Span<uint> bits = stackalloc uint[Chunk];
        Span<float> z = stackalloc float[Chunk];
        for (int off = 0; off < accumulator.Length; off += Chunk)
        {
            int m = Math.Min(Chunk, accumulator.Length - off);
            rng.Fill(bits);
            Transform(bits, z);
            AddScaledCore(accumulator.Slice(off, m), z[..m], scale);
        }
    }

    private static SimdRandom CreateLanes(ulong seed)
    {
        var rng = t_rng ??= new Rng(seed);
        rng.Reset(seed);
        return new SimdRandom(rng);
    }

    private static void AddScaledCore(Span<float> acc, ReadOnlySpan<float> z, float scale)
    {
        int n = acc.Length, i = 0;
        ref float a = ref MemoryMarshal.GetReference(acc);
        ref float x = ref MemoryMarshal.GetReference(z);
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(scale);
            for (; i <= n - 16; i += 16) (Vector512.LoadUnsafe(ref a, (nuint)i) + s * Vector512.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref a, (nuint)i);
        }
        {
            var s = Vector256.Create(scale);
            for (; i <= n - 8; i += 8) (Vector256.LoadUnsafe(ref a, (nuint)i) + s * Vector256.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref a, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref a, i) += scale * Unsafe.Add(ref x, i);
    }

    /// <summary>Turns random words (length a multiple of 32) into as many normal samples.</summary>
    private static void Transform(ReadOnlySpan<uint> bits, Span<float> output)
    {
        ref uint b = ref MemoryMarshal.GetReference(bits);
        ref float o = ref MemoryMarshal.GetReference(output);
        if (Vector512.IsHardwareAccelerated)
        {
            for (int i = 0; i < bits.Length; i += 32)
            {
                var (c, s) = BoxMuller(Vector512.LoadUnsafe(ref b, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i + 16));
                c.StoreUnsafe(ref o, (nuint)i);
                s.StoreUnsafe(ref o, (nuint)i + 16);
            }
        }
        else
        {
            for (int i = 0; i < bits.Length; i += 32)
            {
                for (int h = 0; h < 16; h += 8)
                {
                    var (c, s) = BoxMuller(Vector256.LoadUnsafe(ref b, (nuint)(i + h)), Vector256.LoadUnsafe(ref b, (nuint)(i + 16 + h)));
                    c.StoreUnsafe(ref o, (nuint)(i + h));
                    s.StoreUnsafe(ref o, (nuint)(i + 16 + h));
                }
            }
        }
    }

    // Polynomial coefficients (float): atanh series 2s(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9), sin and cos Taylor series.
    private const float Sqrt2 = 1.41421356f, Ln2 = 0.693147181f, TwoPow24 = 1f / (1 << 24);
    private const float C3 = 1f / 3, C5 = 1f / 5, C7 = 1f / 7, C9 = 1f / 9;
    private const float S3 = -1f / 6, S5 = 1f / 120, S7 = -1f / 5040, S9 = 1f / 362880;
    private const float K2 = -0.5f, K4 = 1f / 24, K6 = -1f / 720, K8 = 1f / 40320, K10 = -1f / 3628800;
    private const float HalfPi = 1.57079633f, QuarterPi = 0.785398163f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Cos, Vector512<float> Sin) BoxMuller(Vector512<uint> uw, Vector512<uint> aw)
    {
        var one = Vector512.Create(1f);
        // r = sqrt(-2 ln u), u in (0, 1].
        var u = Vector512.ConvertToSingle(((uw >> 8) + Vector512.Create(1u)).AsInt32()) * Vector512.Create(TwoPow24);
        var ub = u.AsUInt32();
        var e = (ub >> 23).AsInt32() - Vector512.Create(127);
        var m = ((ub & Vector512.Create(0x7FFFFFu)) | Vector512.Create(0x3F800000u)).AsSingle();
        var big = Vector512.GreaterThan(m, Vector512.Create(Sqrt2));
        m = Vector512.ConditionalSelect(big, m * Vector512.Create(0.5f), m);
        e -= big.AsInt32();
        var s = (m - one) / (m + one);
        var s2 = s * s;
        var poly = one + s2 * (Vector512.Create(C3) + s2 * (Vector512.Create(C5) + s2 * (Vector512.Create(C7) + s2 * Vector512.Create(C9))));
        var ln = Vector512.ConvertToSingle(e) * Vector512.Create(Ln2) + (s + s) * poly;
        var r = Vector512.Sqrt(Vector512.Create(-2f) * ln);
        // (cos ψ, sin ψ) for ψ in [-π/4, π/4), rotated by the quadrant k.
        var f = Vector512.ConvertToSingle((aw & Vector512.Create(0xFFFFFFu)).AsInt32()) * Vector512.Create(TwoPow24);
        var psi = f * Vector512.Create(HalfPi) - Vector512.Create(QuarterPi);
        var p2 = psi * psi;
        var sn = psi * (one + p2 * (Vector512.Create(S3) + p2 * (Vector512.Create(S5) + p2 * (Vector512.Create(S7) + p2 * Vector512.Create(S9)))));
        var cs = one + p2 * (Vector512.Create(K2) + p2 * (Vector512.Create(K4) + p2 * (Vector512.Create(K6) + p2 * (Vector512.Create(K8) + p2 * Vector512.Create(K10)))));
        var k = aw >> 30;
        var swap = Vector512.Equals(k & Vector512.Create(1u), Vector512.Create(1u)).AsSingle();
        var a = Vector512.ConditionalSelect(swap, sn, cs);
        var c = Vector512.ConditionalSelect(swap, cs, sn);
        var sign1 = ((k ^ (k >> 1)) & Vector512.Create(1u)) << 31;
        var sign2 = (k >> 1) << 31;
        return (((r * a).AsUInt32() ^ sign1).AsSingle(), ((r * c).AsUInt32() ^ sign2).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Cos, Vector256<float> Sin) BoxMuller(Vector256<uint> uw, Vector256<uint> aw)
    {
        var one = Vector256.Create(1f);
        var u = Vector256.ConvertToSingle(((uw >> 8) + Vector256.Create(1u)).AsInt32()) * Vector256.Create(TwoPow24);
        var ub = u.AsUInt32();
        var e = (ub >> 23).AsInt32() - Vector256.Create(127);
        var m = ((ub & Vector256.Create(0x7FFFFFu)) | Vector256.Create(0x3F800000u)).AsSingle();
        var big = Vector256.GreaterThan(m, Vector256.Create(Sqrt2));
        m = Vector256.ConditionalSelect(big, m * Vector256.Create(0.5f), m);
        e -= big.AsInt32();
        var s = (m - one) / (m + one);
        var s2 = s * s;
        var poly = one + s2 * (Vector256.Create(C3) + s2 * (Vector256.Create(C5) + s2 * (Vector256.Create(C7) + s2 * Vector256.Create(C9))));
        var ln = Vector256.ConvertToSingle(e) * Vector256.Create(Ln2) + (s + s) * poly;
        var r = Vector256.Sqrt(Vector256.Create(-2f) * ln);
        var f = Vector256.ConvertToSingle((aw & Vector256.Create(0xFFFFFFu)).AsInt32()) * Vector256.Create(TwoPow24);
        var psi = f * Vector256.Create(HalfPi) - Vector256.Create(QuarterPi);
        var p2 = psi * psi;
        var sn = psi * (one + p2 * (Vector256.Create(S3) + p2 * (Vector256.Create(S5) + p2 * (Vector256.Create(S7) + p2 * Vector256.Create(S9)))));
        var cs = one + p2 * (Vector256.Create(K2) + p2 * (Vector256.Create(K4) + p2 * (Vector256.Create(K6) + p2 * (Vector256.Create(K8) + p2 * Vector256.Create(K10)))));
        var k = aw >> 30;
        var swap = Vector256.Equals(k & Vector256.Create(1u), Vector256.Create(1u)).AsSingle();
        var a = Vector256.ConditionalSelect(swap, sn, cs);
        var c = Vector256.ConditionalSelect(swap, cs, sn);
        var sign1 = ((k ^ (k >> 1)) & Vector256.Create(1u)) << 31;
        var sign2 = (k >> 1) << 31;
        return (((r * a).AsUInt32() ^ sign1).AsSingle(), ((r * c).AsUInt32() ^ sign2).AsSingle());
    }
}
