using System.Runtime.InteropServices;
using System.Text;

namespace Flock.Protocols;

/// <summary>
/// Writes checkpoint state in a compact little-endian binary form. Messages are written once and
/// referenced afterwards, so a snapshot shared by several in-flight messages or buffers is stored
/// (and restored) once. Pair with <see cref="StateReader"/>, reading in the same order.
/// </summary>
public sealed class StateWriter : IDisposable
{
    private readonly BinaryWriter _writer;
    private readonly Dictionary<Message, int> _messages = new(ReferenceEqualityComparer.Instance);

    /// <summary>Creates a writer on <paramref name="stream"/> (left open).</summary>
    public StateWriter(Stream stream) => _writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);

    /// <summary>Writes an int.</summary>
    public void Write(int value) => _writer.Write(value);

    /// <summary>Writes a long.</summary>
    public void Write(long value) => _writer.Write(value);

    /// <summary>Writes an unsigned long.</summary>
    public void Write(ulong value) => _writer.Write(value);

    /// <summary>Writes a double.</summary>
    public void Write(double value) => _writer.Write(value);

    /// <summary>Writes a bool.</summary>
    public void Write(bool value) => _writer.Write(value);

    /// <summary>Writes a string.</summary>
    public void Write(string value) => _writer.Write(value);

    /// <summary>Writes a length-prefixed float vector.</summary>
    public void WriteFloats(ReadOnlySpan<float> values)
    {
        _writer.Write(values.Length);
        _writer.Write(MemoryMarshal.AsBytes(values));
    }

    /// <summary>Writes a length-prefixed double vector.</summary>
    public void WriteDoubles(ReadOnlySpan<double> values)
    {
        _writer.Write(values.Length);
        _writer.Write(MemoryMarshal.AsBytes(values));
    }

    /// <summary>Writes a length-prefixed int vector.</summary>
    public void WriteInts(ReadOnlySpan<int> values)
    {
        _writer.Write(values.Length);
        _writer.Write(MemoryMarshal.AsBytes(values));
    }

    /// <summary>Writes a length-prefixed byte vector.</summary>
    public void WriteBytes(ReadOnlySpan<byte> values)
    {
        _writer.Write(values.Length);
        _writer.Write(values);
    }

    /// <summary>Writes a message (or null); a message already written is written as a reference.</summary>
    public void WriteMessage(Message? message)
    {
        if (message is null) { _writer.Write(-1); return; }
        if (_messages.TryGetValue(message, out int id)) { _writer.Write(id); return; }
        id = _messages.Count;
        _messages.Add(message, id);
        _writer.Write(id);
        _writer.Write(message.Kind);
        _writer.Write(message.Round);
        WriteFloats(message.Model.Span);
        WriteDoubles(message.Scalars.Span);
        WriteBytes(message.Data.Span);
        _writer.Write(message.HasExplicitSize);
        _writer.Write(message.SizeBytes);
    }

    /// <summary>Flushes the underlying stream.</summary>
    public void Flush() => _writer.Flush();

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();
}
