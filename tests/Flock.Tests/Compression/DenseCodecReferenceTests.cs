using System.Runtime.InteropServices;
using Flock.Compression;
using Flock.Tensors;

namespace Flock.Tests.Compression;

/// <summary>
/// The vectorized dense codecs against scalar references of their documented rules: QSGD and RQM
/// codes from each chunk's random stream, the 32-accumulator sums, and fused error feedback around
/// scaled sign against the general composition.
/// </summary>
public sealed class DenseCodecReferenceTests
{
    /// <summary>Two chunks (65 536 + 4 465 entries), a tail that is not a multiple of 8.</summary>
    private const int D = 70_001;

    private static int Code(byte[] payload, int codesAt, long entry, int bits) => bits == 16
        ? BitConverter.ToUInt16(payload, codesAt + (int)(2 * entry))
        : (payload[codesAt + (int)(entry * bits / 8)] >> (int)(entry * bits % 8)) & ((1 << bits) - 1);

    [Fact]
    public void Two_generators_filled_together_give_their_own_streams()
    {
        var a = new SimdRandom(new Rng(99));
        var b = SimdRandom.FromSeed(7);
        var x = new uint[16 * 70];
        var y = new uint[16 * 70];
        SimdRandom.Fill(ref a, x.AsSpan(0, 16 * 30), ref b, y.AsSpan(0, 16 * 30));
        SimdRandom.Fill(ref a, x.AsSpan(16 * 30), ref b, y.AsSpan(16 * 30));
        var alone = new uint[16 * 70];
        new SimdRandom(new Rng(99)).Fill(alone);
        Assert.Equal(alone, x);
        new SimdRandom(new Rng(7)).Fill(alone);                      // FromSeed(s) is new SimdRandom(new Rng(s))
        Assert.Equal(alone, y);
        Assert.NotEqual(x, y);
        Assert.Throws<ArgumentException>(() => SimdRandom.Fill(ref a, new uint[16], ref b, new uint[32]));
    }

    [Theory]
    [InlineData(7, 512)]
    [InlineData(1, 24)]
    [InlineData(127, 8)]
    public void Qsgd_codes_follow_the_rounding_rule_with_each_chunks_stream(int s, int bucket)
    {
        var q = new Qsgd(s, bucket);
        var x = Codecs.Gaussian(D, 21);
        x[3] = -0f;
        x[4] = 0f;
        x[5] = 40f;                                                  // a bucket dominated by one entry (r near s)
        var ctx = Codecs.Context(4);
        var payload = Codecs.Encode(q, x, [], ctx);
        int buckets = (D + bucket - 1) / bucket, bits = q.BitsPerEntry, codesAt = PayloadHeader.Length + 6 + 4 * buckets;
        int perChunk = CodecChunks.Length / bucket;
        ulong seed = ctx.DeriveSeed("qsgd");
        var words = new uint[512];
        for (int chunk = 0; chunk * perChunk < buckets; chunk++)
        {
            var rng = SimdRandom.FromSeed(CodecChunks.Seed(seed, chunk));
            for (int b = chunk * perChunk; b < Math.Min(buckets, (chunk + 1) * perChunk); b++)
            {
                int start = b * bucket, len = Math.Min(bucket, D - start);
                float norm = BitConverter.ToSingle(payload, PayloadHeader.Length + 6 + 4 * b);
                double exact = 0;
                for (int i = start; i < start + len; i++) exact += (double)x[i] * x[i];
                Assert.Equal(Math.Sqrt(exact), norm, 1e-6 * Math.Sqrt(exact));
                float scale = norm > 0 ? s / norm : 0f;
                for (int off = 0; off < len; off += 512)
                {
                    int n = Math.Min(512, len - off);
                    rng.Fill(words.AsSpan(0, (n + 15) & ~15));
                    for (int j = 0; j < n; j++)
                    {
                        float v = x[start + off + j];
                        float r = MathF.Min(MathF.Abs(v) * scale, s), floor = MathF.Floor(r);
                        float u = (words[j] >> 8) * (1f / (1 << 24));
                        float level = u < r - floor ? floor + 1 : floor;
                        int expected = (int)(s + MathF.CopySign(level, v));
                        Assert.Equal(expected, Code(payload, codesAt, start + off + j, bits));
                    }
                }
            }
        }
        Assert.Equal(s, Code(payload, codesAt, 3, bits));           // ±0 → level 0
        Assert.Equal(s, Code(payload, codesAt, 4, bits));
    }

    [Theory]
    [InlineData(16, 0.5f, 0.1f, 1)]      // octave tables, thresholds exactly on octave bounds, one word for both walks
    [InlineData(9, 0.75f, 0.1f, 1)]
    [InlineData(300, 0.9f, 0.01f, 2)]    // octave tables, 16-bit codes
    [InlineData(11, 0.05f, 0.2f, 2)]     // many thresholds per octave: the comparison loop
    [InlineData(2, 0.3f, 0f, 0)]         // 1-bit codes, no interior level: the walks draw nothing
    [InlineData(16, 1f, 0.1f, 0)]        // every level kept: the walks draw nothing
    [InlineData(40, 0.5f, 0.1f, 2)]      // thresholds below 2^16
    public void Rqm_codes_follow_the_geometric_walks_with_each_chunks_stream(int m, float q, float extension, int expectedWalkWords)
    {
        const float c = 1.25f;
        var rqm = new RandomizedQuantization(c, m, q, extension);
        var x = Codecs.Gaussian(D, 22);
        x[0] = float.NaN;
        x[1] = 9f;
        x[2] = -9f;
        x[3] = rqm.Level(m / 2);
        var ctx = Codecs.Context(5);
        var payload = Codecs.Encode(rqm, x, [], ctx);
        int bits = rqm.BitsPerEntry, codesAt = PayloadHeader.Length + 17;
        var thresholds = new List<ulong>();
        double p = 1;
        for (int g = 1; g < m; g++)
        {
            p *= 1.0 - q;
            double t = Math.Round(p * 4294967296.0);
            if (t < 1) break;
            thresholds.Add((ulong)Math.Min(t, uint.MaxValue));
        }
        // Both walks share one word (16 bits each) when every threshold is a multiple of 2^16; none without thresholds or interior levels.
        int walkWords = thresholds.Count == 0 || m == 2 ? 0 : thresholds.All(t => t % 65536 == 0) ? 1 : 2;
        Assert.Equal(expectedWalkWords, walkWords);
        float top = c + extension, inverse = (m - 1) / (2 * top);
        ulong seed = ctx.DeriveSeed("rqm");
        var low = new uint[512];
        var high = new uint[512];
        var uniform = new float[512];
        for (int chunk = 0; chunk * CodecChunks.Length < D; chunk++)
        {
            var walks = SimdRandom.FromSeed(CodecChunks.Seed(seed, chunk, 0));
            var rounding = SimdRandom.FromSeed(CodecChunks.Seed(seed, chunk, 1));
            int end = Math.Min(D, (chunk + 1) * CodecChunks.Length);
            for (int start = chunk * CodecChunks.Length; start < end; start += 512)
            {
                int n = Math.Min(512, end - start), n16 = (n + 15) & ~15;
                if (walkWords == 2)
                {
                    walks.Fill(low.AsSpan(0, n16));
                    walks.Fill(high.AsSpan(0, n16));
                }
                else if (walkWords == 1)
                {
                    walks.Fill(low.AsSpan(0, n16));
                    for (int j = 0; j < n16; j++)
                    {
                        high[j] = low[j] << 16;
                        low[j] &= 0xFFFF0000;
                    }
                }
                rounding.FillFloats(uniform.AsSpan(0, n16));
                for (int j = 0; j < n; j++)
                {
                    float v = x[start + j];
                    v = float.IsNaN(v) ? 0f : Math.Clamp(v, -c, c);
                    float pos = (v + top) * inverse;
                    int j0 = Math.Min(Math.Max((int)MathF.Floor(pos), 0), m - 2);
                    int gLow = thresholds.Count(t => t > low[j]), gHigh = thresholds.Count(t => t > high[j]);
                    int lo = Math.Max(j0 - gLow, 0), hi = Math.Min(j0 + 1 + gHigh, m - 1);
                    int expected = uniform[j] * (hi - lo) < pos - lo ? hi : lo;
                    Assert.Equal(expected, Code(payload, codesAt, start + j, bits));
                }
            }
        }
    }

    [Theory]
    [InlineData(0.5f)]
    [InlineData(0.75f)]
    [InlineData(0.3f)]
    public void Rqm_levels_survive_with_probability_q_and_the_walks_are_geometric(float q)
    {
        // An entry exactly on interior level 6 of 13 is reported as 6 only if that level survives:
        // frequency q. Otherwise it rounds between the nearest kept levels below and above; the
        // lower one is 6 − 1 − G with P(G ≥ g) = (1 − q)^g (capped at level 0), whatever the words used.
        var r = new RandomizedQuantization(clipBound: 1f, levels: 13, keepProbability: q, extension: 0f);
        const int n = 200_000;
        var x = Enumerable.Repeat(r.Level(6), n).ToArray();
        var y = Codecs.RoundTrip(r, x, Codecs.Context(9));
        double sd = Math.Sqrt(n * q * (1 - q));
        Assert.InRange(y.Count(v => v == r.Level(6)), n * q - 6 * sd, n * q + 6 * sd);
        // Among the dropped ones the decoded value is unbiased: the mean of all stays on level 6.
        double mean = y.Average(v => (double)v);
        Assert.InRange(mean, r.Level(6) - 6 * 1.0 / Math.Sqrt(n), r.Level(6) + 6 * 1.0 / Math.Sqrt(n));
        // Level 5 is reported when level 6 is dropped and 5 kept ((1 − q)·q), then rounding down from
        // 6 to 5 with probability (hi − 6)/(hi − 5), hi = 7 + G capped at 12, P(G ≥ g) = (1 − q)^g.
        double down = 0;
        for (int g = 0; g <= 5; g++)
        {
            double pg = g < 5 ? Math.Pow(1 - q, g) * q : Math.Pow(1 - q, 5);
            int hi = 7 + g;
            down += pg * (hi - 6.0) / (hi - 5.0);
        }
        double p5 = (1 - q) * q * down, sd5 = Math.Sqrt(n * p5 * (1 - p5));
        Assert.InRange(y.Count(v => v == r.Level(5)), n * p5 - 6 * sd5, n * p5 + 6 * sd5);
    }

    [Theory]
    [InlineData(10, 4)]
    [InlineData(3, 2)]
    [InlineData(200, 8)]
    [InlineData(300, 16)]
    public void Rqm_rejects_a_level_index_outside_the_grid_anywhere(int m, int bits)
    {
        var rqm = new RandomizedQuantization(1f, m, 0.5f, 0.1f);
        Assert.Equal(bits, rqm.BitsPerEntry);
        var x = Codecs.Gaussian(D, 25);
        var payload = Codecs.Encode(rqm, x, [], Codecs.Context());
        var output = new float[D];
        rqm.Decode(payload, output);                                   // valid as encoded
        const int entry = 66_001;                                      // in the second chunk
        int at = PayloadHeader.Length + 17 + entry * bits / 8, shift = entry * bits % 8;
        if (bits == 16) BitConverter.TryWriteBytes(payload.AsSpan(at), (ushort)m);
        else payload[at] = (byte)((payload[at] & ~(((1 << bits) - 1) << shift)) | (m << shift));
        Array.Clear(output);
        var e = Assert.Throws<PayloadFormatException>(() => rqm.Decode(payload, output));
        Assert.Contains($"code {entry}", e.Message);
        Assert.Contains($"level index {m} is outside [0, {m})", e.Message);
        Assert.All(output, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Sums_add_thirty_two_lanes_in_the_documented_order()
    {
        foreach (int n in new[] { 0, 5, 32, 100, 1027 })
        {
            var x = Codecs.Gaussian(n, (ulong)n + 1, std: 3f);
            var e = Codecs.Gaussian(n, (ulong)n + 2);
            if (n > 7) x[7] = -0f;
            Assert.Equal(Reference(x, v => v * v), DenseKernels.SumOfSquares(x));
            var sum = new float[n];
            for (int i = 0; i < n; i++) sum[i] = e[i] + x[i];
            var signs = new byte[(n + 7) / 8];
            Assert.Equal(Reference(x, Math.Abs), DenseKernels.SignsAndMagnitudes(x, default, signs));
            for (int i = 0; i < n; i++) Assert.Equal(BitConverter.SingleToUInt32Bits(x[i]) >> 31, (uint)(signs[i / 8] >> (i % 8)) & 1);
            Assert.Equal(Reference(sum, Math.Abs), DenseKernels.SignsAndMagnitudes(x, e, signs));
            for (int i = 0; i < n; i++) Assert.Equal(BitConverter.SingleToUInt32Bits(sum[i]) >> 31, (uint)(signs[i / 8] >> (i % 8)) & 1);
            if (n % 8 != 0) Assert.Equal(0, signs[^1] >> (n % 8));
        }

        // Lane j accumulates entries 32t + j; lanes combine as ((A_k + A_{8+k}) + (A_{16+k} + A_{24+k}))
        // + (the same from 4 + k), then (v0 + v2) + (v1 + v3); the tail is added in order.
        static double Reference(float[] x, Func<double, double> f)
        {
            var lanes = new double[32];
            int full = x.Length - x.Length % 32;
            for (int i = 0; i < full; i++) lanes[i % 32] += f(x[i]);
            var v = new double[4];
            for (int k = 0; k < 4; k++)
                v[k] = ((lanes[k] + lanes[8 + k]) + (lanes[16 + k] + lanes[24 + k])) + ((lanes[4 + k] + lanes[12 + k]) + (lanes[20 + k] + lanes[28 + k]));
            double s = (v[0] + v[2]) + (v[1] + v[3]);
            for (int i = full; i < x.Length; i++) s += f(x[i]);
            return s;
        }
    }

    /// <summary>
    /// Golden SHA-256 of payloads (and the error-feedback residual) for one input, recorded with
    /// AVX-512; the same bytes must come out with AVX-512 or AVX2 disabled
    /// (<c>DOTNET_EnableAVX512F=0</c>, <c>DOTNET_EnableAVX2=0</c>), since every path rounds alike.
    /// </summary>
    [Theory]
    [InlineData("qsgd-4bit", "7E4074EB1A1EF489E4843EF32EC529A75554EC9DBD6FFEE2A74D3A04180B7E37")]
    [InlineData("qsgd-whole", "48EDAC0D30F0E1B78BC7E2378518B5922FD03EE95712DB4FCAC58EBF49EBDEA4")]
    [InlineData("rqm", "94AC62085C73367E1850DCB8F82A81892FC327C5B02CC8AD89124606C9627882")]
    [InlineData("rqm-300", "40F48CF86EF598000C1D2202BC4E322E730F6CB3BC5852FACB4AC43C2540C358")]
    [InlineData("sign", "C243D35A6ABD350AC59C16D30A65A4FC53EC5C2C093AAB761102CA92FF992FD5")]
    [InlineData("ef-sign", "5075F6CDC67881249CFE4ADB20D2F8E8A0E0093127867F4849792D1211DD4141")]
    public void Payloads_are_the_same_on_every_instruction_set(string name, string expected)
    {
        ICompressor c = name switch
        {
            "qsgd-4bit" => new Qsgd(7, 512),
            "qsgd-whole" => new Qsgd(127, 0),
            "rqm" => new RandomizedQuantization(1f, 16, 0.5f, 0.1f),
            "rqm-300" => new RandomizedQuantization(1.5f, 300, 0.9f, 0.01f),
            "sign" => new ScaledSign(),
            _ => new ErrorFeedback(new ScaledSign()),
        };
        var x = Codecs.Gaussian(D, 26);
        var state = new float[c.StateLength(D)];
        for (int i = 0; i < state.Length; i++) state[i] = 0.01f * MathF.Sin(i);
        var payload = Codecs.Encode(c, x, state, Codecs.Context(3));
        var hash = System.Security.Cryptography.SHA256.HashData([.. payload, .. MemoryMarshal.AsBytes(state.AsSpan()).ToArray()]);
        string actual = Convert.ToHexString(hash);
        Assert.True(expected == actual, $"{name}: payload hash {actual}");
    }

    [Fact]
    public void Fused_error_feedback_around_sign_is_the_general_composition()
    {
        var ef = new ErrorFeedback(new ScaledSign());
        var x = Codecs.Gaussian(D, 23);
        var e = Codecs.Gaussian(D, 24, std: 0.3f);
        x[9] = -0f;
        e[9] = -0f;                                                   // p = −0: sign bit set, decodes as −scale
        x[10] = 1e-30f;
        e[10] = -1e-30f;                                              // p = +0
        var state = (float[])e.Clone();
        var payload = Codecs.Encode(ef, x, state, Codecs.Context());

        var p = new float[D];
        for (int i = 0; i < D; i++) p[i] = e[i] + x[i];
        var expected = Codecs.Encode(new ScaledSign(), p, [], Codecs.Context());
        new ScaledSign().DecodeAdd(expected, p, -1f);
        Assert.Equal(expected, payload);
        Assert.Equal(MemoryMarshal.AsBytes(p.AsSpan()).ToArray(), MemoryMarshal.AsBytes(state.AsSpan()).ToArray());
        Assert.Equal(1, (payload[PayloadHeader.Length + 4 + 1] >> 1) & 1);   // entry 9
        Assert.Equal(0, (payload[PayloadHeader.Length + 4 + 1] >> 2) & 1);   // entry 10
    }
}
