using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Who is encoding and when: the experiment seed, the sending node and the round (the number of
/// the <c>Encode</c> call in the node's sequence, 0-based; schedules such as DGC's warm-up read
/// it). Every random draw of a compressor comes from a generator derived from these three values
/// and a purpose string, so encoding is reproducible and never shares randomness between nodes.
/// </summary>
public readonly struct CompressionContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="seed">The experiment seed.</param>
    /// <param name="node">The sending node's id.</param>
    /// <param name="round">The round (0-based, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="round"/> is negative.</exception>
    public CompressionContext(ulong seed, ulong node, long round)
    {
        if (round < 0) throw new ArgumentOutOfRangeException(nameof(round), round, $"Invalid round: {round}; must be ≥ 0.");
        Seed = seed;
        Node = node;
        Round = round;
    }

    /// <summary>The experiment seed.</summary>
    public ulong Seed { get; }

    /// <summary>The sending node's id.</summary>
    public ulong Node { get; }

    /// <summary>The round, 0-based.</summary>
    public long Round { get; }

    /// <summary>A generator for (seed, node, round, <paramref name="purpose"/>), private to this node and round.</summary>
    public Rng CreateRng(string purpose) => Rng.Derive(Seed, Node, (ulong)Round, purpose);

    /// <summary>A 64-bit seed for (seed, node, round, <paramref name="purpose"/>), private to this node and round.</summary>
    public ulong DeriveSeed(string purpose) => Rng.DeriveSeed(Seed, Node, (ulong)Round, Rng.StableHash(purpose));

    /// <summary>
    /// A 64-bit seed for (seed, round, <paramref name="purpose"/>) that is the same for every node:
    /// shared randomness, e.g. one sketch matrix for all nodes of a round so that sketches can be
    /// summed before de-sketching.
    /// </summary>
    public ulong DeriveSharedSeed(string purpose) => Rng.DeriveSeed(Seed, 0x5348415245444E44UL, (ulong)Round, Rng.StableHash(purpose));

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"(seed {Seed}, node {Node}, round {Round})");
}
