using Flock.Compression;
using Flock.Tensors;

namespace Flock.Tests.Compression;

/// <summary>Test fixtures: every codec by name, vectors, encode/decode helpers.</summary>
internal static class Codecs
{
    public static readonly string[] Names =
    [
        "identity", "top-k", "top-k-count", "random-k", "random-k-raw", "dgc", "qsgd-2bit", "qsgd-4bit", "qsgd-8bit-whole",
        "sign", "ef-sign", "ef-top-k", "rqm", "rqm-2", "rqm-300", "count-sketch", "count-sketch-shared", "srht",
    ];

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (string n in Names) data.Add(n);
        return data;
    }

    public static ICompressor Create(string name) => name switch
    {
        "identity" => new Identity(),
        "top-k" => new TopK(0.1),
        "top-k-count" => TopK.WithCount(5),
        "random-k" => new RandomK(0.25),
        "random-k-raw" => RandomK.WithCount(3, unbiased: false),
        "dgc" => new DeepGradientCompression(finalDensity: 0.1, warmupDensities: [0.5, 0.25], warmupRoundsPerStage: 2),
        "qsgd-2bit" => new Qsgd(levels: 1, bucketSize: 16),
        "qsgd-4bit" => new Qsgd(levels: 7, bucketSize: 8),
        "qsgd-8bit-whole" => new Qsgd(levels: 100, bucketSize: 0),
        "sign" => new ScaledSign(),
        "ef-sign" => new ErrorFeedback(new ScaledSign()),
        "ef-top-k" => new ErrorFeedback(new TopK(0.2)),
        "rqm" => new RandomizedQuantization(clipBound: 2f, levels: 16, keepProbability: 0.5f, extension: 0.25f),
        "rqm-2" => new RandomizedQuantization(clipBound: 1f, levels: 2, keepProbability: 0.3f, extension: 0f),
        "rqm-300" => new RandomizedQuantization(clipBound: 1f, levels: 300, keepProbability: 0.9f, extension: 0.01f),
        "count-sketch" => new CountSketch(0.5),
        "count-sketch-shared" => CountSketch.WithSize(7, SketchSeedScope.Shared),
        "srht" => new Srht(0.5),
        _ => throw new ArgumentException(name),
    };

    public static float[] Gaussian(int n, ulong seed, float std = 1f)
    {
        var v = new float[n];
        new Rng(seed).FillGaussian(v, 0f, std);
        return v;
    }

    public static CompressionContext Context(long round = 0, ulong node = 3, ulong seed = 11) => new(seed, node, round);

    /// <summary>Encodes into an exact-length array (checking the returned length against the bound).</summary>
    public static byte[] Encode(ICompressor c, ReadOnlySpan<float> x, Span<float> state, CompressionContext ctx)
    {
        var buffer = new byte[c.MaxEncodedLength(x.Length) + 16];
        int n = c.Encode(x, state, buffer, ctx);
        Assert.InRange(n, PayloadHeader.Length, c.MaxEncodedLength(x.Length));
        return buffer.AsSpan(0, n).ToArray();
    }

    public static float[] Decode(ICompressor c, byte[] payload, int d)
    {
        var y = new float[d];
        c.Decode(payload, y);
        return y;
    }

    public static float[] RoundTrip(ICompressor c, float[] x, CompressionContext ctx)
    {
        var state = new float[c.StateLength(x.Length)];
        return Decode(c, Encode(c, x, state, ctx), x.Length);
    }
}
