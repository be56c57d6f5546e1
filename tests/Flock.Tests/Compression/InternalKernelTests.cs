using System.Runtime.Intrinsics;
using Flock.Compression;
using Flock.Tensors;

namespace Flock.Tests.Compression;

/// <summary>The internal building blocks: the vector random stream, bit packing, selection, sampling.</summary>
public sealed class InternalKernelTests
{
    private static uint Rotl(uint x, int k) => (x << k) | (x >> (32 - k));

    [Fact]
    public void Simd_random_is_sixteen_scalar_xoshiro128_star_star_lanes()
    {
        // Reference: lane j seeded with (s[j], s[16 + j], s[32 + j], s[48 + j]) from the Rng's 64-bit
        // outputs split low half first; step t writes lane j at index 16t + j.
        var seedRng = new Rng(99);
        var s = new uint[64];
        for (int i = 0; i < 64; i += 2)
        {
            ulong x = seedRng.NextUInt64();
            s[i] = (uint)x;
            s[i + 1] = (uint)(x >> 32);
        }
        const int steps = 70;
        var expected = new uint[16 * steps];
        for (int j = 0; j < 16; j++)
        {
            uint a = s[j], b = s[16 + j], c = s[32 + j], d = s[48 + j];
            for (int t = 0; t < steps; t++)
            {
                expected[16 * t + j] = Rotl(b * 5, 7) * 9;
                uint u = b << 9;
                c ^= a; d ^= b; b ^= c; a ^= d; c ^= u; d = Rotl(d, 11);
            }
        }
        var rng = new SimdRandom(new Rng(99));
        var actual = new uint[16 * steps];
        rng.Fill(actual.AsSpan(0, 16 * 30));                   // two fills continue the same stream
        rng.Fill(actual.AsSpan(16 * 30));
        Assert.Equal(expected, actual);
        var floats = new float[32];
        new SimdRandom(new Rng(99)).FillFloats(floats);
        for (int i = 0; i < 32; i++) Assert.Equal((expected[i] >> 8) / 16777216f, floats[i]);
        Assert.Throws<ArgumentException>(() => rng.Fill(new uint[8]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    public void Group_packing_round_trips(int bits)
    {
        var rng = new Rng((ulong)bits);
        int max = 1 << bits;
        for (int valid = 1; valid <= 8; valid++)
        {
            var codes = new int[8];
            for (int j = 0; j < valid; j++) codes[j] = rng.NextInt(max);
            var buffer = new byte[16];
            buffer.AsSpan().Fill(0xAA);
            BitPacking.WriteGroup(buffer, Vector256.Create(codes), bits, valid);
            int bytes = valid == 8 ? bits : (valid * bits + 7) / 8;
            Assert.All(buffer.AsSpan(bytes).ToArray(), b => Assert.Equal(0xAA, b));
            for (int j = 0; j < valid; j++)                                 // LSB-first layout
                Assert.Equal(codes[j], (int)((ReadBits(buffer, j * bits, bits))));
            var back = BitPacking.ReadGroup(buffer, bits, valid);
            for (int j = 0; j < 8; j++) Assert.Equal(j < valid ? codes[j] : 0, back[j]);
        }
    }

    private static long ReadBits(byte[] buffer, int bitOffset, int bits)
    {
        long v = 0;
        for (int b = 0; b < bits; b++)
            v |= (long)((buffer[(bitOffset + b) / 8] >> ((bitOffset + b) % 8)) & 1) << b;
        return v;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Wide_packing_matches_group_packing(int bits)
    {
        var rng = new Rng(5);
        var codes = new int[32];
        for (int j = 0; j < 32; j++) codes[j] = rng.NextInt(1 << bits);
        var wide = new byte[4 * bits];
        BitPacking.Store32(BitPacking.Narrow(Vector256.Create(codes.AsSpan(0, 8)), Vector256.Create(codes.AsSpan(8, 8)), Vector256.Create(codes.AsSpan(16, 8)), Vector256.Create(codes.AsSpan(24, 8))), bits, wide);
        var grouped = new byte[4 * bits];
        for (int g = 0; g < 4; g++) BitPacking.WriteGroup(grouped.AsSpan(g * bits), Vector256.Create(codes.AsSpan(8 * g, 8)), bits);
        Assert.Equal(grouped, wide);
        var (a, b, c, d) = BitPacking.Widen(BitPacking.Load32(wide, bits));
        Assert.Equal(codes, (int[])[.. Enumerable.Range(0, 8).Select(i => a[i]), .. Enumerable.Range(0, 8).Select(i => b[i]), .. Enumerable.Range(0, 8).Select(i => c[i]), .. Enumerable.Range(0, 8).Select(i => d[i])]);
    }

    [Fact]
    public void Kth_largest_and_distinct_sampling()
    {
        var rng = new Rng(3);
        for (int n = 1; n < 200; n += 7)
        {
            var v = Enumerable.Range(0, n).Select(_ => (float)rng.NextInt(20)).ToArray();
            var sorted = v.OrderByDescending(a => a).ToArray();
            for (int k = 1; k <= n; k += 3) Assert.Equal(sorted[k - 1], Selection.KthLargest((float[])v.Clone(), k));
        }
        foreach (var (n, k) in new[] { (10, 3), (10, 7), (1000, 1), (1000, 999), (64, 64), (65, 32) })
        {
            var result = new int[k];
            Sampling.DistinctSorted(new Rng((ulong)(n + k)), n, k, result);
            Assert.Equal(k, result.Distinct().Count());
            Assert.Equal(result.Order(), result);
            Assert.All(result, i => Assert.InRange(i, 0, n - 1));
        }
        // Uniform: each of 10 indices is in a random 3-subset with probability 0.3 (sd of 5000 draws ≈ 32).
        var hits = new int[10];
        var sub = new int[3];
        var r = new Rng(8);
        for (int t = 0; t < 5000; t++)
        {
            Sampling.DistinctSorted(r, 10, 3, sub);
            foreach (int i in sub) hits[i]++;
        }
        Assert.All(hits, h => Assert.InRange(h, 1500 - 6 * 33, 1500 + 6 * 33));
    }

    /// <summary>
    /// DGC's threshold rule, written plainly (count the whole vector each time, collect at the end),
    /// as a reference for the fused implementation that collects while counting and reuses the pool.
    /// </summary>
    private static int[] DgcReference(float[] x, int k, double fraction, Rng rng)
    {
        int d = x.Length, m = Selection.DgcSampleLength(d, fraction);
        var idx = new int[m];
        Selection.StratifiedIndices(d, rng, idx);
        var sample = idx.Select(i => float.IsNaN(x[i]) ? -1f : MathF.Abs(x[i])).OrderByDescending(v => v).ToArray();
        float t = sample[(int)Math.Clamp(Math.Ceiling((double)m * k / d), 1, m) - 1];
        if (!(t > 0)) t = float.Epsilon;
        int Count(float th) => x.Count(v => MathF.Abs(v) >= th);
        float tooMany = 0f, tooFew = float.PositiveInfinity;
        int c = Count(t), cTooMany = 0;
        for (int iter = 0; iter < 10 && (c > 1.3 * k || c < 0.8 * k); iter++)
        {
            if (c > 1.3 * k) { tooMany = t; cTooMany = c; t = float.IsPositiveInfinity(tooFew) ? t * 1.3f : 0.5f * (t + tooFew); }
            else { tooFew = t; t = tooMany == 0f ? t * 0.8f : 0.5f * (tooMany + t); }
            c = Count(t);
        }
        if ((c > 1.3 * k || c < 0.8 * k) && tooMany > 0f && c < k) t = tooMany;
        var cand = Enumerable.Range(0, d).Where(i => MathF.Abs(x[i]) >= t).ToArray();
        if (cand.Length <= k) return cand;
        // Exact top-k among the candidates, ties to the lowest indices.
        var top = cand.OrderByDescending(i => MathF.Abs(x[i])).ThenBy(i => i).Take(k).ToHashSet();
        return cand.Where(top.Contains).ToArray();
    }

    [Theory]
    [InlineData(0)]   // Gaussian: the first count usually lands in the window
    [InlineData(1)]   // a cluster of equal magnitudes around the k-th: bisection, then the fallback threshold
    [InlineData(2)]   // heavy tail with zeros: refinement steps in both directions
    [InlineData(3)]   // tiny sample fraction: poor first estimate, pool counts
    public void Dgc_selection_matches_the_plain_threshold_rule(int kind)
    {
        const int d = 200_000;
        var rng = new Rng((ulong)(17 + kind));
        var x = new float[d];
        for (int i = 0; i < d; i++)
        {
            float g = (float)rng.NextGaussian();
            x[i] = kind switch
            {
                1 => i % 3 == 0 ? (g > 0 ? 2.5f : -2.5f) : g,
                2 => i % 4 == 0 ? 0f : g * g * g,
                _ => g,
            };
        }
        double fraction = kind == 3 ? 0.0005 : 0.01;
        foreach (int k in new[] { 1, 37, 200, 2_000, 30_000 })
        {
            var expected = DgcReference(x, k, fraction, new Rng((ulong)(5 + k)));
            var result = new int[k];
            int n = Selection.Dgc(x, k, fraction, new Rng((ulong)(5 + k)), result);
            Assert.Equal(expected, result[..n]);
        }
    }
}
