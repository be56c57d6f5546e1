using System.Numerics;
using Flock.Compression;

namespace Flock.Tests.Compression;

/// <summary>The block-diagonal SRHT: several independent Hadamard blocks of b coordinates.</summary>
public sealed class BlockSrhtTests
{
    [Fact]
    public void Lengths_and_codec_of_a_blocked_vector()
    {
        var c = Srht.WithRows(10, blockLength: 16);
        Assert.Equal(16, c.BlockLengthFor(40));
        Assert.Equal(48, c.TransformLength(40));            // 3 blocks of 16
        Assert.Equal(8, c.BlockLengthFor(5));               // one (shorter) block: the classic transform
        Assert.Equal(64, Srht.WithRows(10, blockLength: 0).TransformLength(40));
        var payload = Codecs.Encode(c, Codecs.Gaussian(40, 1), [], Codecs.Context());
        Assert.Equal((byte)CodecId.SrhtBlocked, payload[0]);
        Assert.Equal(c.MaxEncodedLength(40), payload.Length);
        Assert.Equal(6 + 16 + 4 * 10, payload.Length);
        Assert.Equal((byte)CodecId.Srht, Codecs.Encode(c, Codecs.Gaussian(16, 1), [], Codecs.Context())[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Srht(0.1, blockLength: 12));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Srht(0.1, blockLength: 1));
    }

    [Fact]
    public void Blocked_sketch_matches_its_definition()
    {
        // y_j = √(d′/(s·b)) · H_b(D·x restricted to the block of row_j)[row_j mod b], H_b unnormalized.
        const int d = 40, b = 16, s = 7;
        var c = Srht.WithRows(s, blockLength: b);
        var x = Codecs.Gaussian(d, 3);
        var ctx = Codecs.Context(7);
        ulong seed = c.SeedFor(ctx);
        var payload = Codecs.Encode(c, x, [], ctx);
        Assert.Equal(4, BitConverter.ToInt32(payload, 14));   // log₂ b
        Assert.Equal(s, BitConverter.ToInt32(payload, 18));
        var rows = new int[s];
        Srht.RowsOf(seed, 48, rows);
        double norm = Math.Sqrt(48.0 / (s * b));
        for (int j = 0; j < s; j++)
        {
            int block = rows[j] / b * b, r = rows[j] % b;
            double v = 0;
            for (int i = block; i < Math.Min(block + b, d); i++)
                v += ((BitOperations.PopCount((uint)((i - block) & r)) & 1) == 0 ? 1 : -1) * Srht.SignOf(seed, i) * x[i];
            Assert.Equal(v * norm, BitConverter.ToSingle(payload, 22 + 4 * j), 1e-5);
        }
    }

    [Fact]
    public void Blocked_with_all_rows_is_exact_and_dispatches_generically()
    {
        const int d = 100;
        var c = Srht.WithRows(1000, blockLength: 32);
        Assert.Equal(128, c.Rows(d));
        var x = Codecs.Gaussian(d, 12);
        var payload = Codecs.Encode(c, x, [], Codecs.Context());
        var y = Codecs.Decode(c, payload, d);
        for (int i = 0; i < d; i++) Assert.Equal(x[i], y[i], 1e-4);
        var z = new float[d];
        Payload.Decode(payload, z);
        Assert.Equal(y, z);
        var acc = Codecs.Gaussian(d, 13);
        var expected = acc.Select((a, i) => a + 0.5f * y[i]).ToArray();
        Payload.DecodeAdd(payload, acc, 0.5f);
        for (int i = 0; i < d; i++) Assert.Equal(expected[i], acc[i], 1e-5);
    }

    [Fact]
    public void Blocked_desketch_is_unbiased_over_fresh_seeds()
    {
        // As for the full transform: per draw each entry's error has variance ≤ ‖x‖²·d′/s; 6 sd of the mean.
        const int d = 24, draws = 3000, s = 8;
        var c = Srht.WithRows(s, blockLength: 8);
        var x = Codecs.Gaussian(d, 6);
        double norm = Math.Sqrt(x.Sum(v => (double)v * v));
        var mean = new double[d];
        for (int r = 0; r < draws; r++)
        {
            var y = Codecs.RoundTrip(c, x, Codecs.Context(r));
            for (int i = 0; i < d; i++) mean[i] += y[i] / (double)draws;
        }
        double tol = 6 * norm * Math.Sqrt(24.0 / s) / Math.Sqrt(draws);
        for (int i = 0; i < d; i++) Assert.InRange(mean[i], x[i] - tol, x[i] + tol);
    }

    [Fact]
    public void Blocked_payload_with_a_bad_block_length_is_rejected()
    {
        const int d = 40;
        var c = Srht.WithRows(5, blockLength: 16);
        var payload = Codecs.Encode(c, Codecs.Gaussian(d, 2), [], Codecs.Context());
        foreach (int bad in new[] { 0, 6, 30 })
        {
            var p = payload.ToArray();
            BitConverter.TryWriteBytes(p.AsSpan(14), bad);
            var ex = Assert.Throws<PayloadFormatException>(() => Payload.Decode(p, new float[d]));
            Assert.Contains("block length", ex.Message);
        }
    }
}
