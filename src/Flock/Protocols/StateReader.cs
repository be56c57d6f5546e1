using System.Runtime.InteropServices;
using System.Text;

namespace Flock.Protocols;

/// <summary>Reads what a <see cref="StateWriter"/> wrote, in the same order.</summary>
public sealed class StateReader : IDisposable
{
    private readonly BinaryReader _reader;
    private readonly List<Message> _messages = new();

    /// <summary>Creates a reader on <paramref name="stream"/> (left open).</summary>
    public StateReader(Stream stream) => _reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);

    /// <summary>Reads an int.</summary>
    public int ReadInt32() => _reader.ReadInt32();

    /// <summary>Reads a long.</summary>
    public long ReadInt64() => _reader.ReadInt64();

    /// <summary>Reads an unsigned long.</summary>
    public ulong ReadUInt64() => _reader.ReadUInt64();

    /// <summary>Reads a double.</summary>
    public double ReadDouble() => _reader.ReadDouble();

    /// <summary>Reads a bool.</summary>
    public bool ReadBoolean() => _reader.ReadBoolean();

    /// <summary>Reads a string.</summary>
    public string ReadString() => _reader.ReadString();

    private int ReadLength()
    {
        int n = _reader.ReadInt32();
        if (n < 0) throw new InvalidDataException($"Corrupt checkpoint: negative vector length {n}.");
        return n;
    }

    /// <summary>Reads a float vector.</summary>
    /// <exception cref="InvalidDataException">The data is corrupt.</exception>
    public float[] ReadFloats()
    {
        var a = new float[ReadLength()];
        ReadExactly(MemoryMarshal.AsBytes(a.AsSpan()));
        return a;
    }

    /// <summary>Reads a float vector into <paramref name="destination"/>, which must have the stored length.</summary>
    /// <exception cref="InvalidDataException">The stored length differs.</exception>
    public void ReadFloatsInto(Span<float> destination, string what)
    {
        int n = ReadLength();
        if (n != destination.Length) throw new InvalidDataException($"Checkpoint {what} has {n} floats but this configuration needs {destination.Length}.");
        ReadExactly(MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Reads a double vector.</summary>
    public double[] ReadDoubles()
    {
        var a = new double[ReadLength()];
        ReadExactly(MemoryMarshal.AsBytes(a.AsSpan()));
        return a;
    }

    /// <summary>Reads an int vector.</summary>
    public int[] ReadInts()
    {
        var a = new int[ReadLength()];
        ReadExactly(MemoryMarshal.AsBytes(a.AsSpan()));
        return a;
    }

    /// <summary>Reads a byte vector.</summary>
    public byte[] ReadBytes()
    {
        var a = new byte[ReadLength()];
        ReadExactly(a);
        return a;
    }

    private void ReadExactly(Span<byte> destination)
    {
        try { _reader.BaseStream.ReadExactly(destination); }
        catch (EndOfStreamException e) { throw new InvalidDataException("Corrupt checkpoint: unexpected end of data.", e); }
    }

    /// <summary>Reads a message (or null) written by <see cref="StateWriter.WriteMessage"/>.</summary>
    /// <exception cref="InvalidDataException">The data is corrupt.</exception>
    public Message? ReadMessage()
    {
        int id = _reader.ReadInt32();
        if (id == -1) return null;
        if (id < _messages.Count) return _messages[id];
        if (id != _messages.Count) throw new InvalidDataException($"Corrupt checkpoint: message id {id}, expected {_messages.Count}.");
        string kind = _reader.ReadString();
        long round = _reader.ReadInt64();
        var model = ReadFloats();
        var scalars = ReadDoubles();
        var data = ReadBytes();
        bool explicitSize = _reader.ReadBoolean();
        long size = _reader.ReadInt64();
        var m = new Message(kind, round, model, scalars, data, explicitSize ? size : null);
        _messages.Add(m);
        return m;
    }

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();
}
