using System.Runtime.InteropServices;
using Flock.Compression;
using Flock.Tensors;

namespace Flock.Tests.Compression;

/// <summary>
/// The dense codecs on several threads (<see cref="KernelParallelism"/>): large vectors give the same
/// payload bytes, decoded vectors and error-feedback state on 1 and 2 threads, and the 2-thread run
/// takes the threaded path. Every test that changes <see cref="KernelParallelism.MaxThreads"/> is in
/// this class (xunit runs a class's tests one after another), and restores it.
/// </summary>
[Collection(KernelThreadTests.Name)]
public sealed class ParallelCompressionTests
{
    /// <summary>Above 8 MiB of floats, not a multiple of 8, of a chunk (64 Ki) or of any bucket.</summary>
    private const int Large = 2_500_003;

    public static TheoryData<string> Dense() =>
    [
        "identity", "qsgd-4bit", "qsgd-8bit-whole", "qsgd-2bit", "qsgd-long-buckets",
        "rqm", "rqm-1bit", "rqm-16bit", "sign", "ef-sign", "ef-qsgd",
    ];

    private static ICompressor Create(string name) => name switch
    {
        "identity" => new Identity(),
        "qsgd-4bit" => new Qsgd(levels: 7, bucketSize: 512),
        "qsgd-8bit-whole" => new Qsgd(levels: 127, bucketSize: 0),
        "qsgd-2bit" => new Qsgd(levels: 1, bucketSize: 24),
        "qsgd-long-buckets" => new Qsgd(levels: 5, bucketSize: 200_000),        // buckets cut into pieces, a short last bucket
        "rqm" => new RandomizedQuantization(clipBound: 1f, levels: 16, keepProbability: 0.5f, extension: 0.1f),
        "rqm-1bit" => new RandomizedQuantization(clipBound: 1f, levels: 2, keepProbability: 0.3f, extension: 0f),
        "rqm-16bit" => new RandomizedQuantization(clipBound: 1.5f, levels: 300, keepProbability: 0.9f, extension: 0.01f),
        "sign" => new ScaledSign(),
        "ef-sign" => new ErrorFeedback(new ScaledSign()),
        "ef-qsgd" => new ErrorFeedback(new Qsgd(levels: 3, bucketSize: 128)),
        _ => throw new ArgumentException(name),
    };

    private sealed record Run(byte[] Payload, float[] State, float[] Decoded, float[] Accumulated, int ThreadedCalls);

    /// <summary>Two encodes (so error feedback starts from a residual), a decode and a decode-add, on <paramref name="threads"/> threads.</summary>
    private static Run Execute(ICompressor c, float[] x, int threads)
    {
        int saved = KernelParallelism.MaxThreads;
        KernelParallelism.MaxThreads = threads;
        try
        {
            int before = KernelParallelism.ThreadedCalls;
            var state = new float[c.StateLength(x.Length)];
            Codecs.Encode(c, x, state, Codecs.Context(1));
            var payload = Codecs.Encode(c, x, state, Codecs.Context(2));
            var decoded = new float[x.Length];
            c.Decode(payload, decoded);
            var accumulated = (float[])x.Clone();
            c.DecodeAdd(payload, accumulated, -0.75f);
            return new Run(payload, state, decoded, accumulated, KernelParallelism.ThreadedCalls - before);
        }
        finally
        {
            KernelParallelism.MaxThreads = saved;
        }
    }

    private static void AssertSameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int at = MemoryMarshal.AsBytes(expected).CommonPrefixLength(MemoryMarshal.AsBytes(actual));
        Assert.True(at == 4 * expected.Length, $"{what} differs at entry {at / 4}: {(at < 4 * expected.Length ? $"{expected[at / 4]} vs {actual[at / 4]}" : "")}");
    }

    [Theory]
    [MemberData(nameof(Dense))]
    public void Large_vectors_give_the_same_bytes_on_one_and_two_threads(string name)
    {
        var c = Create(name);
        var x = Codecs.Gaussian(Large, 5);
        x[17] = -0f;
        x[Large - 1] = 3f;
        var one = Execute(c, x, threads: 1);
        var two = Execute(c, x, threads: 2);
        Assert.Equal(0, one.ThreadedCalls);
        Assert.True(two.ThreadedCalls > 0, $"{name}: the 2-thread run never took the threaded path.");
        Assert.Equal(one.Payload.Length, two.Payload.Length);
        int at = one.Payload.AsSpan().CommonPrefixLength(two.Payload);
        Assert.True(at == one.Payload.Length, $"{name}: payloads differ at byte {at} of {one.Payload.Length}.");
        AssertSameBits(one.State, two.State, $"{name} state");
        AssertSameBits(one.Decoded, two.Decoded, $"{name} decode");
        AssertSameBits(one.Accumulated, two.Accumulated, $"{name} decode-add");
        // Sanity: the decoded vector carries the input (a cosine far above the ~1/√d of an unrelated
        // vector; QSGD with long buckets and few levels is noisy, so no more is asked).
        AssertSameBits(one.Decoded, Codecs.Decode(c, one.Payload, Large), $"{name} decode on this thread");
        double dot = 0, nx = 0, ny = 0;
        for (int i = 0; i < Large; i++)
        {
            dot += (double)x[i] * one.Decoded[i];
            nx += (double)x[i] * x[i];
            ny += (double)one.Decoded[i] * one.Decoded[i];
        }
        Assert.True(dot / Math.Sqrt(nx * ny) > 0.05, $"{name}: decoded vector has cosine {dot / Math.Sqrt(nx * ny)} with the input.");
    }

    [Theory]
    [MemberData(nameof(Dense))]
    public void Small_vectors_stay_on_the_calling_thread(string name)
    {
        var c = Create(name);
        var x = Codecs.Gaussian(300_000, 6);                       // 1.2 MB, several chunks
        var run = Execute(c, x, threads: 2);
        Assert.Equal(0, run.ThreadedCalls);
    }

    [Fact]
    public void Threaded_errors_are_the_single_thread_errors()
    {
        var x = Codecs.Gaussian(Large, 7);
        x[1_234_567] = float.NaN;
        foreach (int threads in new[] { 1, 2 })
        {
            int saved = KernelParallelism.MaxThreads;
            KernelParallelism.MaxThreads = threads;
            try
            {
                var q = new Qsgd(levels: 7, bucketSize: 512);
                var e = Assert.Throws<ArgumentException>(() => q.Encode(x, [], new byte[q.MaxEncodedLength(Large)], Codecs.Context()));
                Assert.Contains("bucket 2411 (entries 1234432–1234943)", e.Message);
                var whole = new Qsgd(levels: 7, bucketSize: 0);
                Assert.Throws<ArgumentException>(() => whole.Encode(x, [], new byte[whole.MaxEncodedLength(Large)], Codecs.Context()));
                var sign = new ErrorFeedback(new ScaledSign());
                var state = new float[Large];
                Assert.Throws<ArgumentException>(() => sign.Encode(x, state, new byte[sign.MaxEncodedLength(Large)], Codecs.Context()));
                Assert.All(state, v => Assert.Equal(0f, v));           // a rejected input leaves the residual untouched

                // A code above 2s far into a large payload is found and reported by entry.
                var payload = Codecs.Encode(q, Codecs.Gaussian(Large, 8), [], Codecs.Context());
                int codesAt = PayloadHeader.Length + 6 + 4 * ((Large + 511) / 512);
                payload[codesAt + 1_000_000] = 0xF0;                   // entry 2 000 001 gets code 15 > 14
                var output = new float[Large];
                var error = Assert.Throws<PayloadFormatException>(() => q.Decode(payload, output));
                Assert.Contains("code 2000001", error.Message);
                Assert.All(output, v => Assert.Equal(0f, v));
            }
            finally
            {
                KernelParallelism.MaxThreads = saved;
            }
        }
    }
}
