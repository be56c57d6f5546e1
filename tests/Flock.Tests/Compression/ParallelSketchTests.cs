using Flock.Compression;
using Flock.Tensors;

namespace Flock.Tests.Compression;

/// <summary>
/// The sketches and sparsifiers split large vectors across threads (<see cref="KernelParallelism"/>):
/// payloads, decoded vectors and state must be bit-identical on one thread and on two. Vectors are
/// above <see cref="KernelParallelism.MinParallelBytes"/>, with a length that is not a multiple of a
/// chunk, a block or a vector. Every test that changes <see cref="KernelParallelism.MaxThreads"/> in
/// the compression tests is here, in a collection that runs alone.
/// </summary>
[Collection(KernelThreadTests.Name)]
public sealed class ParallelSketchTests
{
    private const int D = 2_500_037;                                    // ≈ 10 MB of floats

    private static readonly float[] Input = Vector(D, 5);

    /// <summary>A Gaussian vector with magnitudes varying along it, ties and a NaN-free tail.</summary>
    private static float[] Vector(int d, ulong seed)
    {
        var x = new float[d];
        var rng = new Rng(seed);
        for (int i = 0; i < d; i++) x[i] = (float)rng.NextGaussian() * (1f + (i % 97) * 0.01f);
        x[100] = x[200] = x[300];                                       // ties
        x[7] = 0f;
        x[8] = -0f;
        return x;
    }

    /// <summary>Payload, decoded vector, accumulated vector and state of every round.</summary>
    private sealed record Run(List<byte[]> Payloads, List<float[]> Decoded, List<float[]> Added, List<float[]> States);

    private static Run Encode(Func<ICompressor> create, float[] x, int rounds, long firstRound = 0)
    {
        var c = create();
        var state = new float[c.StateLength(x.Length)];
        var run = new Run([], [], [], []);
        for (int r = 0; r < rounds; r++)
        {
            var payload = Codecs.Encode(c, x, state, Codecs.Context(firstRound + r));
            var decoded = new float[x.Length];
            decoded.AsSpan().Fill(float.NaN);                           // every entry must be written
            c.Decode(payload, decoded);
            var added = (float[])x.Clone();
            c.DecodeAdd(payload, added, 0.37f);
            run.Payloads.Add(payload);
            run.Decoded.Add(decoded);
            run.Added.Add(added);
            run.States.Add((float[])state.Clone());
        }
        return run;
    }

    /// <summary>Runs on one thread, then with two allowed; checks the second took the threaded path and that everything matches bit for bit.</summary>
    private static Run OneAndTwo(Func<ICompressor> create, float[] x, int rounds = 1, long firstRound = 0)
    {
        int saved = KernelParallelism.MaxThreads;
        try
        {
            KernelParallelism.MaxThreads = 1;
            int before = KernelParallelism.ThreadedCalls;
            var one = Encode(create, x, rounds, firstRound);
            Assert.Equal(before, KernelParallelism.ThreadedCalls);
            KernelParallelism.MaxThreads = 2;
            var two = Encode(create, x, rounds, firstRound);
            Assert.True(KernelParallelism.ThreadedCalls > before, "the two-thread run did not take the threaded path");
            for (int r = 0; r < rounds; r++)
            {
                Assert.Equal(one.Payloads[r], two.Payloads[r]);
                KernelThreadTests.AssertBitIdentical(one.Decoded[r], two.Decoded[r], $"round {r} decode");
                KernelThreadTests.AssertBitIdentical(one.Added[r], two.Added[r], $"round {r} decode-add");
                KernelThreadTests.AssertBitIdentical(one.States[r], two.States[r], $"round {r} state");
            }
            return two;
        }
        finally
        {
            KernelParallelism.MaxThreads = saved;
        }
    }

    /// <summary>The decode is D·(sketch estimate): decode-add with scale 0.37 adds 0.37 times it, entry by entry.</summary>
    private static void AssertAddMatchesDecode(Run run, float[] x)
    {
        var dec = run.Decoded[0];
        var add = run.Added[0];
        foreach (int i in new[] { 0, 1, 1023, 1024, 65535, 65536, 65537, D / 2, D - 2, D - 1 })
            Assert.Equal(x[i] + dec[i] * 0.37f, add[i]);
    }

    [Theory]
    [InlineData(0.1, CountSketch.DefaultBlockLength)]    // segments of ~102 buckets
    [InlineData(0.01, CountSketch.DefaultBlockLength)]   // segments of ~10 buckets
    [InlineData(0.5, 1 << 7)]                            // segments of 64 buckets, 512 blocks per chunk
    [InlineData(0.1, 1 << 17)]                           // blocks longer than a chunk (one per chunk)
    [InlineData(0.1, 0)]                                 // global buckets: one-thread encode, chunked decode
    public void Count_sketch_is_bit_identical_on_one_and_two_threads(double ratio, int blockLength)
    {
        var run = OneAndTwo(() => new CountSketch(ratio, blockLength: blockLength), Input);
        AssertAddMatchesDecode(run, Input);
        AssertInnerProductIsSketchNorm(run, Input, new CountSketch(ratio, blockLength: blockLength).Size(D));
        // The estimate of entry i is σᵢ·(its bucket's sum), from the public hash functions.
        var payload = run.Payloads[0];
        var c = new CountSketch(ratio, blockLength: blockLength);
        int s = c.Size(D), blocks = c.Blocks(D), header = PayloadHeader.Length + 12 + (blocks > 1 ? 4 : 0);
        ulong seed = BitConverter.ToUInt64(payload, PayloadHeader.Length);
        foreach (int i in new[] { 0, 65535, 65536, 1_234_567, D - 1 })
        {
            int block = blocks > 1 ? i / blockLength : 0;
            var (start, length) = blocks > 1 ? CountSketch.SegmentOf(s, blocks, block) : (0, s);
            float bucket = BitConverter.ToSingle(payload, header + 4 * (start + CountSketch.BucketOf(seed, i, length)));
            Assert.Equal(CountSketch.SignOf(seed, i) * bucket, run.Decoded[0][i]);
        }
    }

    [Theory]
    [InlineData(0.1, Srht.DefaultBlockLength)]           // sixteen blocks per chunk
    [InlineData(0.003, 1 << 8)]                          // blocks with no sampled row (cleared)
    [InlineData(0.1, 1 << 17)]                           // blocks longer than a chunk (one per chunk)
    public void Srht_is_bit_identical_on_one_and_two_threads(double ratio, int blockLength)
    {
        var run = OneAndTwo(() => new Srht(ratio, blockLength: blockLength), Input);
        AssertAddMatchesDecode(run, Input);
        // The decode is y = Rᵀ(Rx), so ⟨y, x⟩ = ‖Rx‖², the squared norm of the s sketch values.
        AssertInnerProductIsSketchNorm(run, Input, new Srht(ratio, blockLength: blockLength).Rows(D));
    }

    private static void AssertInnerProductIsSketchNorm(Run run, float[] x, int s)
    {
        var payload = run.Payloads[0];
        double norm = 0, inner = 0;
        for (int j = 0; j < s; j++) norm += Math.Pow(BitConverter.ToSingle(payload, payload.Length - 4 * s + 4 * j), 2);
        for (int i = 0; i < x.Length; i++) inner += (double)run.Decoded[0][i] * x[i];
        Assert.True(norm > 0);
        Assert.True(Math.Abs(inner - norm) <= 1e-4 * norm, $"⟨y, x⟩ = {inner} but ‖Rx‖² = {norm}");
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.001)]
    public void Top_k_is_bit_identical_on_one_and_two_threads_and_keeps_the_largest(double density)
    {
        var x = (float[])Input.Clone();
        x[3] = float.NaN;
        var run = OneAndTwo(() => new TopK(density), x);
        int k = new TopK(density).Count(D);
        var decoded = run.Decoded[0];
        var kept = Enumerable.Range(0, D).Where(i => decoded[i] != 0f).ToArray();
        Assert.Equal(k, kept.Length);
        Assert.All(kept, i => Assert.Equal(x[i], decoded[i]));
        float smallestKept = kept.Min(i => MathF.Abs(x[i]));
        for (int i = 0; i < D; i++)
            if (decoded[i] == 0f && MathF.Abs(x[i]) > smallestKept) Assert.Fail($"entry {i} (|x| = {MathF.Abs(x[i])}) beats the smallest kept magnitude {smallestKept}");
    }

    [Fact]
    public void Dgc_is_bit_identical_on_one_and_two_threads_over_rounds()
    {
        // No warm-up, 0.2%: the threshold search refines the count (and uses its pool) in some rounds.
        var run = OneAndTwo(() => new DeepGradientCompression(finalDensity: 0.002, warmupDensities: []), Input, rounds: 3);
        int k = (int)Math.Ceiling(0.002 * D);
        foreach (var decoded in run.Decoded)
            Assert.InRange(decoded.Count(v => v != 0f), (int)(0.8 * k), k);
        // With warm-up at 25%: bitmap payloads and a count far above the candidates' first guess.
        OneAndTwo(() => new DeepGradientCompression(finalDensity: 0.001, warmupDensities: [0.25]), Input, rounds: 2);
    }

    [Fact]
    public void Random_k_is_bit_identical_on_one_and_two_threads_with_a_threaded_bitmap_decode()
    {
        // 90% of 2.5M entries: a ~9.3 MB bitmap payload, decoded by chunks on two threads.
        var run = OneAndTwo(() => new RandomK(0.9), Input);
        Assert.Equal(SparseFormat.BitmapFormat, run.Payloads[0][PayloadHeader.Length]);
        Assert.True(run.Payloads[0].Length >= KernelParallelism.MinParallelBytes);
        AssertAddMatchesDecode(run, Input);
    }

    [Fact]
    public void Random_k_varint_payloads_decode_by_chunks_on_two_threads()
    {
        // 11% of 16.8M entries: delta varints (gaps ≈ 9, one byte each) in a payload above 8 MiB.
        const int d = (1 << 24) + 37;
        var x = Vector(d, 9);
        x[7] = x[8] = 1f;                                               // no zero entries: kept ⇔ decoded ≠ 0
        var run = OneAndTwo(() => new RandomK(0.11), x);
        Assert.Equal(SparseFormat.VarintFormat, run.Payloads[0][PayloadHeader.Length]);
        Assert.True(run.Payloads[0].Length >= KernelParallelism.MinParallelBytes);
        float scale = (float)((double)d / new RandomK(0.11).Count(d));
        int sent = 0;
        for (int i = 0; i < d; i++)
        {
            float v = run.Decoded[0][i];
            if (v == 0f) continue;
            Assert.Equal(x[i] * scale, v);
            sent++;
        }
        Assert.Equal(new RandomK(0.11).Count(d), sent);
    }
}
