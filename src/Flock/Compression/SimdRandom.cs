using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Eight independent xoshiro128** generators (Blackman &amp; Vigna) in the lanes of a Vector256,
/// seeded from a <see cref="Rng"/>: eight uniform floats per step for the stochastic quantizers.
/// Only Vector256 operations are used, so the stream is identical on every machine (hardware
/// acceleration or its software fallback).
/// </summary>
internal struct SimdRandom
{
    private Vector256<uint> _s0, _s1, _s2, _s3;

    public SimdRandom(Rng rng)
    {
        Span<uint> s = stackalloc uint[32];
        for (int i = 0; i < 32; i += 2)
        {
            ulong x = rng.NextUInt64();
            s[i] = (uint)x;
            s[i + 1] = (uint)(x >> 32);
        }
        // Lane j's state is (s[j], s[8 + j], s[16 + j], s[24 + j]); an all-zero state would be stuck.
        for (int j = 0; j < 8; j++)
            if ((s[j] | s[8 + j] | s[16 + j] | s[24 + j]) == 0) s[j] = 0x9E3779B9u;
        _s0 = Vector256.Create((ReadOnlySpan<uint>)s[..8]);
        _s1 = Vector256.Create((ReadOnlySpan<uint>)s[8..16]);
        _s2 = Vector256.Create((ReadOnlySpan<uint>)s[16..24]);
        _s3 = Vector256.Create((ReadOnlySpan<uint>)s[24..32]);
    }

    /// <summary>
    /// Fills <paramref name="bits"/> (length a multiple of 8) with random 32-bit values, eight per
    /// step (lane j of step t goes to index 8t + j). The state lives in registers during the loop.
    /// </summary>
    public void Fill(Span<uint> bits)
    {
        var s0 = _s0; var s1 = _s1; var s2 = _s2; var s3 = _s3;
        ref uint o = ref MemoryMarshal.GetReference(bits);
        for (int i = 0; i + 8 <= bits.Length; i += 8)
        {
            var x = (s1 << 2) + s1;                                  // s1·5
            x = (x << 7) | (x >> 25);                                // rotl 7
            ((x << 3) + x).StoreUnsafe(ref o, (nuint)i);             // ·9
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

    /// <summary>Fills <paramref name="values"/> (length a multiple of 8) with uniform floats in [0, 1), 24 random bits each.</summary>
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
