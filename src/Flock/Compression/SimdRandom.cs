using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Sixteen independent xoshiro128** generators (Blackman &amp; Vigna), seeded from a
/// <see cref="Rng"/>, filling buffers sixteen 32-bit values per step for the stochastic quantizers.
/// Step t writes lane j (0–15) to index 16t + j, computed with one Vector512 or two Vector256
/// operations per instruction: the stream is identical on every machine.
/// </summary>
internal struct SimdRandom
{
    [ThreadStatic] private static Rng? t_seeder;

    private Vector512<uint> _s0, _s1, _s2, _s3;

    /// <summary>The lanes seeded from <c>new Rng(seed)</c>, without allocating (a per-thread generator is reset).</summary>
    public static SimdRandom FromSeed(ulong seed)
    {
        var rng = t_seeder ??= new Rng(seed);
        rng.Reset(seed);
        return new SimdRandom(rng);
    }

    public SimdRandom(Rng rng)
    {
        Span<uint> s = stackalloc uint[64];
        for (int i = 0; i < 64; i += 2)
        {
            ulong x = rng.NextUInt64();
            s[i] = (uint)x;
            s[i + 1] = (uint)(x >> 32);
        }
        // Lane j's state is (s[j], s[16 + j], s[32 + j], s[48 + j]); an all-zero state would be stuck.
        for (int j = 0; j < 16; j++)
            if ((s[j] | s[16 + j] | s[32 + j] | s[48 + j]) == 0) s[j] = 0x9E3779B9u;
        _s0 = Vector512.Create((ReadOnlySpan<uint>)s[..16]);
        _s1 = Vector512.Create((ReadOnlySpan<uint>)s[16..32]);
        _s2 = Vector512.Create((ReadOnlySpan<uint>)s[32..48]);
        _s3 = Vector512.Create((ReadOnlySpan<uint>)s[48..64]);
    }

    /// <summary>Fills <paramref name="bits"/> (length a multiple of 16) with random 32-bit values.</summary>
    public void Fill(Span<uint> bits)
    {
        if (bits.Length % 16 != 0) throw new ArgumentException($"Length {bits.Length} is not a multiple of 16.", nameof(bits));
        ref uint o = ref MemoryMarshal.GetReference(bits);
        if (Avx512F.IsSupported)
        {
            // The same steps with AVX-512 rotates and three-way XORs (0x96 = a ⊕ b ⊕ c).
            var s0 = _s0; var s1 = _s1; var s2 = _s2; var s3 = _s3;
            for (int i = 0; i < bits.Length; i += 16)
            {
                var x = Avx512F.RotateLeft((s1 << 2) + s1, 7);       // rotl(s1·5, 7)
                ((x << 3) + x).StoreUnsafe(ref o, (nuint)i);         // ·9
                var t = s1 << 9;
                var n1 = Avx512F.TernaryLogic(s1, s2, s0, 0x96);     // s1 ⊕ (s2 ⊕ s0)
                var n0 = Avx512F.TernaryLogic(s0, s3, s1, 0x96);     // s0 ⊕ (s3 ⊕ s1)
                var n2 = Avx512F.TernaryLogic(s2, s0, t, 0x96);      // s2 ⊕ s0 ⊕ t
                s3 = Avx512F.RotateLeft(s3 ^ s1, 11);
                s0 = n0; s1 = n1; s2 = n2;
            }
            _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
        }
        else if (Vector512.IsHardwareAccelerated)
        {
            var s0 = _s0; var s1 = _s1; var s2 = _s2; var s3 = _s3;
            for (int i = 0; i < bits.Length; i += 16)
            {
                var x = (s1 << 2) + s1;                              // s1·5
                x = (x << 7) | (x >> 25);                            // rotl 7
                ((x << 3) + x).StoreUnsafe(ref o, (nuint)i);         // ·9
                var t = s1 << 9;
                s2 ^= s0;
                s3 ^= s1;
                s1 ^= s2;
                s0 ^= s3;
                s2 ^= t;
                s3 = (s3 << 11) | (s3 >> 21);
            }
            _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
        }
        else
        {
            var a0 = _s0.GetLower(); var a1 = _s1.GetLower(); var a2 = _s2.GetLower(); var a3 = _s3.GetLower();
            var b0 = _s0.GetUpper(); var b1 = _s1.GetUpper(); var b2 = _s2.GetUpper(); var b3 = _s3.GetUpper();
            for (int i = 0; i < bits.Length; i += 16)
            {
                var x = (a1 << 2) + a1;
                x = (x << 7) | (x >> 25);
                ((x << 3) + x).StoreUnsafe(ref o, (nuint)i);
                var t = a1 << 9;
                a2 ^= a0; a3 ^= a1; a1 ^= a2; a0 ^= a3; a2 ^= t;
                a3 = (a3 << 11) | (a3 >> 21);
                var y = (b1 << 2) + b1;
                y = (y << 7) | (y >> 25);
                ((y << 3) + y).StoreUnsafe(ref o, (nuint)i + 8);
                var u = b1 << 9;
                b2 ^= b0; b3 ^= b1; b1 ^= b2; b0 ^= b3; b2 ^= u;
                b3 = (b3 << 11) | (b3 >> 21);
            }
            _s0 = Vector512.Create(a0, b0); _s1 = Vector512.Create(a1, b1); _s2 = Vector512.Create(a2, b2); _s3 = Vector512.Create(a3, b3);
        }
    }

    /// <summary>
    /// <c>a.Fill(x); b.Fill(y)</c> for spans of the same length (a multiple of 16), with the two
    /// generators' steps interleaved: one generator's step is a chain of dependent operations, so
    /// two independent ones run about 1.4× faster together. Same output as the two calls.
    /// </summary>
    public static void Fill(ref SimdRandom a, Span<uint> x, ref SimdRandom b, Span<uint> y)
    {
        if (x.Length != y.Length || x.Length % 16 != 0)
            throw new ArgumentException($"Lengths {x.Length} and {y.Length} must be equal multiples of 16.", nameof(y));
        if (!Avx512F.IsSupported)
        {
            a.Fill(x);
            b.Fill(y);
            return;
        }
        ref uint ox = ref MemoryMarshal.GetReference(x);
        ref uint oy = ref MemoryMarshal.GetReference(y);
        var s0 = a._s0; var s1 = a._s1; var s2 = a._s2; var s3 = a._s3;
        var r0 = b._s0; var r1 = b._s1; var r2 = b._s2; var r3 = b._s3;
        for (int i = 0; i < x.Length; i += 16)
        {
            var p = Avx512F.RotateLeft((s1 << 2) + s1, 7);
            ((p << 3) + p).StoreUnsafe(ref ox, (nuint)i);
            var q = Avx512F.RotateLeft((r1 << 2) + r1, 7);
            ((q << 3) + q).StoreUnsafe(ref oy, (nuint)i);
            var t = s1 << 9;
            var u = r1 << 9;
            var n1 = Avx512F.TernaryLogic(s1, s2, s0, 0x96);
            var m1 = Avx512F.TernaryLogic(r1, r2, r0, 0x96);
            var n0 = Avx512F.TernaryLogic(s0, s3, s1, 0x96);
            var m0 = Avx512F.TernaryLogic(r0, r3, r1, 0x96);
            var n2 = Avx512F.TernaryLogic(s2, s0, t, 0x96);
            var m2 = Avx512F.TernaryLogic(r2, r0, u, 0x96);
            s3 = Avx512F.RotateLeft(s3 ^ s1, 11);
            r3 = Avx512F.RotateLeft(r3 ^ r1, 11);
            s0 = n0; s1 = n1; s2 = n2;
            r0 = m0; r1 = m1; r2 = m2;
        }
        a._s0 = s0; a._s1 = s1; a._s2 = s2; a._s3 = s3;
        b._s0 = r0; b._s1 = r1; b._s2 = r2; b._s3 = r3;
    }

    /// <summary>Fills <paramref name="values"/> (length a multiple of 16) with uniform floats in [0, 1), 24 random bits each.</summary>
    public void FillFloats(Span<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        Fill(bits);
        ref uint b = ref MemoryMarshal.GetReference(bits);
        var scale = Vector256.Create(1f / (1 << 24));
        for (int i = 0; i + 8 <= bits.Length; i += 8)
            (Vector256.ConvertToSingle((Vector256.LoadUnsafe(ref b, (nuint)i) >> 8).AsInt32()) * scale).AsUInt32().StoreUnsafe(ref b, (nuint)i);
    }
}
