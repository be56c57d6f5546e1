using System.Buffers.Binary;
using System.IO.Compression;
using Flock.Data;

namespace Flock.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flock-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Builds IDX bytes: magic 00 00 type rank, big-endian dims, then payload.</summary>
    internal static byte[] Idx(byte type, int[] dims, byte[] payload)
    {
        var b = new byte[4 + 4 * dims.Length + payload.Length];
        b[2] = type;
        b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        payload.CopyTo(b, 4 + 4 * dims.Length);
        return b;
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private static DataFormatException Fails(string path, IdxDataType? type = null, int? rank = null, int? max = null) =>
        Assert.Throws<DataFormatException>(() => IdxReader.Read(path, type, rank, max));

    [Fact]
    public void Reads_ubyte_matrix_raw_and_gzipped()
    {
        var payload = new byte[] { 0, 1, 2, 250, 251, 255 };
        foreach (var (name, bytes) in new[] { ("m.idx", Idx(0x08, [2, 3], payload)), ("m.idx.gz", Gzip(Idx(0x08, [2, 3], payload))) })
        {
            var a = IdxReader.Read(Write(name, bytes), IdxDataType.UnsignedByte, 2);
            Assert.Equal(IdxDataType.UnsignedByte, a.DataType);
            Assert.Equal(new[] { 2, 3 }, a.Dimensions);
            Assert.Equal(2, a.Count);
            Assert.Equal(3, a.ItemSize);
            Assert.Equal(payload, a.Data);
            Assert.Equal(new float[] { 0, 1, 2, 250, 251, 255 }, a.ToSingle());
        }
    }

    [Fact]
    public void Converts_big_endian_int32_int16_sbyte_and_floats()
    {
        // int32 -2 = FF FF FF FE; 258 = 00 00 01 02.
        var i32 = IdxReader.Read(Write("i.idx", Idx(0x0C, [2], [0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 1, 2])));
        Assert.Equal(new float[] { -2, 258 }, i32.ToSingle());
        var i16 = IdxReader.Read(Write("s.idx", Idx(0x0B, [2], [0x80, 0x00, 0x01, 0x00])));
        Assert.Equal(new float[] { -32768, 256 }, i16.ToSingle());
        var i8 = IdxReader.Read(Write("b.idx", Idx(0x09, [2], [0xFF, 0x7F])));
        Assert.Equal(new float[] { -1, 127 }, i8.ToSingle());
        // float32 1.5 = 3F C0 00 00; float64 -0.25 = BF D0 00 ...
        var f32 = IdxReader.Read(Write("f.idx", Idx(0x0D, [1], [0x3F, 0xC0, 0, 0])));
        Assert.Equal(new float[] { 1.5f }, f32.ToSingle());
        var f64 = IdxReader.Read(Write("d.idx", Idx(0x0E, [1], [0xBF, 0xD0, 0, 0, 0, 0, 0, 0])));
        Assert.Equal(new float[] { -0.25f }, f64.ToSingle());
    }

    [Fact]
    public void Max_items_reads_a_prefix_and_ignores_the_rest()
    {
        var payload = Enumerable.Range(0, 15).Select(i => (byte)i).ToArray();
        var ok = Write("p.idx.gz", Gzip(Idx(0x08, [5, 3], payload)));
        var a = IdxReader.Read(ok, maxItems: 2);
        Assert.Equal(2, a.Count);
        Assert.Equal(new[] { 5, 3 }, a.Dimensions);
        Assert.Equal(payload[..6], a.Data);
        Assert.Equal(5, IdxReader.Read(ok, maxItems: 99).Count);
        // Declares 5 items but holds only 2.33: a prefix of 2 items is readable, the whole file is not.
        var cut = Write("c.idx.gz", Gzip(Idx(0x08, [5, 3], payload[..7])));
        Assert.Equal(payload[..6], IdxReader.Read(cut, maxItems: 2).Data);
        Assert.Contains("truncated data", Fails(cut).Message);
    }

    [Fact]
    public void Bad_magic_is_reported_at_offset_zero()
    {
        var bytes = Idx(0x08, [2], [1, 2]);
        bytes[0] = 0x12; bytes[1] = 0x34;
        var e = Fails(Write("bad.idx", bytes));
        Assert.Contains("bad magic number 0x12340801", e.Message);
        Assert.Contains("byte offset 0", e.Message);
        Assert.Contains("bad.idx", e.Message);
        Assert.Equal(0, e.ByteOffset);
    }

    [Fact]
    public void Unknown_and_wrong_data_types_are_reported()
    {
        var e = Fails(Write("u.idx", Idx(0x07, [1], [0])));
        Assert.Contains("unknown data type code 0x07 at byte offset 2", e.Message);
        e = Fails(Write("w.idx.gz", Gzip(Idx(0x0C, [1], [0, 0, 0, 1]))), IdxDataType.UnsignedByte);
        Assert.Contains("wrong data type int32 (0x0C) at decompressed byte offset 2; expected unsigned byte (0x08)", e.Message);
        Assert.Equal(2, e.ByteOffset);
    }

    [Fact]
    public void Wrong_rank_zero_rank_and_zero_dimension_are_reported()
    {
        Assert.Contains("wrong number of dimensions 1 at byte offset 3; expected 3", Fails(Write("r.idx", Idx(0x08, [2], [1, 2])), rank: 3).Message);
        Assert.Contains("rank 0 at byte offset 3", Fails(Write("r0.idx", [0, 0, 8, 0])).Message);
        var e = Fails(Write("z.idx", Idx(0x08, [2, 0], [])));
        Assert.Contains("invalid dimension 0 (dimension 1) at byte offset 8", e.Message);
        Assert.Equal(8, e.ByteOffset);
        var neg = Fails(Write("n.idx", Idx(0x08, [-1], [])));
        Assert.Contains("invalid dimension 4294967295", neg.Message);
    }

    [Fact]
    public void Truncated_header_and_empty_file_are_reported()
    {
        Assert.Contains("file too short: 0 bytes", Fails(Write("e.idx", [])).Message);
        Assert.Contains("file too short: 3 bytes", Fails(Write("s.idx", [0, 0, 8])).Message);
        var e = Fails(Write("h.idx", Idx(0x08, [2, 3], [])[..10]));
        Assert.Contains("truncated header: expected 2 dimensions (8 bytes)", e.Message);
        Assert.Contains("ends at byte offset 10", e.Message);
    }

    [Fact]
    public void Truncated_data_gives_expected_and_actual_sizes()
    {
        // 3 items of 2x2 ubyte = 12 data bytes after a 16-byte header; only 9 present.
        var full = Idx(0x08, [3, 2, 2], new byte[12]);
        foreach (var (name, bytes, where) in new[] { ("t.idx", full[..25], "byte offset 25"), ("t.idx.gz", Gzip(full[..25]), "decompressed byte offset 25") })
        {
            var e = Fails(Write(name, bytes));
            Assert.Contains("truncated data: the header declares 3 items of shape [2x2] (unsigned byte), i.e. 12 data bytes after the 16-byte header", e.Message);
            Assert.Contains($"ends at {where} after 9 data bytes (only 2 complete items)", e.Message);
            Assert.Equal(25, e.ByteOffset);
        }
    }

    [Fact]
    public void Truncated_vector_counts_items()
    {
        var e = Fails(Write("v.idx", Idx(0x0C, [4], new byte[10])));
        Assert.Contains("the header declares 4 items (int32), i.e. 16 data bytes after the 8-byte header, but the file ends at byte offset 18 after 10 data bytes (only 2 complete items)", e.Message);
    }

    [Fact]
    public void Trailing_data_is_reported()
    {
        var e = Fails(Write("x.idx", Idx(0x08, [2], [1, 2, 3])));
        Assert.Contains("unexpected data after the last item at byte offset 10", e.Message);
    }

    [Fact]
    public void Damaged_gzip_stream_is_a_data_format_error()
    {
        var gz = Gzip(Idx(0x08, [64], Enumerable.Range(0, 64).Select(i => (byte)(i * 7)).ToArray()));
        // Cut the compressed stream in the middle: either the inflater fails or the data comes out short.
        var cut = Fails(Write("cut.idx.gz", gz[..(gz.Length / 2)]));
        Assert.Contains("cut.idx.gz", cut.Message);
        // Corrupt the deflate block type bits (first byte after the 10-byte gzip header) to the reserved type 3.
        var bad = (byte[])gz.Clone();
        bad[10] |= 0b110;
        var e = Fails(Write("bad.idx.gz", bad));
        Assert.Contains("bad.idx.gz", e.Message);
    }

    [Fact]
    public void Missing_file_names_the_path()
    {
        string p = Path.Combine(_dir, "nope.idx");
        var e = Fails(p);
        Assert.Contains("IDX file not found", e.Message);
        Assert.Contains(p, e.Message);
    }

    [Fact]
    public void Invalid_item_limit_is_rejected()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => IdxReader.Read(Write("a.idx", Idx(0x08, [1], [1])), maxItems: 0));
        Assert.Contains("0", ex.Message);
    }
}
