using System.Buffers.Binary;
using System.IO.Compression;

namespace Flock.Data;

/// <summary>The element type code of an IDX file (the third byte of its magic number).</summary>
public enum IdxDataType : byte
{
    /// <summary>Unsigned byte (code 0x08).</summary>
    UnsignedByte = 0x08,
    /// <summary>Signed byte (code 0x09).</summary>
    SignedByte = 0x09,
    /// <summary>Big-endian 16-bit integer (code 0x0B).</summary>
    Int16 = 0x0B,
    /// <summary>Big-endian 32-bit integer (code 0x0C).</summary>
    Int32 = 0x0C,
    /// <summary>Big-endian 32-bit float (code 0x0D).</summary>
    Float32 = 0x0D,
    /// <summary>Big-endian 64-bit float (code 0x0E).</summary>
    Float64 = 0x0E,
}

/// <summary>
/// An array read from an IDX file: its header, and the raw (big-endian) bytes of the items read,
/// which may be only the first items of the file (see <see cref="IdxReader.Read(string, IdxDataType?, int?, int?)"/>).
/// </summary>
public sealed class IdxArray
{
    internal IdxArray(string source, IdxDataType dataType, int[] dimensions, int count, byte[] data)
    {
        Source = source;
        DataType = dataType;
        Dimensions = dimensions;
        Count = count;
        Data = data;
    }

    /// <summary>The file (or stream name) the array was read from.</summary>
    public string Source { get; }

    /// <summary>The element type.</summary>
    public IdxDataType DataType { get; }

    /// <summary>The dimensions as declared in the file header (the first is the number of items in the file).</summary>
    public int[] Dimensions { get; }

    /// <summary>Number of items actually read (≤ <c>Dimensions[0]</c>).</summary>
    public int Count { get; }

    /// <summary>Number of elements per item (product of the dimensions after the first; 1 for a vector).</summary>
    public int ItemSize => ItemSizeOf(Dimensions);

    /// <summary>The raw element bytes of the items read, big-endian as in the file.</summary>
    public byte[] Data { get; }

    /// <summary>Size in bytes of one element of <paramref name="type"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is not a defined IDX type.</exception>
    public static int ElementSize(IdxDataType type) => type switch
    {
        IdxDataType.UnsignedByte or IdxDataType.SignedByte => 1,
        IdxDataType.Int16 => 2,
        IdxDataType.Int32 or IdxDataType.Float32 => 4,
        IdxDataType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an IDX data type."),
    };

    internal static int ItemSizeOf(int[] dims)
    {
        long s = 1;
        for (int i = 1; i < dims.Length; i++) s *= dims[i];
        return checked((int)s);
    }

    /// <summary>Converts every element read to <see cref="float"/> (unscaled), in file order.</summary>
    public float[] ToSingle()
    {
        int n = Data.Length / ElementSize(DataType);
        var result = new float[n];
        var src = Data.AsSpan();
        switch (DataType)
        {
            case IdxDataType.UnsignedByte:
                for (int i = 0; i < n; i++) result[i] = src[i];
                break;
            case IdxDataType.SignedByte:
                for (int i = 0; i < n; i++) result[i] = (sbyte)src[i];
                break;
            case IdxDataType.Int16:
                for (int i = 0; i < n; i++) result[i] = BinaryPrimitives.ReadInt16BigEndian(src[(2 * i)..]);
                break;
            case IdxDataType.Int32:
                for (int i = 0; i < n; i++) result[i] = BinaryPrimitives.ReadInt32BigEndian(src[(4 * i)..]);
                break;
            case IdxDataType.Float32:
                for (int i = 0; i < n; i++) result[i] = BinaryPrimitives.ReadSingleBigEndian(src[(4 * i)..]);
                break;
            default:
                for (int i = 0; i < n; i++) result[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(src[(8 * i)..]);
                break;
        }
        return result;
    }
}

/// <summary>
/// Reads IDX files (the format of MNIST and Fashion-MNIST, described by LeCun et al.): a magic number
/// <c>0x00 0x00 type rank</c>, <c>rank</c> big-endian 32-bit dimensions, then the elements in
/// row-major order, big-endian. Gzipped files are recognised by their content (gzip magic
/// <c>0x1F 0x8B</c>), whatever their name. Every problem raises a <see cref="DataFormatException"/>
/// naming the file, what is wrong, and the byte offset (in the decompressed stream for gzipped files).
/// </summary>
public static class IdxReader
{
    /// <summary>
    /// Reads the IDX file at <paramref name="path"/>.
    /// </summary>
    /// <param name="path">The file, gzipped or not.</param>
    /// <param name="expectedType">If set, the element type the file must have.</param>
    /// <param name="expectedRank">If set, the number of dimensions the file must have.</param>
    /// <param name="maxItems">If set, read only the first <c>min(maxItems, Dimensions[0])</c> items (the rest of the
    /// file is not read, nor checked); otherwise read all and check that nothing follows them.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxItems"/> is not positive.</exception>
    /// <exception cref="DataFormatException">The file is missing, unreadable, or not a well-formed IDX file of the expected type and rank.</exception>
    public static IdxArray Read(string path, IdxDataType? expectedType = null, int? expectedRank = null, int? maxItems = null)
    {
        if (maxItems is <= 0) throw new ArgumentOutOfRangeException(nameof(maxItems), maxItems, "Invalid item limit; must be positive.");
        if (!File.Exists(path))
            throw new DataFormatException($"IDX file not found: '{path}'.") { FilePath = path };
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return Read(file, path, expectedType, expectedRank, maxItems);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DataFormatException($"Cannot read IDX file '{path}': {e.Message}", e) { FilePath = path };
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DataFormatException($"Cannot read IDX file '{path}': {e.Message}", e) { FilePath = path };
        }
    }

    /// <summary>
    /// Reads an IDX array from <paramref name="stream"/> (gzipped or not); <paramref name="source"/> names it in errors.
    /// </summary>
    /// <param name="stream">The stream, positioned at the start of the file; it is read, not disposed.</param>
    /// <param name="source">A name for the stream used in error messages (usually its path).</param>
    /// <param name="expectedType">If set, the element type the array must have.</param>
    /// <param name="expectedRank">If set, the number of dimensions the array must have.</param>
    /// <param name="maxItems">If set, read only the first <c>min(maxItems, Dimensions[0])</c> items.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxItems"/> is not positive.</exception>
    /// <exception cref="DataFormatException">The stream is not a well-formed IDX array of the expected type and rank.</exception>
    public static IdxArray Read(Stream stream, string source, IdxDataType? expectedType = null, int? expectedRank = null, int? maxItems = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (maxItems is <= 0) throw new ArgumentOutOfRangeException(nameof(maxItems), maxItems, "Invalid item limit; must be positive.");

        // Sniff the gzip magic without requiring a seekable stream.
        var head = new byte[2];
        int got = ReadFully(stream, head, source, gzip: false);
        bool gzip = got == 2 && head[0] == 0x1F && head[1] == 0x8B;
        Stream body = new PrefixedStream(head.AsMemory(0, got), stream);
        if (gzip) body = new GZipStream(body, CompressionMode.Decompress);
        string where = gzip ? "decompressed byte offset" : "byte offset";
        try
        {
            return ReadBody(body, source, gzip, where, expectedType, expectedRank, maxItems);
        }
        finally
        {
            if (gzip) body.Dispose();
        }
    }

    private static IdxArray ReadBody(Stream s, string source, bool gzip, string where, IdxDataType? expectedType, int? expectedRank, int? maxItems)
    {
        var magic = new byte[4];
        int n = ReadFully(s, magic, source, gzip);
        if (n < 4)
            throw Error(source, n, $"file too short: {n} bytes, but an IDX file starts with a 4-byte magic number (at {where} 0).");
        if (magic[0] != 0 || magic[1] != 0)
            throw Error(source, 0, $"bad magic number 0x{magic[0]:X2}{magic[1]:X2}{magic[2]:X2}{magic[3]:X2} at {where} 0; an IDX file starts with 0x00 0x00, a type code and a rank" +
                (gzip ? "." : " (is it an IDX file, or a gzip file that was damaged?)."));
        var type = (IdxDataType)magic[2];
        if (!Enum.IsDefined(type))
            throw Error(source, 2, $"unknown data type code 0x{magic[2]:X2} at {where} 2; valid codes are 0x08 (ubyte), 0x09 (sbyte), 0x0B (int16), 0x0C (int32), 0x0D (float32), 0x0E (float64).");
        if (expectedType is { } et && type != et)
            throw Error(source, 2, $"wrong data type {TypeName(type)} (0x{magic[2]:X2}) at {where} 2; expected {TypeName(et)} (0x{(byte)et:X2}).");
        int rank = magic[3];
        if (rank == 0)
            throw Error(source, 3, $"rank 0 at {where} 3; an IDX array has at least one dimension.");
        if (expectedRank is { } er && rank != er)
            throw Error(source, 3, $"wrong number of dimensions {rank} at {where} 3; expected {er}.");

        var dimBytes = new byte[4 * rank];
        n = ReadFully(s, dimBytes, source, gzip);
        if (n < dimBytes.Length)
            throw Error(source, 4 + n, $"truncated header: expected {rank} dimensions ({dimBytes.Length} bytes) after the magic number, but the file ends at {where} {4 + n}.");
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.AsSpan(4 * i));
            if (d == 0 || d > int.MaxValue)
                throw Error(source, 4 + 4 * i, $"invalid dimension {d} (dimension {i}) at {where} {4 + 4 * i}; dimensions must be in [1, {int.MaxValue}].");
            dims[i] = (int)d;
        }

        long headerLength = 4 + 4L * rank;
        int elementSize = IdxArray.ElementSize(type);
        long itemBytes = (long)IdxArray.ItemSizeOf(dims) * elementSize;
        int count = maxItems is { } m ? Math.Min(m, dims[0]) : dims[0];
        long dataBytes = itemBytes * count;
        if (dataBytes > Array.MaxLength)
            throw Error(source, headerLength, $"data too large: {count} items of {itemBytes} bytes = {dataBytes} bytes exceeds the {Array.MaxLength}-byte array limit; load fewer items.");
        var data = new byte[dataBytes];
        n = ReadFully(s, data, source, gzip);
        if (n < data.Length)
        {
            long totalExpected = itemBytes * dims[0];
            throw Error(source, headerLength + n,
                $"truncated data: the header declares {dims[0]} items{(rank > 1 ? $" of shape [{string.Join("x", dims.Skip(1))}]" : "")} ({TypeName(type)}), i.e. {totalExpected} data bytes after the {headerLength}-byte header, " +
                $"but the file ends at {where} {headerLength + n} after {n} data bytes (only {n / itemBytes} complete items).");
        }
        if (maxItems is null)
        {
            Span<byte> probe = stackalloc byte[1];
            if (ReadFully(s, probe, source, gzip) != 0)
                throw Error(source, headerLength + dataBytes,
                    $"unexpected data after the last item at {where} {headerLength + dataBytes}; the header declares {dims[0]} items of {itemBytes} bytes, so the file should end there (wrong header or concatenated files?).");
        }
        return new IdxArray(source, type, dims, count, data);
    }

    /// <summary>The readable name of an IDX type (used in messages).</summary>
    public static string TypeName(IdxDataType type) => type switch
    {
        IdxDataType.UnsignedByte => "unsigned byte",
        IdxDataType.SignedByte => "signed byte",
        IdxDataType.Int16 => "int16",
        IdxDataType.Int32 => "int32",
        IdxDataType.Float32 => "float32",
        IdxDataType.Float64 => "float64",
        _ => $"unknown type 0x{(byte)type:X2}",
    };

    private static DataFormatException Error(string source, long offset, string what) =>
        new($"Malformed IDX file '{source}': {what}") { FilePath = source, ByteOffset = offset };

    private static int ReadFully(Stream s, Span<byte> buffer, string source, bool gzip)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int r = s.Read(buffer[total..]);
                if (r == 0) break;
                total += r;
            }
        }
        catch (InvalidDataException e) when (gzip)
        {
            throw new DataFormatException($"Malformed IDX file '{source}': the gzip stream is corrupt ({e.Message}).", e) { FilePath = source };
        }
        catch (EndOfStreamException e) when (gzip)
        {
            throw new DataFormatException($"Malformed IDX file '{source}': the gzip stream is truncated ({e.Message}).", e) { FilePath = source };
        }
        return total;
    }

    /// <summary>A read-only stream that replays already-read bytes before the rest of an inner stream.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (!_prefix.IsEmpty)
            {
                int n = Math.Min(buffer.Length, _prefix.Length);
                _prefix.Span[..n].CopyTo(buffer);
                _prefix = _prefix[n..];
                return n;
            }
            return inner.Read(buffer);
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
