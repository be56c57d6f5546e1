using System.Buffers.Binary;
using Flock.Compression;

namespace Flock.Tests.Compression;

/// <summary>Malformed, truncated, wrong-codec and out-of-range payloads are rejected with precise errors and leave the output untouched.</summary>
public sealed class PayloadValidationTests
{
    public static TheoryData<string> All() => Codecs.All();

    private static PayloadFormatException Rejects(ICompressor c, byte[] payload, int d, string field, string? messagePart = null)
    {
        var output = new float[d];
        output.AsSpan().Fill(42f);
        var ex = Assert.Throws<PayloadFormatException>(() => c.Decode(payload, output));
        Assert.Equal(field, ex.Field);
        Assert.Equal(Payload.CodecName(c.Codec), ex.Codec);
        Assert.StartsWith($"Invalid {ex.Codec} payload, field '{field}': ", ex.Message);
        if (messagePart != null) Assert.Contains(messagePart, ex.Message);
        Assert.All(output, v => Assert.Equal(42f, v));                        // nothing written
        var acc = new float[d];
        Assert.Throws<PayloadFormatException>(() => c.DecodeAdd(payload, acc, 1f));
        Assert.All(acc, v => Assert.Equal(0f, v));
        if (field != "codec id") Assert.Throws<PayloadFormatException>(() => Payload.Decode(payload, output));   // another valid id is another codec's payload
        return ex;
    }

    private static byte[] Valid(ICompressor c, int d) =>
        Codecs.Encode(c, Codecs.Gaussian(d, 77), new float[c.StateLength(d)], Codecs.Context());

    [Theory]
    [MemberData(nameof(All))]
    public void Every_truncation_is_rejected(string name)
    {
        var c = Codecs.Create(name);
        const int d = 37;
        var payload = Valid(c, d);
        for (int len = 0; len < payload.Length; len++)
        {
            var output = new float[d];
            output.AsSpan().Fill(42f);
            var ex = Assert.Throws<PayloadFormatException>(() => c.Decode(payload.AsSpan(0, len), output));
            Assert.Equal(Payload.CodecName(c.Codec), ex.Codec);
            Assert.All(output, v => Assert.Equal(42f, v));
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Trailing_bytes_are_rejected(string name)
    {
        var c = Codecs.Create(name);
        var payload = Valid(c, 37);
        var longer = payload.Concat(new byte[] { 0 }).ToArray();
        var ex = Assert.Throws<PayloadFormatException>(() => c.Decode(longer, new float[37]));
        Assert.Contains("trailing", ex.Message);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Wrong_codec_version_and_dimension_are_rejected(string name)
    {
        var c = Codecs.Create(name);
        var payload = Valid(c, 37);
        var other = payload.ToArray();
        other[0] = (byte)(c.Codec == CodecId.Identity ? CodecId.TopK : CodecId.Identity);
        var ex = Rejects(c, other, 37, "codec id", $"expected codec id {(byte)c.Codec} ('{Payload.CodecName(c.Codec)}'), got a '{Payload.CodecName((CodecId)other[0])}' payload");
        other[0] = 0xEE;
        Rejects(c, other, 37, "codec id", "unknown codec id 0xEE");
        Assert.Contains("unknown codec id 0xEE", Assert.Throws<PayloadFormatException>(() => Payload.ReadHeader(other)).Message);

        var version = payload.ToArray();
        version[1] = 2;
        Rejects(c, version, 37, "version", "unsupported format version 2; this build reads version 1.");

        var output = new float[36];
        var dim = Assert.Throws<PayloadFormatException>(() => c.Decode(payload, output));
        Assert.Equal("dimension", dim.Field);
        Assert.Contains("the payload encodes 37 entries but the output has 36", dim.Message);
    }

    [Fact]
    public void Header_reader_rejects_short_and_negative()
    {
        Assert.Contains("truncated", Assert.Throws<PayloadFormatException>(() => Payload.ReadHeader(new byte[5])).Message);
        var p = new byte[6];
        p[0] = (byte)CodecId.Identity;
        p[1] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(2), -4);
        Assert.Equal("dimension", Assert.Throws<PayloadFormatException>(() => Payload.ReadHeader(p)).Field);
    }

    // ---- sparse format ----

    /// <summary>Hand-built sparse payload: header, format, count, values, index bytes.</summary>
    private static byte[] Sparse(CodecId codec, int d, byte format, int count, float[] values, byte[] indexBytes)
    {
        var p = new byte[6 + 5 + 4 * values.Length + indexBytes.Length];
        p[0] = (byte)codec;
        p[1] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(2), d);
        p[6] = format;
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(7), count);
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(p.AsSpan(11 + 4 * i), values[i]);
        indexBytes.CopyTo(p, 11 + 4 * values.Length);
        return p;
    }

    [Fact]
    public void Hand_built_sparse_payloads_decode()
    {
        var c = new TopK(0.5);
        // Varints: index 2 (gap 2), then index 5 (gap 5 − 2 − 1 = 2), then 200 (gap 194 = 0xC2 0x01).
        var y = new float[300];
        c.Decode(Sparse(CodecId.TopK, 300, 1, 3, [1f, -2f, 3f], [2, 2, 0xC2, 0x01]), y);
        Assert.Equal(1f, y[2]);
        Assert.Equal(-2f, y[5]);
        Assert.Equal(3f, y[200]);
        Assert.Equal(3, y.Count(v => v != 0));
        // Bitmap: d = 10, indices 0 and 9.
        var z = new float[10];
        c.Decode(Sparse(CodecId.TopK, 10, 0, 2, [4f, 5f], [0b0000_0001, 0b0000_0010]), z);
        Assert.Equal(new float[] { 4, 0, 0, 0, 0, 0, 0, 0, 0, 5 }, z);
    }

    [Fact]
    public void Sparse_errors_name_the_field()
    {
        var c = new TopK(0.5);
        Rejects(c, Sparse(CodecId.TopK, 300, 7, 1, [1f], [0]), 300, "index format", "unknown index format 7");
        Rejects(c, Sparse(CodecId.TopK, 300, 1, -1, [], []), 300, "count", "count -1 is outside [0, 300]");
        Rejects(c, Sparse(CodecId.TopK, 3, 1, 4, [1f, 2f, 3f, 4f], [0, 0, 0, 0]), 3, "count", "count 4 is outside [0, 3]");
        Rejects(c, Sparse(CodecId.TopK, 300, 1, 2, [1f, 2f], [5, 0xFF, 0x02]), 300, "index 1", "index 389 is out of range [0, 300)");
        Rejects(c, Sparse(CodecId.TopK, 300, 1, 2, [1f, 2f], [5]), 300, "index 1", "truncated");
        Rejects(c, Sparse(CodecId.TopK, 300, 1, 1, [1f], [0x80, 0x00]), 300, "index 0", "overlong");
        Rejects(c, Sparse(CodecId.TopK, 300, 1, 1, [1f], [0xFF, 0xFF, 0xFF, 0xFF, 0x1F]), 300, "index 0", "exceeds 32 bits");
        Rejects(c, Sparse(CodecId.TopK, 300, 1, 1, [1f], [3, 4]), 300, "length", "trailing");
        // Bitmap: wrong popcount, padding bit set (index 10 of d = 10), wrong length.
        Rejects(c, Sparse(CodecId.TopK, 10, 0, 1, [4f], [0b0000_0011, 0]), 10, "bitmap", "2 bit(s) set but the count is 1");
        Rejects(c, Sparse(CodecId.TopK, 10, 0, 1, [4f], [0, 0b0000_0100]), 10, "bitmap", "padding bits after entry 9 are set");
        Rejects(c, Sparse(CodecId.TopK, 10, 0, 1, [4f], [1]), 10, "bitmap", "truncated");
        // A random-k payload is not a top-k payload (same body format, different codec).
        Rejects(c, Sparse(CodecId.RandomK, 10, 0, 1, [4f], [1, 0]), 10, "codec id", "got a 'random-k' payload (codec id 3)");
    }

    [Fact]
    public void Quantizer_errors_name_the_field()
    {
        const int d = 19;
        var q = new Qsgd(levels: 7, bucketSize: 8);
        var p = Valid(q, d);
        // Layout: header(6) s(1) bits(1) bucket(4) norms(3×4) codes(10, the last 4 bits padding).
        Rejects(q, With(p, 6, 0), d, "levels", "s = 0 is outside [1, 127]");
        Rejects(q, With(p, 7, 8), d, "bits", "8 bits per entry, but s = 7 is packed in 4 bits");
        Rejects(q, WithInt(p, 8, 12), d, "bucket size", "bucket size 12 must be a positive multiple of 8");
        Rejects(q, WithFloat(p, 12 + 4, float.NaN), d, "norm 1", "bucket norm NaN is not a finite value ≥ 0");
        Rejects(q, WithFloat(p, 12, -1f), d, "norm 0", "bucket norm -1");
        Rejects(q, With(p, 24 + 3, 0xF0), d, "code 7", "code 15 is above 2s = 14");
        Rejects(q, With(p, 24 + 9, (byte)(p[24 + 9] | 0xF0)), d, "codes", "padding bits after entry 18 are set");

        var q1 = new Qsgd(levels: 1, bucketSize: 0);
        var p1 = Valid(q1, 5);
        Rejects(q1, With(p1, 16, 0b11), 5, "code 0", "code 3 is above 2s = 2");

        var s = new ScaledSign();
        var ps = Valid(s, 20);
        Rejects(s, WithFloat(ps, 6, float.PositiveInfinity), 20, "scale", "scale Infinity is not a finite value ≥ 0");
        Rejects(s, With(ps, 12, 0xF0), 20, "signs", "padding bits after entry 19 are set");

        var r = new RandomizedQuantization(clipBound: 1f, levels: 10, keepProbability: 0.5f, extension: 0.1f);
        var pr = Valid(r, d);
        // Layout: header(6) c(4) Δ(4) m(4) q(4) bits(1) codes(10).
        Rejects(r, WithFloat(pr, 6, 0f), d, "clip bound", "c = 0 is not a finite value > 0");
        Rejects(r, WithFloat(pr, 10, -0.5f), d, "extension", "Δ = -0.5");
        Rejects(r, WithInt(pr, 14, 1), d, "levels", "m = 1 is outside [2, 65536]");
        Rejects(r, WithFloat(pr, 18, 1.5f), d, "keep probability", "q = 1.5 is outside (0, 1]");
        Rejects(r, With(pr, 22, 8), d, "bits", "8 bits per entry, but m = 10 levels are packed in 4 bits");
        Rejects(r, With(pr, 23, 0x0B), d, "code 0", "level index 11 is outside [0, 10)");
    }

    [Fact]
    public void Sketch_errors_name_the_field()
    {
        const int d = 20;
        var cs = CountSketch.WithSize(4);
        var p = Valid(cs, d);
        Rejects(cs, WithInt(p, 14, 0), d, "size", "s = 0 buckets; must be ≥ 1");
        Rejects(cs, WithInt(p, 14, 5), d, "buckets", "truncated");
        var srht = Srht.WithRows(4);
        var ps = Valid(srht, d);
        Rejects(srht, WithInt(ps, 14, 33), d, "rows", "s = 33 rows is outside [1, 32] for dimension 20 (padded length 32)");
        Rejects(srht, WithInt(ps, 14, 0), d, "rows", "s = 0 rows is outside [1, 32]");
    }

    private static byte[] With(byte[] p, int offset, byte value)
    {
        var q = p.ToArray();
        q[offset] = value;
        return q;
    }

    private static byte[] WithInt(byte[] p, int offset, int value)
    {
        var q = p.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(q.AsSpan(offset), value);
        return q;
    }

    private static byte[] WithFloat(byte[] p, int offset, float value)
    {
        var q = p.ToArray();
        BinaryPrimitives.WriteSingleLittleEndian(q.AsSpan(offset), value);
        return q;
    }
}
