using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Compression;

/// <summary>
/// The per-index hash of the sketches: h(i) = fmix32(fmix32(i ⊕ a) + b) with (a, b) from the
/// 64-bit seed (MurmurHash3's finalizer), computed eight lanes at a time; the bucket is
/// ⌊h·s / 2^32⌋ (the high bits) and the sign is bit 0 of h. Scalar and vector forms agree.
/// </summary>
internal static class SketchHash
{
    public const int Chunk = 1024;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Fmix(uint h)
    {
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        h *= 0xC2B2AE35u;
        h ^= h >> 16;
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Fmix(Vector256<uint> h)
    {
        h ^= h >> 16;
        h *= Vector256.Create(0x85EBCA6Bu);
        h ^= h >> 13;
        h *= Vector256.Create(0xC2B2AE35u);
        h ^= h >> 16;
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Fmix(Vector512<uint> h)
    {
        h ^= h >> 16;
        h *= Vector512.Create(0x85EBCA6Bu);
        h ^= h >> 13;
        h *= Vector512.Create(0xC2B2AE35u);
        h ^= h >> 16;
        return h;
    }

    /// <summary>Hashes of sixteen indices (<paramref name="a"/>, <paramref name="b"/>: the seed's low and high words, broadcast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Hash(Vector512<uint> a, Vector512<uint> b, Vector512<uint> indices) => Fmix(Fmix(indices ^ a) + b);

    /// <summary>Buckets ⌊h·s/2^32⌋ of sixteen hashes (exact; <paramref name="size"/> is s broadcast as 64-bit lanes), with two even/odd 32×32→64 multiplies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Buckets(Vector512<uint> hashes, Vector512<uint> size)
    {
        var even = System.Runtime.Intrinsics.X86.Avx512F.Multiply(hashes, size);                              // lanes 0, 2, …: h·s
        var odd = System.Runtime.Intrinsics.X86.Avx512F.Multiply((hashes.AsUInt64() >> 32).AsUInt32(), size); // lanes 1, 3, …
        return ((even >> 32) | (odd & Vector512.Create(0xFFFFFFFF00000000UL))).AsInt32();
    }

    /// <summary>Sign masks (0 or 0x80000000) of sixteen hashes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> SignMasks(Vector512<uint> hashes) => hashes << 31;

    /// <summary>The 32-bit hash of index <paramref name="i"/>.</summary>
    public static uint Hash(ulong seed, int i) => Fmix(Fmix((uint)i ^ (uint)seed) + (uint)(seed >> 32));

    /// <summary>The bucket of a hash among <paramref name="buckets"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Bucket(uint hash, int buckets) => (int)(((ulong)hash * (uint)buckets) >> 32);

    /// <summary>
    /// Packed sign mask (0 or 0x80000000) of index <paramref name="i"/>: bit i mod 32 of the hash of
    /// word ⌊i/32⌋, so one hash gives the signs of 32 consecutive indices (used by the SRHT, which
    /// needs one random bit per index rather than a whole hash).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint PackedSignMask(ulong seed, int i) => ((Hash(seed, i >> 5) >> (i & 31)) & 1u) << 31;

    private static readonly Vector512<uint> s_shiftsLow = Vector512.Create(31u) - Vector512<uint>.Indices;
    private static readonly Vector512<uint> s_shiftsHigh = Vector512.Create(15u) - Vector512<uint>.Indices;

    /// <summary>
    /// Packed sign masks of the sixteen indices <paramref name="first"/> … first + 15 (first a
    /// multiple of 16) from <paramref name="word"/>, the hash of word ⌊first/32⌋: lane l takes bit
    /// (first mod 32) + l. Needs AVX-512.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> PackedSignMasks(uint word, int first) =>
        System.Runtime.Intrinsics.X86.Avx512F.ShiftLeftLogicalVariable(Vector512.Create(word), (first & 16) == 0 ? s_shiftsLow : s_shiftsHigh)
        & Vector512.Create(0x80000000u);

    /// <summary>
    /// Packed sign masks of the eight indices <paramref name="first"/> … first + 7 (first a multiple
    /// of 8) from the hash of word ⌊first/32⌋; needs AVX2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> PackedSignMasks8(uint word, int first) =>
        System.Runtime.Intrinsics.X86.Avx2.ShiftLeftLogicalVariable(Vector256.Create(word),
            Vector256.Create((uint)(31 - (first & 24))) - Vector256<uint>.Indices)
        & Vector256.Create(0x80000000u);

    /// <summary>The sign mask (0 or 0x80000000, to XOR onto a float's bits) of a hash.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint SignMask(uint hash) => hash << 31;

    /// <summary>Hashes of indices start … start + hashes.Length − 1 (length a multiple of 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(ulong seed, int start, Span<uint> hashes)
    {
        int j0 = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var a5 = Vector512.Create((uint)seed);
            var b5 = Vector512.Create((uint)(seed >> 32));
            var idx5 = Vector512.Create((uint)start) + Vector512<uint>.Indices;
            var sixteen = Vector512.Create(16u);
            ref uint h0 = ref MemoryMarshal.GetReference(hashes);
            for (; j0 + 16 <= hashes.Length; j0 += 16)
            {
                Fmix(Fmix(idx5 ^ a5) + b5).StoreUnsafe(ref h0, (nuint)j0);
                idx5 += sixteen;
            }
            if (j0 == hashes.Length) return;
            hashes = hashes[j0..];
            start += j0;
        }
        var a = Vector256.Create((uint)seed);
        var b = Vector256.Create((uint)(seed >> 32));
        var idx = Vector256.Create((uint)start) + Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
        var eight = Vector256.Create(8u);
        for (int j = 0; j < hashes.Length; j += 8)
        {
            Fmix(Fmix(idx ^ a) + b).StoreUnsafe(ref hashes[j]);
            idx += eight;
        }
    }

    /// <summary>
    /// Buckets (⌊h·s/2^32⌋, exact) and sign masks of indices start … start + buckets.Length − 1
    /// (length a multiple of 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FillBuckets(ulong seed, int start, int size, Span<int> buckets, Span<uint> signs)
    {
        ref int bo = ref MemoryMarshal.GetReference(buckets);
        ref uint so = ref MemoryMarshal.GetReference(signs);
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var a5 = Vector512.Create((uint)seed);
            var b5 = Vector512.Create((uint)(seed >> 32));
            var idx5 = Vector512.Create((uint)start) + Vector512<uint>.Indices;
            var sixteen = Vector512.Create(16u);
            var vs5 = Vector512.Create((ulong)(uint)size);
            for (; j + 16 <= buckets.Length; j += 16)
            {
                var h = Fmix(Fmix(idx5 ^ a5) + b5);
                var (lo, hi) = Vector512.Widen(h);
                Vector512.Narrow((lo * vs5) >> 32, (hi * vs5) >> 32).AsInt32().StoreUnsafe(ref bo, (nuint)j);
                (h << 31).StoreUnsafe(ref so, (nuint)j);
                idx5 += sixteen;
            }
        }
        var a = Vector256.Create((uint)seed);
        var b = Vector256.Create((uint)(seed >> 32));
        var idx = Vector256.Create((uint)(start + j)) + Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
        var eight = Vector256.Create(8u);
        var vs = Vector256.Create((ulong)(uint)size);
        for (; j < buckets.Length; j += 8)
        {
            var h = Fmix(Fmix(idx ^ a) + b);
            var (lo, hi) = Vector256.Widen(h);
            Vector256.Narrow((lo * vs) >> 32, (hi * vs) >> 32).AsInt32().StoreUnsafe(ref bo, (nuint)j);
            (h << 31).StoreUnsafe(ref so, (nuint)j);
            idx += eight;
        }
    }
}
