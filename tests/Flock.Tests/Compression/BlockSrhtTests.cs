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

    [Theory]
    [InlineData(256, 3 * 256 + 40, 81)]       // full blocks of 16² entries: fused first and last passes
    [InlineData(512, 2 * 512 + 7, 60)]        // fused first pass only
    [InlineData(4096, 2 * 4096 + 100, 420)]   // the default block length
    public void Long_blocks_encode_and_decode_by_their_definition(int b, int d, int s)
    {
        var c = Srht.WithRows(s, blockLength: b);
        var x = Codecs.Gaussian(d, 21);
        var ctx = Codecs.Context(4);
        ulong seed = c.SeedFor(ctx);
        var payload = Codecs.Encode(c, x, [], ctx);
        int blocks = (d + b - 1) / b, o = 0;
        var y = Codecs.Decode(c, payload, d);
        var acc = Codecs.Gaussian(d, 22);
        var before = acc.ToArray();
        c.DecodeAdd(payload, acc, -0.75f);
        for (int blk = 0; blk < blocks; blk++)
        {
            var rows = new int[Srht.RowsInBlock(s, blocks, blk)];
            Srht.BlockRowsOf(seed, blk, b, rows);
            var value = new double[rows.Length];
            for (int t = 0; t < rows.Length; t++)
            {
                double v = 0;
                for (int i = blk * b; i < Math.Min(blk * b + b, d); i++)
                    v += ((BitOperations.PopCount((uint)((i - blk * b) & rows[t])) & 1) == 0 ? 1 : -1) * Srht.SignOf(seed, i) * x[i];
                double w = Math.Sqrt((double)Srht.StratumLength(b, rows.Length, t) / b);
                float sent = BitConverter.ToSingle(payload, 22 + 4 * (o + t));
                Assert.Equal(v * w, sent, 1e-4);
                value[t] = sent * w;
            }
            o += rows.Length;
            for (int i = blk * b; i < Math.Min(blk * b + b, d); i++)
            {
                double e = 0;
                for (int t = 0; t < rows.Length; t++)
                    e += ((BitOperations.PopCount((uint)((i - blk * b) & rows[t])) & 1) == 0 ? 1 : -1) * value[t];
                e *= Srht.SignOf(seed, i);
                Assert.Equal(e, y[i], 1e-4);
                Assert.Equal(before[i] - 0.75f * y[i], acc[i], 1e-5);
            }
        }
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
        // s = 7 over 3 blocks: 2, 2, 3 rows (stratified), each block scaled by 1/√kᵢ.
        Assert.Equal(new[] { 2, 2, 3 }, Enumerable.Range(0, 3).Select(i => Srht.RowsInBlock(s, 3, i)));
        int o = 0;
        for (int blk = 0; blk < 3; blk++)
        {
            var rows = new int[Srht.RowsInBlock(s, 3, blk)];
            Srht.BlockRowsOf(seed, blk, b, rows);
            Assert.Equal(rows.Order(), rows);
            Assert.Equal(rows.Length, rows.Distinct().Count());
            Assert.All(rows, r => Assert.InRange(r, 0, b - 1));
            for (int t = 0; t < rows.Length; t++)
            {
                int r = rows[t], n = Srht.StratumLength(b, rows.Length, t);
                // Stratum t covers [Σ_{u<t} n_u, … + n); the row lies in it.
                int lo = Enumerable.Range(0, t).Sum(u => Srht.StratumLength(b, rows.Length, u));
                Assert.InRange(r, lo, lo + n - 1);
                double v = 0;
                for (int i = blk * b; i < Math.Min(blk * b + b, d); i++)
                    v += ((BitOperations.PopCount((uint)((i - blk * b) & r)) & 1) == 0 ? 1 : -1) * Srht.SignOf(seed, i) * x[i];
                Assert.Equal(v * Math.Sqrt((double)n / b), BitConverter.ToSingle(payload, 22 + 4 * o++), 1e-5);
            }
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
    public void Block_rows_are_uniform_within_their_strata()
    {
        // 3 rows of 8: strata [0,3), [3,6), [6,8). Each row is drawn with probability 1/n of its
        // stratum (n = 3, 3, 2), so Σ n·1{row drawn} has expectation 1 for every row (E[PᵀS²P] = I).
        // Binomial(20000, 1/3) sd ≈ 67, tolerance 6 sd.
        const int draws = 20000;
        var counts = new int[8];
        var rows = new int[3];
        Assert.Equal(new[] { 3, 3, 2 }, Enumerable.Range(0, 3).Select(t => Srht.StratumLength(8, 3, t)));
        for (int t = 0; t < draws; t++)
        {
            Srht.BlockRowsOf((ulong)t, t % 5, 8, rows);
            Assert.InRange(rows[0], 0, 2);
            Assert.InRange(rows[1], 3, 5);
            Assert.InRange(rows[2], 6, 7);
            foreach (int r in rows) counts[r]++;
        }
        for (int r = 0; r < 8; r++)
        {
            double p = r < 6 ? 1.0 / 3 : 0.5;
            Assert.InRange(counts[r], draws * p - 6 * Math.Sqrt(draws * p * (1 - p)), draws * p + 6 * Math.Sqrt(draws * p * (1 - p)));
        }
        var all = new int[8];
        Srht.BlockRowsOf(1, 0, 8, all);
        Assert.Equal(Enumerable.Range(0, 8), all);
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
