using Flock.Compression;
using Flock.Tensors;

namespace Flock.Tests.Compression;

/// <summary>
/// The kernels behind top-k, random-k and DGC: the radix select of the k-th largest against a sort,
/// the compress-based threshold collection against the plain scan at every capacity edge, and the
/// word-at-a-time varint reader and writer of the sparse body against byte-by-byte LEB128.
/// </summary>
public sealed class CandidateSelectionTests
{
    [Theory]
    [InlineData(0)]   // Gaussian magnitudes (many values in few exponent buckets)
    [InlineData(1)]   // signed values, including negatives, ±0 and infinities
    [InlineData(2)]   // few distinct values: long runs of ties
    public void Radix_select_matches_a_sort(int kind)
    {
        var rng = new Rng(21 + (ulong)kind);
        foreach (int n in new[] { 512, 513, 1000, 4099, 70_001 })
        {
            var v = new float[n];
            for (int i = 0; i < n; i++)
                v[i] = kind switch
                {
                    0 => MathF.Abs((float)rng.NextGaussian()),
                    1 => (float)(rng.NextGaussian() * Math.Pow(10, rng.NextInt(9) - 4)),
                    _ => rng.NextInt(7) - 3,
                };
            if (kind == 1)
            {
                v[0] = -0f;
                v[1] = 0f;
                v[2] = float.PositiveInfinity;
                v[3] = float.NegativeInfinity;
                v[4] = -float.Epsilon;
                v[5] = float.Epsilon;
            }
            var sorted = v.OrderByDescending(a => a).ToArray();
            foreach (int k in new[] { 1, 2, n / 3, n / 2, n - 1, n })
            {
                var copy = (float[])v.Clone();
                float kth = Selection.KthLargest(copy, k);
                Assert.Equal(sorted[k - 1], kth);                       // −0 equals +0
                Assert.Equal(v.Order(), copy.Order());                  // reordered, same values
            }
        }
    }

    [Fact]
    public void Collection_matches_the_plain_scan_at_every_capacity()
    {
        var rng = new Rng(4);
        foreach (int n in new[] { 0, 7, 16, 17, 100, 1000, 4111 })
        {
            var x = new float[n];
            rng.FillGaussian(x);
            if (n > 10)
            {
                x[3] = float.NaN;
                x[4] = float.PositiveInfinity;
                x[5] = -1.5f;
                x[6] = 1.5f;
            }
            foreach (float t in new[] { 0f, 0.5f, 1.5f, 3f, float.PositiveInfinity })
            {
                var expected = Enumerable.Range(0, n).Where(i => MathF.Abs(x[i]) >= t).ToArray();
                foreach (int cap in new[] { 0, 1, 15, 16, 17, expected.Length - 1, expected.Length, expected.Length + 20 })
                {
                    if (cap < 0) continue;
                    var indices = new int[cap];
                    var values = new float[cap];
                    int total = Candidates.AtLeast(x, t, indices, values);
                    Assert.Equal(expected.Length, total);
                    int written = Math.Min(cap, total);
                    Assert.Equal(expected[..written], indices[..written]);
                    Assert.Equal(expected[..written].Select(i => x[i]), values[..written]);
                    // Offsets and the reference scan (indices only).
                    var reference = new int[cap];
                    Assert.Equal(total, Kernels.CollectAtLeast(x, t, reference));
                    var shifted = new int[cap];
                    Assert.Equal(total, Candidates.Collect(x, 1000, t, shifted, default));
                    Assert.Equal(reference[..written].Select(i => i + 1000), shifted[..written]);
                }
            }
        }
    }

    /// <summary>Unsigned LEB128, byte by byte (the reference).</summary>
    private static void Leb128(List<byte> bytes, uint v)
    {
        while (v >= 0x80)
        {
            bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }
        bytes.Add((byte)v);
    }

    private static byte[] SparseVarints(int d, int count, byte[] indexBytes)
    {
        var p = new byte[PayloadHeader.Length + 5 + 4 * count + indexBytes.Length];
        Payload.WriteHeader(p, CodecId.TopK, d);
        p[PayloadHeader.Length] = SparseFormat.VarintFormat;
        BitConverter.TryWriteBytes(p.AsSpan(PayloadHeader.Length + 1), count);
        for (int j = 0; j < count; j++) BitConverter.TryWriteBytes(p.AsSpan(PayloadHeader.Length + 5 + 4 * j), j + 1f);
        indexBytes.CopyTo(p, PayloadHeader.Length + 5 + 4 * count);
        return p;
    }

    [Fact]
    public void Varints_of_every_length_round_trip_through_the_word_at_a_time_paths()
    {
        // Gaps of one to four bytes at each byte boundary, then short gaps: most varints are read and
        // written eight bytes at a time, the last ones byte by byte.
        uint[] gaps = [0, 5, 127, 128, 300, 16383, 16384, 2097151, 2097152, .. Enumerable.Range(0, 300).Select(i => (uint)(i * 37 % 200 + (i % 50 == 7 ? 20000 : 0)))];
        const int d = 5_000_000;
        var indices = new int[gaps.Length];
        var reference = new List<byte>();
        long idx = -1;
        for (int j = 0; j < gaps.Length; j++)
        {
            idx += gaps[j] + 1L;
            indices[j] = (int)idx;
            Leb128(reference, gaps[j]);
        }
        var values = indices.Select((_, j) => j + 1f).ToArray();
        var written = new byte[SparseFormat.MaxLength(d, gaps.Length)];
        int n = SparseFormat.WriteValues(written, CodecId.TopK, d, indices, values);
        var expected = SparseVarints(d, gaps.Length, reference.ToArray());
        Assert.Equal(expected, written[..n]);
        var y = new float[d];
        SparseFormat.Decode(expected, CodecId.TopK, y, 1f, accumulate: false);
        for (int j = 0; j < indices.Length; j++) Assert.Equal(j + 1f, y[indices[j]]);
        Assert.Equal(indices.Length, y.Count(v => v != 0f));
    }

    [Theory]
    [InlineData(new byte[] { 1, 1, 0x80, 0x00, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, "index 2", "overlong")]
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 1, 1, 1, 1, 1, 1, 1, 1 }, "index 1", "exceeds 32 bits")]
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 1, 1, 1, 1, 1, 1, 1, 1 }, "index 1", "exceeds 32 bits")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 1, 1, 1, 1, 1, 1, 1 }, "index 0", "index 4294967295 is out of range [0, 1000)")]
    [InlineData(new byte[] { 0xE8, 0x07, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, "index 0", "index 1000 is out of range [0, 1000)")]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x80, 0x00 }, "index 63", "overlong")]
    public void Bad_varints_in_the_word_at_a_time_range_are_reported_like_the_others(byte[] indexBytes, string field, string message)
    {
        // Followed by a hundred more varints, so the bad one sits in a full window of the fast path.
        var y = new float[1000];
        byte[] padded = [.. indexBytes, .. Enumerable.Repeat((byte)1, 100)];
        var ex = Assert.Throws<PayloadFormatException>(() => SparseFormat.Decode(SparseVarints(1000, 112, padded), CodecId.TopK, y, 1f, accumulate: false));
        Assert.Equal(field, ex.Field);
        Assert.Contains(message, ex.Message);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(0, 1000)]      // Gaussian: one entry at the k-th magnitude (vector selection)
    [InlineData(1, 1000)]      // integers in [−100, 100): many ties at the k-th magnitude, some of them kept
    [InlineData(1, 9000)]
    public void Top_k_through_the_sampled_threshold_matches_a_sort(int kind, int k)
    {
        const int d = 50_000;                                          // above the exact-path size
        var rng = new Rng(17 + (ulong)kind);
        var x = new float[d];
        for (int i = 0; i < d; i++) x[i] = kind == 0 ? (float)rng.NextGaussian() : rng.NextInt(200) - 100;
        x[5] = float.NaN;
        var expected = Enumerable.Range(0, d).Where(i => !float.IsNaN(x[i]))
            .OrderByDescending(i => MathF.Abs(x[i])).ThenBy(i => i).Take(k).Order().ToArray();
        var result = new int[k + 64];
        var values = new float[k + 64];
        Assert.Equal(k, Selection.TopK(x, k, new Rng(3), result, values));
        Assert.Equal(expected, result[..k]);
        Assert.Equal(expected.Select(i => x[i]), values[..k]);
        // Exactly-sized buffers take the scalar selection: the same result.
        var exact = new int[k];
        Assert.Equal(k, Selection.TopK(x, k, new Rng(4), exact));
        Assert.Equal(expected, exact);
    }

    [Theory]
    [InlineData(1000, 10)]
    [InlineData(4099, 500)]        // just below one bit in eight
    [InlineData(4099, 520)]        // just above
    [InlineData(70_001, 700)]
    [InlineData(70_001, 21_000)]
    [InlineData(70_001, 42_000)]   // the complement is drawn
    [InlineData(70_001, 69_990)]
    public void Distinct_sampling_lists_the_drawn_subset(int n, int k)
    {
        // The reference draws the same stream: a first batch, then one at a time until enough are distinct.
        bool complement = k > n / 2;
        int draws = complement ? n - k : k;
        var marked = new bool[n];
        var rng = new Rng((ulong)(n + k));
        for (int j = 0; j < draws; j++) marked[(int)Math.BigMul(rng.NextUInt64(), (ulong)n, out _)] = true;
        int got = marked.Count(b => b);
        while (got < draws)
        {
            int i = (int)Math.BigMul(rng.NextUInt64(), (ulong)n, out _);
            if (!marked[i]) { marked[i] = true; got++; }
        }
        var expected = Enumerable.Range(0, n).Where(i => marked[i] != complement).ToArray();
        var result = new int[k];
        Sampling.DistinctSorted(new Rng((ulong)(n + k)), n, k, result);
        Assert.Equal(expected, result);
    }
}
