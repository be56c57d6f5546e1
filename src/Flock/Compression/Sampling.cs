using System.Buffers;
using System.Numerics;
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
            int o = 0;
            for (int w = 0; w < words; w++)
            {
                ulong word = complement ? ~bits[w] : bits[w];
                if (w == words - 1 && (n & 63) != 0) word &= (1UL << (n & 63)) - 1;
                while (word != 0)
                {
                    result[o++] = (w << 6) + BitOperations.TrailingZeroCount(word);
                    word &= word - 1;
                }
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(bitmap);
        }
    }
}
