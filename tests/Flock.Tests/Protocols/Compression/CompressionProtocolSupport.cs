using Flock.Compression;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.Compression;

/// <summary>Wraps a compressor and records every encode: the sender, the round, a copy of the input, and the payload.</summary>
internal sealed class RecordingCompressor(ICompressor inner) : ICompressor
{
    public List<(ulong Node, long Round, float[] Input, byte[] Payload)> Encoded { get; } = new();

    public ICompressor Inner => inner;

    public string Name => inner.Name;

    public CodecId Codec => inner.Codec;

    public string Description => inner.Description;

    public int StateLength(int dimension) => inner.StateLength(dimension);

    public int MaxEncodedLength(int dimension) => inner.MaxEncodedLength(dimension);

    public int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        int n = inner.Encode(input, state, destination, context);
        lock (Encoded) Encoded.Add((context.Node, context.Round, input.ToArray(), destination[..n].ToArray()));
        return n;
    }

    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => inner.Decode(payload, output);

    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => inner.DecodeAdd(payload, accumulator, scale);

    public IEnumerable<(long Round, float[] Input, byte[] Payload)> By(int node) =>
        Encoded.Where(e => e.Node == (ulong)node).OrderBy(e => e.Round).Select(e => (e.Round, e.Input, e.Payload));
}

internal static class CompressionProtocolSupport
{
    public static byte[] State(INodeBehavior node)
    {
        var ms = new MemoryStream();
        using (var w = new StateWriter(ms)) node.WriteState(w);
        return ms.ToArray();
    }

    public static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    public static float[] Decode(byte[] payload, int d)
    {
        var v = new float[d];
        Payload.Decode(payload, v);
        return v;
    }

    /// <summary>
    /// Runs a scenario uninterrupted, then again checkpointed when <paramref name="checkpointAt"/>
    /// first holds, resumed in a fresh simulator; rows, bytes and node states must be identical.
    /// </summary>
    public static void AssertResumeEquals(Func<(INodeBehavior[], SimulationOptions)> build, Func<SimulationProgress, bool> checkpointAt)
    {
        var (n0, o0) = build();
        var full = new Simulator(n0, o0);
        var expected = RunRows(full);

        var (n1, o1) = build();
        using var cts = new CancellationTokenSource();
        var first = new Simulator(n1, o1);
        var checkpoint = new MemoryStream();
        first.Progress += p =>
        {
            if (checkpoint.Length == 0 && checkpointAt(p))
            {
                first.SaveCheckpoint(checkpoint);
                cts.Cancel();
            }
        };
        var before = RunRows(first, cts.Token);
        Assert.True(checkpoint.Length > 0, "no checkpoint was taken");
        Assert.True(before.Count > 0 && before.Count < expected.Count, $"checkpoint after {before.Count} of {expected.Count} rows");

        var (n2, o2) = build();
        var resumed = new Simulator(n2, o2);
        checkpoint.Position = 0;
        resumed.LoadCheckpoint(checkpoint);
        var after = RunRows(resumed);
        AssertRowsEqual(expected, before.Concat(after).ToList());
        Assert.Equal(full.BytesSent, resumed.BytesSent);
        for (int i = 0; i < n0.Length; i++)
            Assert.True(State(n0[i]).SequenceEqual(State(n2[i])), $"node {i}'s state differs after resuming");
    }
}
