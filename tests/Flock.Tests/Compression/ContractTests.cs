using System.Buffers.Binary;
using Flock.Compression;

namespace Flock.Tests.Compression;

/// <summary>Properties every codec must have: exact byte counts, header, determinism, decode paths, edge dimensions.</summary>
public sealed class ContractTests
{
    public static TheoryData<string> All() => Codecs.All();

    [Theory]
    [MemberData(nameof(All))]
    public void Header_length_and_dimension(string name)
    {
        var c = Codecs.Create(name);
        foreach (int d in new[] { 1, 7, 8, 9, 64, 1000 })
        {
            var x = Codecs.Gaussian(d, (ulong)d);
            var state = new float[c.StateLength(d)];
            var buffer = new byte[c.MaxEncodedLength(d) + 3];
            buffer.AsSpan().Fill(0xEE);
            int n = c.Encode(x, state, buffer, Codecs.Context());
            Assert.True(n <= c.MaxEncodedLength(d), $"{name}: {n} > MaxEncodedLength {c.MaxEncodedLength(d)}");
            Assert.All(buffer.AsSpan(n).ToArray(), b => Assert.Equal(0xEE, b));   // nothing written past the returned length
            Assert.Equal((byte)c.Codec, buffer[0]);
            Assert.Equal(Payload.FormatVersion, buffer[1]);
            Assert.Equal(d, BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(2)));
            var header = Payload.ReadHeader(buffer.AsSpan(0, n));
            Assert.Equal(new PayloadHeader(c.Codec, 1, d), header);
            Assert.Equal(n, c.EncodeToArray(x, new float[c.StateLength(d)], Codecs.Context()).Length);
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Deterministic_for_a_context_and_fresh_per_round(string name)
    {
        var c = Codecs.Create(name);
        var x = Codecs.Gaussian(300, 5);
        byte[] a = Codecs.Encode(c, x, new float[c.StateLength(300)], Codecs.Context(round: 4));
        byte[] b = Codecs.Encode(c, x, new float[c.StateLength(300)], Codecs.Context(round: 4));
        Assert.Equal(a, b);
        bool randomized = name is "random-k" or "random-k-raw" or "qsgd-2bit" or "qsgd-4bit" or "qsgd-8bit-whole" or "rqm" or "rqm-2" or "rqm-300" or "count-sketch" or "count-sketch-shared" or "srht";
        byte[] other = Codecs.Encode(c, x, new float[c.StateLength(300)], Codecs.Context(round: 5));
        if (randomized) Assert.NotEqual(a, other);
        byte[] otherNode = Codecs.Encode(c, x, new float[c.StateLength(300)], Codecs.Context(round: 4, node: 9));
        if (randomized && name != "count-sketch-shared") Assert.NotEqual(a, otherNode);
        if (name == "count-sketch-shared") Assert.Equal(a, otherNode);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Decode_add_matches_decode(string name)
    {
        var c = Codecs.Create(name);
        const int d = 203;
        var payload = Codecs.Encode(c, Codecs.Gaussian(d, 8), new float[c.StateLength(d)], Codecs.Context());
        var decoded = Codecs.Decode(c, payload, d);
        var acc = Codecs.Gaussian(d, 9);
        var expected = new float[d];
        for (int i = 0; i < d; i++) expected[i] = acc[i] + decoded[i] * -0.5f;
        c.DecodeAdd(payload, acc, -0.5f);
        Assert.Equal(expected, acc);
        // The payload-level decoder agrees with the codec's.
        var viaPayload = new float[d];
        viaPayload.AsSpan().Fill(123f);
        Payload.Decode(payload, viaPayload);
        Assert.Equal(decoded, viaPayload);
        var acc2 = new float[d];
        Payload.DecodeAdd(payload, acc2, 2f);
        for (int i = 0; i < d; i++) Assert.Equal(decoded[i] * 2f, acc2[i]);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Decode_overwrites_the_output(string name)
    {
        var c = Codecs.Create(name);
        var x = Codecs.Gaussian(50, 2);
        var payload = Codecs.Encode(c, x, new float[c.StateLength(50)], Codecs.Context());
        var a = new float[50];
        var b = new float[50];
        b.AsSpan().Fill(float.NaN);
        c.Decode(payload, a);
        c.Decode(payload, b);
        Assert.Equal(a, b);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Empty_vector(string name)
    {
        var c = Codecs.Create(name);
        Assert.Equal(0, c.StateLength(0));
        var payload = Codecs.Encode(c, [], [], Codecs.Context());
        Assert.Equal(0, Payload.ReadHeader(payload).Dimension);
        c.Decode(payload, Span<float>.Empty);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Zero_vector_decodes_to_zero(string name)
    {
        if (name.StartsWith("rqm", StringComparison.Ordinal)) return;          // RQM rounds 0 to the grid at random (unbiased, not exact)
        var c = Codecs.Create(name);
        var y = Codecs.RoundTrip(c, new float[77], Codecs.Context());
        Assert.All(y, v => Assert.Equal(0f, Math.Abs(v)));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Encode_validates_state_and_destination(string name)
    {
        var c = Codecs.Create(name);
        var x = new float[40];
        var ex = Assert.Throws<ArgumentException>(() => c.Encode(x, new float[c.StateLength(40) + 1], new byte[c.MaxEncodedLength(40)], Codecs.Context()));
        Assert.Contains("State length", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => c.Encode(x, new float[c.StateLength(40)], new byte[c.MaxEncodedLength(40) - 1], Codecs.Context()));
        Assert.Contains("MaxEncodedLength", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => c.MaxEncodedLength(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => c.StateLength(-1));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Shared_instance_serves_interleaved_nodes(string name)
    {
        // Two nodes encoding alternately through one instance produce what they produce alone.
        var shared = Codecs.Create(name);
        const int d = 120;
        byte[][] Solo(ulong node)
        {
            var c = Codecs.Create(name);
            var state = new float[c.StateLength(d)];
            return Enumerable.Range(0, 4).Select(r => Codecs.Encode(c, Codecs.Gaussian(d, node * 10 + (ulong)r), state, Codecs.Context(r, node))).ToArray();
        }
        var s1 = new float[shared.StateLength(d)];
        var s2 = new float[shared.StateLength(d)];
        for (int r = 0; r < 4; r++)
        {
            Assert.Equal(Solo(1)[r], Codecs.Encode(shared, Codecs.Gaussian(d, 10 + (ulong)r), s1, Codecs.Context(r, 1)));
            Assert.Equal(Solo(2)[r], Codecs.Encode(shared, Codecs.Gaussian(d, 20 + (ulong)r), s2, Codecs.Context(r, 2)));
        }
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("top-k")]
    [InlineData("random-k")]
    [InlineData("dgc")]
    [InlineData("qsgd-4bit")]
    [InlineData("sign")]
    [InlineData("ef-sign")]
    [InlineData("rqm")]
    [InlineData("count-sketch")]
    [InlineData("srht")]
    public void No_per_element_allocation(string name)
    {
        var c = Codecs.Create(name);
        const int d = 100_000;
        var x = Codecs.Gaussian(d, 1);
        var state = new float[c.StateLength(d)];
        var buffer = new byte[c.MaxEncodedLength(d)];
        var y = new float[d];
        int n = c.Encode(x, state, buffer, Codecs.Context(10));     // warm pools
        c.Decode(buffer.AsSpan(0, n), y);
        // Best of three: the runtime itself (tiered JIT, PGO) occasionally allocates on this thread.
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            n = c.Encode(x, state, buffer, Codecs.Context(11));
            c.Decode(buffer.AsSpan(0, n), y);
            c.DecodeAdd(buffer.AsSpan(0, n), y, 0.5f);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(allocated < 1024, $"{name} allocated {allocated} bytes for d = {d}");
    }

    [Fact]
    public void Identity_is_bit_exact()
    {
        float[] x = [1.5f, -0f, float.NaN, float.PositiveInfinity, float.Epsilon, -3e38f, 0f];
        var payload = Codecs.Encode(new Identity(), x, [], Codecs.Context());
        Assert.Equal(6 + 4 * x.Length, payload.Length);
        var y = Codecs.Decode(new Identity(), payload, x.Length);
        Assert.Equal(x.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Payload_lengths_follow_the_documented_layouts()
    {
        const int d = 1001;
        var x = Codecs.Gaussian(d, 1);
        int Length(ICompressor c) => Codecs.Encode(c, x, new float[c.StateLength(d)], Codecs.Context()).Length;
        Assert.Equal(6 + 4 * d, Length(new Identity()));
        Assert.Equal(6 + 4 + 126, Length(new ScaledSign()));                                    // ⌈1001/8⌉ sign bytes
        Assert.Equal(6 + 6 + 4 * 2 + (d * 4 + 7) / 8, Length(new Qsgd(7, 512)));                 // 2 buckets, 4 bits
        Assert.Equal(6 + 17 + (d * 2 + 7) / 8, Length(new RandomizedQuantization(levels: 3)));   // 2 bits per entry
        Assert.Equal(6 + 17 + 2 * d, Length(new RandomizedQuantization(levels: 1000)));          // 16 bits per entry
        Assert.Equal(6 + 12 + 4 * 101, Length(new CountSketch(0.1)));
        Assert.Equal(6 + 12 + 4 * 101, Length(new Srht(0.1)));
        Assert.Equal(6 + 5 + 4 * 501 + 126, Length(new TopK(0.5)));                              // bitmap is shorter
        Assert.Equal(new Identity().MaxEncodedLength(d), Length(new Identity()));
    }

    [Fact]
    public void Names_and_codec_ids_are_distinct()
    {
        var codecs = new ICompressor[] { new Identity(), new TopK(), new RandomK(), new DeepGradientCompression(), new Qsgd(), new ScaledSign(), new RandomizedQuantization(), new CountSketch(), new Srht() };
        Assert.Equal(codecs.Length, codecs.Select(c => c.Name).Distinct().Count());
        Assert.Equal(codecs.Length, codecs.Select(c => c.Codec).Distinct().Count());
        foreach (var c in codecs)
        {
            Assert.Equal(c.Name, Payload.CodecName(c.Codec));
            Assert.False(string.IsNullOrWhiteSpace(c.Description));
        }
        Assert.Equal("ef-sign", new ErrorFeedback(new ScaledSign()).Name);
        Assert.Equal(CodecId.ScaledSign, new ErrorFeedback(new ScaledSign()).Codec);
    }

    [Fact]
    public void Context_validates_round_and_derives_distinct_seeds()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CompressionContext(1, 2, -1));
        var a = new CompressionContext(1, 2, 3);
        Assert.NotEqual(a.DeriveSeed("x"), new CompressionContext(1, 5, 3).DeriveSeed("x"));
        Assert.NotEqual(a.DeriveSeed("x"), a.DeriveSeed("y"));
        Assert.Equal(a.DeriveSharedSeed("x"), new CompressionContext(1, 5, 3).DeriveSharedSeed("x"));
        Assert.NotEqual(a.DeriveSharedSeed("x"), new CompressionContext(1, 5, 4).DeriveSharedSeed("x"));
        Assert.NotEqual(a.DeriveSharedSeed("x"), a.DeriveSeed("x"));
    }
}
