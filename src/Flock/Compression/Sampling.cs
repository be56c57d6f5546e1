using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>Uniform sampling of distinct indices.</summary>
internal static class Sampling
{
    /// <summary>
    /// Writes a uniformly random k-subset of [0, n) into <paramref name="result"/> in increasing
    /// order. Rejection sampling into a bitmap (of the subset, or of its complement when
    /// k &gt; n/2), indices from 64-bit uniforms by multiply-shift (bias below n/2^64), so the cost
    /// is O(min(k, n − k) + n/64) and deterministic for a generator state.
    /// </summary>
    public static void DistinctSorted(Rng rng, int n, int k, Span<int> result)
    {
        if (k <= 0) return;
        if (k >= n)
        {
            for (int i = 0; i < n; i++) result[i] = i;
            return;
        }
        bool complement = k > n / 2;
        int draws = complement ? n - k : k;
        int words = (n + 63) >> 6;
        ulong[] bitmap = ArrayPool<ulong>.Shared.Rent(words);
        try
        {
            var bits = bitmap.AsSpan(0, words);
            bits.Clear();
            // Draw until `draws` distinct indices are marked: a first batch of `draws` independent
            // draws (no data-dependent branch, so the random bitmap updates overlap), then one at a
            // time until the count is reached. Stopping at the first moment `draws` distinct values
            // have been seen gives a uniform subset, however the draws are grouped.
            for (int j = 0; j < draws; j++)
            {
                int i = (int)Math.BigMul(rng.NextUInt64(), (ulong)n, out _);
                bits[i >> 6] |= 1UL << (i & 63);
            }
            long got = 0;
            foreach (ulong w in bits) got += BitOperations.PopCount(w);
            while (got < draws)
            {
                int i = (int)Math.BigMul(rng.NextUInt64(), (ulong)n, out _);
                ulong mask = 1UL << (i & 63);
                if ((bits[i >> 6] & mask) == 0)
                {
                    bits[i >> 6] |= mask;
                    got++;
                }
            }
            if ((n & 63) != 0) bits[words - 1] |= complement ? ~((1UL << (n & 63)) - 1) : 0;   // past n: never listed
            Extract(bits, complement, result[..k]);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(bitmap);
        }
    }

    /// <summary>
    /// Writes the positions of the set bits of <paramref name="bits"/> (of the clear bits when
    /// <paramref name="complement"/>), increasing, into <paramref name="result"/>, which has exactly
    /// that many slots. Without a branch per word: a sparse bitmap (at most one bit in eight) writes two
    /// positions per word unconditionally and advances by the word's bit count (a word with more bits,
    /// rare, loops over the rest); a dense one, with AVX-512, compresses sixteen positions at a time.
    /// Slots written past the current count are overwritten by the next words.
    /// </summary>
    private static void Extract(ReadOnlySpan<ulong> bits, bool complement, Span<int> result)
    {
        int o = 0, w = 0, k = result.Length;
        ulong flip = complement ? ulong.MaxValue : 0;
        ref int rr = ref MemoryMarshal.GetReference(result);
        if (k <= 8L * bits.Length)
        {
            for (; w < bits.Length && o <= k - 2; w++)
            {
                ulong word = bits[w] ^ flip;
                int at = w << 6, count = BitOperations.PopCount(word);
                ulong rest = word & (word - 1);
                Unsafe.Add(ref rr, o) = at + BitOperations.TrailingZeroCount(word);
                Unsafe.Add(ref rr, o + 1) = at + BitOperations.TrailingZeroCount(rest);
                if (count <= 2)
                {
                    o += count;
                    continue;
                }
                o += 2;
                for (rest &= rest - 1; rest != 0; rest &= rest - 1) result[o++] = at + BitOperations.TrailingZeroCount(rest);
            }
        }
        else if (Avx512F.IsSupported)
        {
            var lanes = Vector512<int>.Indices;
            for (; w < bits.Length && o <= k - 64; w++)
            {
                ulong word = bits[w] ^ flip;
                var at = Vector512.Create(w << 6) + lanes;
                for (int q = 0; q < 4; q++, word >>= 16, at += Vector512.Create(16))
                {
                    var mask = Vector512.Equals(Vector512.Create((int)(word & 0xFFFF)) & PowersOfTwo, PowersOfTwo);
                    Avx512F.Compress(Vector512<int>.Zero, mask, at).StoreUnsafe(ref rr, (nuint)o);
                    o += BitOperations.PopCount(word & 0xFFFF);
                }
            }
        }
        for (; w < bits.Length; w++)
        {
            ulong word = bits[w] ^ flip;
            while (word != 0)
            {
                result[o++] = (w << 6) + BitOperations.TrailingZeroCount(word);
                word &= word - 1;
            }
        }
    }

    /// <summary>Lane l holds 2^l: the lanes of a 16-bit mask.</summary>
    private static readonly Vector512<int> PowersOfTwo = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
}
