namespace Flock.Protocols;

/// <summary>The bounded log of rejected messages a node keeps (part of its checkpointed state).</summary>
internal sealed class RejectionLog
{
    /// <summary>Most rejections kept (the oldest are dropped; <see cref="Count"/> counts all).</summary>
    public const int Capacity = 1000;

    private readonly Queue<RejectedMessage> _items = new();

    /// <summary>Rejections so far.</summary>
    public long Count { get; private set; }

    /// <summary>The most recent rejections, oldest first.</summary>
    public IReadOnlyList<RejectedMessage> Items => _items.ToArray();

    /// <summary>Records a rejection and returns it.</summary>
    public RejectedMessage Add(long round, int from, string reason)
    {
        var r = new RejectedMessage(round, from, reason);
        Count++;
        _items.Enqueue(r);
        while (_items.Count > Capacity) _items.Dequeue();
        return r;
    }

    public void Write(StateWriter writer)
    {
        writer.Write(Count);
        writer.Write(_items.Count);
        foreach (var r in _items) { writer.Write(r.Round); writer.Write(r.From); writer.Write(r.Reason); }
    }

    public void Read(StateReader reader)
    {
        Count = reader.ReadInt64();
        _items.Clear();
        int n = reader.ReadInt32();
        if (n < 0 || n > Capacity) throw new InvalidDataException($"Corrupt checkpoint: {n} logged rejections (at most {Capacity}).");
        for (int i = 0; i < n; i++) _items.Enqueue(new RejectedMessage(reader.ReadInt64(), reader.ReadInt32(), reader.ReadString()));
    }
}
