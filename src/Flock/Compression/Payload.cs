using System.Buffers.Binary;

namespace Flock.Compression;

/// <summary>The 6-byte header every payload starts with.</summary>
/// <param name="Codec">Byte 0: the codec that wrote the payload.</param>
/// <param name="Version">Byte 1: the format version (<see cref="Payload.FormatVersion"/>).</param>
/// <param name="Dimension">Bytes 2–5: the vector's dimension d (int32, little-endian).</param>
public readonly record struct PayloadHeader(CodecId Codec, byte Version, int Dimension)
{
    /// <summary>Length of the header in bytes.</summary>
    public const int Length = 6;
}

/// <summary>
/// Payload-level operations that need no compressor instance: reading the header, and decoding
/// any payload by its codec id (every codec's parameters travel in its payload).
/// </summary>
public static class Payload
{
    /// <summary>The format version written by this build; decoders reject any other.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The registry name of a codec (e.g. <c>"top-k"</c>), or <c>"codec 0xNN"</c> for an unknown id.</summary>
    public static string CodecName(CodecId codec) => codec switch
    {
        CodecId.Identity => Identity.RegistryName,
        CodecId.TopK => TopK.RegistryName,
        CodecId.RandomK => RandomK.RegistryName,
        CodecId.Dgc => DeepGradientCompression.RegistryName,
        CodecId.Qsgd => Qsgd.RegistryName,
        CodecId.ScaledSign => ScaledSign.RegistryName,
        CodecId.Rqm => RandomizedQuantization.RegistryName,
        CodecId.CountSketch => CountSketch.RegistryName,
        CodecId.CountSketchBlocked => CountSketch.RegistryName,
        CodecId.Srht => Srht.RegistryName,
        CodecId.SrhtBlocked => Srht.RegistryName,
        _ => $"codec 0x{(byte)codec:X2}",
    };

    /// <summary>Reads and validates the header: length, known codec id, supported version, dimension ≥ 0.</summary>
    /// <exception cref="PayloadFormatException">The payload is shorter than the header, or the codec id, version or dimension is invalid.</exception>
    public static PayloadHeader ReadHeader(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < PayloadHeader.Length)
            throw new PayloadFormatException("compressed", "header", $"truncated: a payload needs at least {PayloadHeader.Length} header bytes, got {payload.Length}.");
        var codec = (CodecId)payload[0];
        if (!Enum.IsDefined(codec))
            throw new PayloadFormatException("compressed", "codec id", $"unknown codec id 0x{payload[0]:X2}; known ids are 1–9.");
        string name = CodecName(codec);
        if (payload[1] != FormatVersion)
            throw new PayloadFormatException(name, "version", $"unsupported format version {payload[1]}; this build reads version {FormatVersion}.");
        int d = BinaryPrimitives.ReadInt32LittleEndian(payload[2..]);
        if (d < 0) throw new PayloadFormatException(name, "dimension", $"negative dimension {d}.");
        return new PayloadHeader(codec, payload[1], d);
    }

    /// <summary>Decodes any payload into <paramref name="output"/>, dispatching on its codec id.</summary>
    /// <exception cref="PayloadFormatException">The payload is malformed, or its dimension is not <paramref name="output"/>'s length.</exception>
    public static void Decode(ReadOnlySpan<byte> payload, Span<float> output) => Dispatch(payload, output, 1f, accumulate: false);

    /// <summary>Adds <paramref name="scale"/> times any decoded payload to <paramref name="accumulator"/> (see <see cref="ICompressor.DecodeAdd"/>).</summary>
    /// <exception cref="PayloadFormatException">The payload is malformed, or its dimension is not <paramref name="accumulator"/>'s length.</exception>
    public static void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => Dispatch(payload, accumulator, scale, accumulate: true);

    private static void Dispatch(ReadOnlySpan<byte> payload, Span<float> output, float scale, bool accumulate)
    {
        var header = ReadHeader(payload);
        switch (header.Codec)
        {
            case CodecId.Identity: Identity.DecodeCore(payload, output, scale, accumulate); break;
            case CodecId.TopK:
            case CodecId.RandomK:
            case CodecId.Dgc: SparseFormat.Decode(payload, header.Codec, output, scale, accumulate); break;
            case CodecId.Qsgd: Qsgd.DecodeCore(payload, output, scale, accumulate); break;
            case CodecId.ScaledSign: ScaledSign.DecodeCore(payload, output, scale, accumulate); break;
            case CodecId.Rqm: RandomizedQuantization.DecodeCore(payload, output, scale, accumulate); break;
            case CodecId.CountSketch:
            case CodecId.CountSketchBlocked: CountSketch.DecodeCore(payload, output, scale, accumulate); break;
            case CodecId.Srht:
            case CodecId.SrhtBlocked: Srht.DecodeCore(payload, output, scale, accumulate); break;
            default: throw new PayloadFormatException("compressed", "codec id", $"unknown codec id 0x{(byte)header.Codec:X2}.");
        }
    }

    /// <summary>Writes the header; returns its length.</summary>
    internal static int WriteHeader(Span<byte> destination, CodecId codec, int dimension)
    {
        destination[0] = (byte)codec;
        destination[1] = FormatVersion;
        BinaryPrimitives.WriteInt32LittleEndian(destination[2..], dimension);
        return PayloadHeader.Length;
    }

    /// <summary>
    /// Validates the header for a decoder of <paramref name="expected"/> writing
    /// <paramref name="outputLength"/> floats; returns a reader positioned after the header.
    /// </summary>
    internal static PayloadReader OpenForDecode(ReadOnlySpan<byte> payload, CodecId expected, int outputLength)
    {
        string name = CodecName(expected);
        if (payload.Length < PayloadHeader.Length)
            throw new PayloadFormatException(name, "header", $"truncated: a payload needs at least {PayloadHeader.Length} header bytes, got {payload.Length}.");
        if (payload[0] != (byte)expected)
        {
            var actual = (CodecId)payload[0];
            string actualName = Enum.IsDefined(actual) ? $"a '{CodecName(actual)}' payload (codec id {payload[0]})" : $"unknown codec id 0x{payload[0]:X2}";
            throw new PayloadFormatException(name, "codec id", $"expected codec id {(byte)expected} ('{name}'), got {actualName}.");
        }
        if (payload[1] != FormatVersion)
            throw new PayloadFormatException(name, "version", $"unsupported format version {payload[1]}; this build reads version {FormatVersion}.");
        int d = BinaryPrimitives.ReadInt32LittleEndian(payload[2..]);
        if (d != outputLength)
            throw new PayloadFormatException(name, "dimension", $"the payload encodes {d} entries but the output has {outputLength}.");
        return new PayloadReader(payload, name, PayloadHeader.Length);
    }
}

/// <summary>Sequential little-endian reads with precise errors for truncated payloads.</summary>
internal ref struct PayloadReader
{
    private readonly ReadOnlySpan<byte> _payload;

    public PayloadReader(ReadOnlySpan<byte> payload, string codec, int position)
    {
        _payload = payload;
        Codec = codec;
        Position = position;
    }

    public string Codec { get; }

    public int Position { get; private set; }

    public readonly int Remaining => _payload.Length - Position;

    public readonly int Dimension => BinaryPrimitives.ReadInt32LittleEndian(_payload[2..]);

    public readonly PayloadFormatException Error(string field, string problem) => new(Codec, field, problem);

    private readonly void Need(int count, string field)
    {
        if (Remaining < count)
            throw Error(field, $"truncated: needs {count} byte(s) at offset {Position}, but the payload ends at {_payload.Length}.");
    }

    public byte ReadByte(string field)
    {
        Need(1, field);
        return _payload[Position++];
    }

    public int ReadInt32(string field)
    {
        Need(4, field);
        int v = BinaryPrimitives.ReadInt32LittleEndian(_payload[Position..]);
        Position += 4;
        return v;
    }

    public float ReadSingle(string field)
    {
        Need(4, field);
        float v = BinaryPrimitives.ReadSingleLittleEndian(_payload[Position..]);
        Position += 4;
        return v;
    }

    public ulong ReadUInt64(string field)
    {
        Need(8, field);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(_payload[Position..]);
        Position += 8;
        return v;
    }

    /// <summary>The next <paramref name="count"/> bytes (count ≥ 0 as a long, to catch overflowing sizes).</summary>
    public ReadOnlySpan<byte> ReadBytes(long count, string field)
    {
        if (count < 0 || count > Remaining)
            throw Error(field, $"truncated: needs {count} byte(s) at offset {Position}, but the payload ends at {_payload.Length}.");
        var s = _payload.Slice(Position, (int)count);
        Position += (int)count;
        return s;
    }

    /// <summary>Throws unless the payload ends exactly here.</summary>
    public readonly void End()
    {
        if (Remaining != 0)
            throw Error("length", $"{Remaining} unexpected trailing byte(s): the payload should end at offset {Position} but is {_payload.Length} bytes long.");
    }
}

/// <summary>Sequential little-endian writes after a header.</summary>
internal ref struct PayloadWriter
{
    private readonly Span<byte> _destination;

    public PayloadWriter(Span<byte> destination, CodecId codec, int dimension)
    {
        _destination = destination;
        Position = Payload.WriteHeader(destination, codec, dimension);
    }

    public int Position { get; private set; }

    public void WriteByte(byte value) => _destination[Position++] = value;

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_destination[Position..], value);
        Position += 4;
    }

    public void WriteSingle(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(_destination[Position..], value);
        Position += 4;
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_destination[Position..], value);
        Position += 8;
    }
}
