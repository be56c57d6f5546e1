namespace Flock.Protocols;

/// <summary>
/// The messages a synchronous-round protocol (D-SGD, CHOCO-SGD, SybilWall, Bristle) has received, by round and by neighbour slot, and their checkpoint form. A round's
/// slots are created by its first message, with one slot per neighbour of that round.
/// </summary>
internal sealed class RoundInbox
{
    private readonly SortedDictionary<long, Message?[]> _rounds = new();

    /// <summary>The slots of <paramref name="round"/>, created (all empty, <paramref name="width"/> of them) if none arrived yet.</summary>
    public Message?[] SlotsFor(long round, int width)
    {
        if (!_rounds.TryGetValue(round, out var slots)) _rounds[round] = slots = new Message?[width];
        return slots;
    }

    /// <summary>The slots of <paramref name="round"/>, if any message of it arrived.</summary>
    public bool TryGet(long round, out Message?[] slots) => _rounds.TryGetValue(round, out slots!);

    /// <summary>Removes and returns the slots of <paramref name="round"/> (null if none arrived).</summary>
    public Message?[]? Take(long round) => _rounds.Remove(round, out var slots) ? slots : null;

    /// <summary>Drops every round before <paramref name="round"/>.</summary>
    public void DropBefore(long round)
    {
        while (_rounds.Count > 0 && _rounds.Keys.First() < round) _rounds.Remove(_rounds.Keys.First());
    }

    /// <summary>Whether every one of the <paramref name="width"/> slots of <paramref name="round"/> holds a message (true for no neighbours).</summary>
    public bool IsComplete(long round, int width)
    {
        if (!_rounds.TryGetValue(round, out var slots)) return width == 0;
        foreach (var m in slots) if (m is null) return false;
        return true;
    }

    /// <summary>Whether every slot of <paramref name="round"/> marked in <paramref name="needed"/> holds a message.</summary>
    public bool IsComplete(long round, bool[] needed)
    {
        if (!_rounds.TryGetValue(round, out var slots)) return !needed.Contains(true);
        for (int k = 0; k < slots.Length; k++) if (needed[k] && slots[k] is null) return false;
        return true;
    }

    /// <summary>Writes the rounds and their slots.</summary>
    public void Write(StateWriter writer)
    {
        writer.Write(_rounds.Count);
        foreach (var (round, slots) in _rounds)
        {
            writer.Write(round);
            foreach (var m in slots) writer.WriteMessage(m);
        }
    }

    /// <summary>Replaces the contents with what <see cref="Write"/> wrote; <paramref name="widthOf"/> gives each round's number of slots.</summary>
    public void Read(StateReader reader, Func<long, int> widthOf)
    {
        _rounds.Clear();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            long round = reader.ReadInt64();
            var slots = new Message?[widthOf(round)];
            for (int k = 0; k < slots.Length; k++) slots[k] = reader.ReadMessage();
            _rounds[round] = slots;
        }
    }
}

/// <summary>Timer helpers for node behaviours.</summary>
internal static class NodeTimers
{
    /// <summary>Cancels the pending timer <paramref name="timer"/> (−1: none) and sets it to −1.</summary>
    public static void Cancel(INodeContext context, ref long timer)
    {
        if (timer >= 0) context.CancelTimer(timer);
        timer = -1;
    }
}
