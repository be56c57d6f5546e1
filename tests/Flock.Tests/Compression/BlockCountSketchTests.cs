using Flock.Compression;

namespace Flock.Tests.Compression;

/// <summary>The count sketch hashed block by block (each block of entries into its own bucket segment).</summary>
public sealed class BlockCountSketchTests
{
    [Fact]
    public void Blocks_segments_and_codec()
    {
        var c = CountSketch.WithSize(10, blockLength: 8);
        Assert.Equal(3, c.Blocks(20));                       // ⌈20/8⌉
        Assert.Equal(1, c.Blocks(8));                        // fits one block: global buckets
        Assert.Equal(1, CountSketch.WithSize(2, blockLength: 8).Blocks(20));   // fewer buckets than blocks
        Assert.Equal(1, CountSketch.WithSize(10, blockLength: 0).Blocks(20));
        Assert.Equal((0, 3), CountSketch.SegmentOf(10, 3, 0));
        Assert.Equal((3, 3), CountSketch.SegmentOf(10, 3, 1));
        Assert.Equal((6, 4), CountSketch.SegmentOf(10, 3, 2));
        var payload = Codecs.Encode(c, Codecs.Gaussian(20, 1), [], Codecs.Context());
        Assert.Equal((byte)CodecId.CountSketchBlocked, payload[0]);
        Assert.Equal(c.MaxEncodedLength(20), payload.Length);
        Assert.Equal(6 + 16 + 4 * 10, payload.Length);
        Assert.Equal((byte)CodecId.CountSketch, Codecs.Encode(c, Codecs.Gaussian(8, 1), [], Codecs.Context())[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CountSketch(0.1, blockLength: 6));
    }

    [Theory]
    [InlineData(0.1, 3001)]     // segments of ~102 buckets: in-register decode, four-copy encode
    [InlineData(0.01, 5000)]    // segments of ~10 buckets
    [InlineData(0.5, 2100)]     // segments of ~512 buckets: the general paths
    public void Default_blocks_match_the_definition(double ratio, int d)
    {
        var c = new CountSketch(ratio);
        int s = c.Size(d), nb = c.Blocks(d), b = CountSketch.DefaultBlockLength;
        Assert.Equal((d + b - 1) / b, nb);
        var x = Codecs.Gaussian(d, 11);
        var ctx = Codecs.Context(9);
        ulong seed = c.SeedFor(ctx);
        var payload = Codecs.Encode(c, x, [], ctx);
        var expected = new double[s];
        for (int i = 0; i < d; i++)
        {
            var (start, length) = CountSketch.SegmentOf(s, nb, i / b);
            expected[start + CountSketch.BucketOf(seed, i, length)] += CountSketch.SignOf(seed, i) * x[i];
        }
        for (int k = 0; k < s; k++) Assert.Equal(expected[k], BitConverter.ToSingle(payload, 22 + 4 * k), 1e-4);
        var y = Codecs.Decode(c, payload, d);
        var acc = Codecs.Gaussian(d, 12);
        var before = acc.ToArray();
        c.DecodeAdd(payload, acc, 0.5f);
        for (int i = 0; i < d; i++)
        {
            var (start, length) = CountSketch.SegmentOf(s, nb, i / b);
            float bucket = BitConverter.ToSingle(payload, 22 + 4 * (start + CountSketch.BucketOf(seed, i, length)));
            Assert.Equal(CountSketch.SignOf(seed, i) * bucket, y[i]);
            Assert.Equal(before[i] + 0.5f * y[i], acc[i], 1e-5);
        }
    }

    [Fact]
    public void Blocked_sketch_matches_its_definition()
    {
        // Entry i of block k goes to segment k at offset BucketOf(seed, i, segment length), with sign σ(i).
        const int d = 20;
        var c = CountSketch.WithSize(10, blockLength: 8);
        var x = Codecs.Gaussian(d, 3);
        var ctx = Codecs.Context(5);
        ulong seed = c.SeedFor(ctx);
        var payload = Codecs.Encode(c, x, [], ctx);
        Assert.Equal(3, BitConverter.ToInt32(payload, 14));  // log₂ 8
        Assert.Equal(10, BitConverter.ToInt32(payload, 18));
        var expected = new double[10];
        for (int i = 0; i < d; i++)
        {
            var (start, length) = CountSketch.SegmentOf(10, 3, i / 8);
            expected[start + CountSketch.BucketOf(seed, i, length)] += CountSketch.SignOf(seed, i) * x[i];
        }
        for (int b = 0; b < 10; b++) Assert.Equal(expected[b], BitConverter.ToSingle(payload, 22 + 4 * b), 1e-5);
        // De-sketch: σ(i)·bucket, and the generic dispatch agrees.
        var y = Codecs.Decode(c, payload, d);
        var z = new float[d];
        Payload.Decode(payload, z);
        Assert.Equal(y, z);
        for (int i = 0; i < d; i++)
        {
            var (start, length) = CountSketch.SegmentOf(10, 3, i / 8);
            Assert.Equal(CountSketch.SignOf(seed, i) * expected[start + CountSketch.BucketOf(seed, i, length)], y[i], 1e-5);
        }
        var acc = Codecs.Gaussian(d, 4);
        var before = acc.ToArray();
        c.DecodeAdd(payload, acc, -2f);
        for (int i = 0; i < d; i++) Assert.Equal(before[i] - 2f * y[i], acc[i], 1e-5);
    }

    [Fact]
    public void Blocked_desketch_is_unbiased_over_fresh_seeds()
    {
        // Per draw each entry's error has variance ≤ ‖x‖² (it collides with its block's entries only); 6 sd of the mean.
        const int d = 24, draws = 3000;
        var c = CountSketch.WithSize(9, blockLength: 8);
        Assert.Equal(3, c.Blocks(d));
        var x = Codecs.Gaussian(d, 6);
        double norm = Math.Sqrt(x.Sum(v => (double)v * v));
        var mean = new double[d];
        for (int r = 0; r < draws; r++)
        {
            var y = Codecs.RoundTrip(c, x, Codecs.Context(r));
            for (int i = 0; i < d; i++) mean[i] += y[i] / (double)draws;
        }
        double tol = 6 * norm / Math.Sqrt(draws);
        for (int i = 0; i < d; i++) Assert.InRange(mean[i], x[i] - tol, x[i] + tol);
    }

    [Fact]
    public void Blocked_payload_with_a_bad_block_length_or_size_is_rejected()
    {
        const int d = 20;
        var c = CountSketch.WithSize(10, blockLength: 8);
        var payload = Codecs.Encode(c, Codecs.Gaussian(d, 2), [], Codecs.Context());
        foreach (int bad in new[] { 0, 5, 31 })
        {
            var p = payload.ToArray();
            BitConverter.TryWriteBytes(p.AsSpan(14), bad);
            var ex = Assert.Throws<PayloadFormatException>(() => Payload.Decode(p, new float[d]));
            Assert.Contains("block length", ex.Message);
        }
        var r = Codecs.Encode(CountSketch.WithSize(3, blockLength: 8), Codecs.Gaussian(d, 2), [], Codecs.Context());
        var rp = r.ToArray();
        BitConverter.TryWriteBytes(rp.AsSpan(14), 1);          // 10 blocks but only 3 buckets
        var ex2 = Assert.Throws<PayloadFormatException>(() => Payload.Decode(rp, new float[d]));
        Assert.Contains("fewer than the 10 blocks", ex2.Message);
    }
}
