using Flock.Tensors;

namespace Flock.Attacks;

/// <summary>Where the Byzantine nodes sit.</summary>
public enum AttackerPlacement
{
    /// <summary>Uniformly random nodes.</summary>
    Random,

    /// <summary>The highest-degree nodes of the graph ("hubs"), ties broken at random.</summary>
    Hubs,
}

/// <summary>
/// Chooses which nodes are Byzantine: by count or fraction, at random or at the hubs of a graph
/// given as neighbour lists or degrees (no dependency on the topology code). Deterministic for a
/// given generator; results are node ids in increasing order.
/// </summary>
public static class AttackerSelection
{
    /// <summary>The number of Byzantine nodes for a fraction: ⌊fraction·n⌋ (with a 1e-9 guard against decimal round-off, so 0.3·10 = 3).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nodeCount"/> &lt; 0, or <paramref name="fraction"/> not in [0, 1].</exception>
    public static int CountFromFraction(int nodeCount, double fraction)
    {
        AttackCheck.AtLeast(nodeCount, 0, nameof(nodeCount), "node count");
        if (!(fraction >= 0 && fraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"Invalid Byzantine fraction: {fraction}; must be in [0, 1].");
        return (int)Math.Floor(fraction * nodeCount + 1e-9);
    }

    /// <summary><paramref name="count"/> distinct nodes of [0, n) chosen uniformly with <paramref name="rng"/>, in increasing order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not in [0, n].</exception>
    public static int[] Random(int nodeCount, int count, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        CheckCount(nodeCount, count);
        var ids = new int[nodeCount];
        for (int i = 0; i < nodeCount; i++) ids[i] = i;
        // Partial Fisher–Yates: the first `count` slots end up a uniform sample.
        for (int i = 0; i < count; i++)
        {
            int j = i + rng.NextInt(nodeCount - i);
            (ids[i], ids[j]) = (ids[j], ids[i]);
        }
        var chosen = ids[..count];
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>
    /// The <paramref name="count"/> nodes of highest degree, in increasing id order. Ties at the
    /// cut are broken by a random order drawn from <paramref name="tieBreak"/>, or by lowest id when it is null.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not in [0, n], or a degree is negative.</exception>
    public static int[] Hubs(ReadOnlySpan<int> degrees, int count, Rng? tieBreak = null)
    {
        int n = degrees.Length;
        CheckCount(n, count);
        for (int i = 0; i < n; i++)
            if (degrees[i] < 0) throw new ArgumentOutOfRangeException(nameof(degrees), degrees[i], $"Invalid degree {degrees[i]} of node {i}; must be ≥ 0.");
        var ids = new int[n];
        var keys = new long[n];
        for (int i = 0; i < n; i++) ids[i] = i;
        if (tieBreak is not null) tieBreak.Shuffle(ids.AsSpan());
        // Sort by (degree descending, position in the — possibly shuffled — order): stable and deterministic.
        for (int p = 0; p < n; p++) keys[p] = ((long)(int.MaxValue - degrees[ids[p]]) << 32) | (uint)p;
        Array.Sort(keys, ids);
        var chosen = ids[..count];
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>The hubs of a graph given as neighbour lists (degree = list length); see <see cref="Hubs(ReadOnlySpan{int}, int, Rng?)"/>.</summary>
    /// <exception cref="ArgumentException">A neighbour list is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not in [0, n].</exception>
    public static int[] Hubs(IReadOnlyList<int[]> neighbours, int count, Rng? tieBreak = null)
    {
        ArgumentNullException.ThrowIfNull(neighbours);
        var degrees = new int[neighbours.Count];
        for (int i = 0; i < degrees.Length; i++)
            degrees[i] = (neighbours[i] ?? throw new ArgumentException($"The neighbour list of node {i} is null.", nameof(neighbours))).Length;
        return Hubs(degrees, count, tieBreak);
    }

    /// <summary>Chooses <paramref name="count"/> Byzantine nodes by <paramref name="placement"/>.</summary>
    /// <param name="placement">Random or hubs.</param>
    /// <param name="nodeCount">n.</param>
    /// <param name="count">How many (0 ≤ count ≤ n).</param>
    /// <param name="rng">The selection generator (random choice, or hub tie-breaks).</param>
    /// <param name="degrees">Node degrees, required for <see cref="AttackerPlacement.Hubs"/> (length n).</param>
    /// <exception cref="ArgumentException">Hubs without degrees of length n.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not in [0, n], or the placement is unknown.</exception>
    public static int[] Select(AttackerPlacement placement, int nodeCount, int count, Rng rng, ReadOnlySpan<int> degrees = default)
    {
        switch (placement)
        {
            case AttackerPlacement.Random:
                return Random(nodeCount, count, rng);
            case AttackerPlacement.Hubs:
                if (degrees.Length != nodeCount)
                    throw new ArgumentException($"Hub placement needs the degrees of all {nodeCount} nodes; got {degrees.Length}.", nameof(degrees));
                return Hubs(degrees, count, rng);
            default:
                throw new ArgumentOutOfRangeException(nameof(placement), placement, $"Invalid attacker placement: {placement}; must be one of: {string.Join(", ", Enum.GetNames<AttackerPlacement>())}.");
        }
    }

    /// <summary>A membership mask of length n: true for the ids in <paramref name="byzantine"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, n).</exception>
    public static bool[] Mask(int nodeCount, ReadOnlySpan<int> byzantine)
    {
        AttackCheck.AtLeast(nodeCount, 0, nameof(nodeCount), "node count");
        var mask = new bool[nodeCount];
        foreach (int id in byzantine)
        {
            if ((uint)id >= (uint)nodeCount) throw new ArgumentOutOfRangeException(nameof(byzantine), id, $"Invalid node id {id}; must be in [0, {nodeCount}).");
            mask[id] = true;
        }
        return mask;
    }

    private static void CheckCount(int nodeCount, int count)
    {
        AttackCheck.AtLeast(nodeCount, 0, nameof(nodeCount), "node count");
        if (count < 0 || count > nodeCount)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Invalid number of Byzantine nodes: {count}; must be in [0, n = {nodeCount}].");
    }
}
