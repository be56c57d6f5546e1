namespace Flock.Protocols;

/// <summary>
/// A message between two nodes: a <see cref="Kind"/>, a <see cref="Round"/> number, a few
/// <see cref="Scalars"/>, and an optional payload — a flat model snapshot (<see cref="Model"/>)
/// and/or encoded bytes (<see cref="Data"/>, e.g. from a compressor). A message is immutable once
/// sent: the sender must not modify the arrays behind it, receivers only read them, and one message
/// object may be sent to several peers (the simulator then shares one snapshot between them).
/// </summary>
/// <remarks>
/// Its wire size (<see cref="SizeBytes"/>) is exact and drives the link model and the byte
/// counters: <see cref="HeaderBytes"/> + 4 bytes per model float + 8 bytes per scalar + the encoded
/// bytes, unless the sender states the size itself (a compression layer that knows its encoding).
/// </remarks>
public sealed class Message
{
    /// <summary>Fixed header size in bytes (kind id, round, sender, lengths) counted for every message.</summary>
    public const int HeaderBytes = 32;

    /// <summary>Creates a message. The memory passed in is referenced, not copied (see <see cref="WithModel"/> to copy).</summary>
    /// <param name="kind">What the message is (protocol-defined, e.g. <c>"dsgd/model"</c>).</param>
    /// <param name="round">The round it belongs to (or any protocol counter; ≥ 0).</param>
    /// <param name="model">A flat model snapshot, or empty.</param>
    /// <param name="scalars">A few scalars (sample counts, ages, ...), or empty.</param>
    /// <param name="data">Encoded bytes (compressed updates, ...), or empty.</param>
    /// <param name="sizeBytes">The exact wire size if the sender knows better than the default formula; null for the default.</param>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="round"/> or <paramref name="sizeBytes"/> is negative.</exception>
    public Message(string kind, long round, ReadOnlyMemory<float> model = default, ReadOnlyMemory<double> scalars = default,
        ReadOnlyMemory<byte> data = default, long? sizeBytes = null)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (kind.Length == 0) throw new ArgumentException("Message kind must not be empty.", nameof(kind));
        if (round < 0) throw new ArgumentOutOfRangeException(nameof(round), round, $"Invalid message round: {round}; must be ≥ 0.");
        if (sizeBytes is < 0) throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, $"Invalid message size: {sizeBytes} bytes; must be ≥ 0.");
        Kind = kind;
        Round = round;
        Model = model;
        Scalars = scalars;
        Data = data;
        SizeBytes = sizeBytes ?? ComputeSize(model.Length, scalars.Length, data.Length);
        HasExplicitSize = sizeBytes.HasValue;
    }

    /// <summary>Creates a message carrying a fresh copy of <paramref name="model"/> (a snapshot the sender may keep training past).</summary>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="round"/> is negative.</exception>
    public static Message WithModel(string kind, long round, ReadOnlySpan<float> model, params ReadOnlySpan<double> scalars) =>
        new(kind, round, model.ToArray(), scalars.IsEmpty ? default : scalars.ToArray());

    /// <summary>The default wire size: header + 4 bytes per float + 8 bytes per scalar + encoded bytes.</summary>
    public static long ComputeSize(int modelFloats, int scalars, int dataBytes) =>
        HeaderBytes + 4L * modelFloats + 8L * scalars + dataBytes;

    /// <summary>What the message is (protocol-defined).</summary>
    public string Kind { get; }

    /// <summary>The round (or protocol counter) it belongs to.</summary>
    public long Round { get; }

    /// <summary>The flat model snapshot (empty if none). Read-only by contract.</summary>
    public ReadOnlyMemory<float> Model { get; }

    /// <summary>Small scalars (empty if none).</summary>
    public ReadOnlyMemory<double> Scalars { get; }

    /// <summary>Encoded payload bytes (empty if none).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Exact size on the wire in bytes.</summary>
    public long SizeBytes { get; }

    /// <summary>True when the sender stated <see cref="SizeBytes"/> instead of the default formula.</summary>
    public bool HasExplicitSize { get; }

    /// <summary>Scalar number <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The message has no such scalar.</exception>
    public double Scalar(int index)
    {
        if ((uint)index >= (uint)Scalars.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Message '{Kind}' has {Scalars.Length} scalars.");
        return Scalars.Span[index];
    }

    /// <inheritdoc />
    public override string ToString() => $"{Kind}(round {Round}, {Model.Length} floats, {Scalars.Length} scalars, {Data.Length} bytes, {SizeBytes} B)";
}
