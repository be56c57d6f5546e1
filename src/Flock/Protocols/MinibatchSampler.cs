using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>
/// Draws minibatches of positions in [0, count) without replacement within an epoch: an
/// incremental Fisher–Yates shuffle of a permutation that starts as the identity; when the
/// permutation is used up a new epoch starts (a batch may span two epochs). The stream depends only
/// on the generator, so local training is reproducible.
/// </summary>
public sealed class MinibatchSampler
{
    private readonly int[] _permutation;
    private readonly int _count;
    private readonly Rng _rng;
    private int _next;

    /// <summary>Creates a sampler over <paramref name="count"/> positions.</summary>
    /// <param name="count">Number of examples (positions 0..count−1).</param>
    /// <param name="rng">The batch stream (e.g. <c>Rng.Derive(seed, node, round, "batches")</c>).</param>
    /// <param name="buffer">Scratch of at least <paramref name="count"/> ints to hold the permutation (allocated if null).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> is shorter than <paramref name="count"/>.</exception>
    public MinibatchSampler(int count, Rng rng, int[]? buffer = null)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "Cannot sample minibatches from an empty dataset.");
        ArgumentNullException.ThrowIfNull(rng);
        if (buffer is not null && buffer.Length < count) throw new ArgumentException($"Buffer of {buffer.Length} ints is shorter than the {count} examples.", nameof(buffer));
        _permutation = buffer ?? new int[count];
        for (int i = 0; i < count; i++) _permutation[i] = i;
        _count = count;
        _rng = rng;
    }

    /// <summary>Fills <paramref name="positions"/> with the next batch.</summary>
    public void Next(Span<int> positions)
    {
        var perm = _permutation;
        for (int b = 0; b < positions.Length; b++)
        {
            if (_next == _count) _next = 0;
            int j = _next + _rng.NextInt(_count - _next);
            (perm[_next], perm[j]) = (perm[j], perm[_next]);
            positions[b] = perm[_next++];
        }
    }
}
