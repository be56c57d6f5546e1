using Flock.Aggregation;
using Flock.Tensors;

namespace Flock.Attacks;

/// <summary>
/// What a Byzantine node knows when it crafts the vector it sends in one round: its own honest
/// vector, the honest vectors it can observe, the aggregator in use, n and f, and a random stream.
/// Immutable; derive variants with <c>with { ... }</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Omniscience.</b> Most attacks of the literature (IPM, ALIE, mimic, the "optimal" variants) are
/// evaluated with an omniscient attacker that sees the honest vectors of the round;
/// <see cref="Honest"/> carries them. A simulator that wants a non-omniscient attacker passes the
/// vectors the colluding Byzantine nodes computed honestly on their own data (the setting of the
/// ALIE paper), or nothing: when <see cref="Honest"/> is empty, attacks that need honest
/// statistics use <see cref="Own"/> alone (mean = own vector, standard deviation 0).
/// </para>
/// <para>
/// <b>Randomness.</b> <see cref="Rng"/> must be derived for this attacker and round
/// (<c>Rng.Derive(seed, node, round, "attack")</c>); attacks draw from it and nothing else. For a
/// Sybil adversary, every identity gets a context whose generator is derived from the same
/// (seed, adversary, round), so that all identities craft the same base vector.
/// </para>
/// </remarks>
public sealed record AttackContext
{
    /// <summary>The vector the attacker would have sent had it been honest (its gradient, update or model); fixes the dimension.</summary>
    public required ReadOnlyMemory<float> Own { get; init; }

    /// <summary>The honest vectors the attacker observes (omniscient attacks); may be empty.</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> Honest { get; init; } = [];

    /// <summary>The aggregator in use, for attacks optimised against it; null when unknown.</summary>
    public IAggregator? Aggregator { get; init; }

    /// <summary>Total number of nodes n taking part in the aggregation (honest and Byzantine).</summary>
    public int NodeCount { get; init; } = 1;

    /// <summary>Number of Byzantine nodes f among the n (all of them send the crafted vector).</summary>
    public int ByzantineCount { get; init; }

    /// <summary>The attacker's random stream for this round.</summary>
    public required Rng Rng { get; init; }

    /// <summary>Index of this identity among the identities of one Sybil adversary (0 otherwise).</summary>
    public int Identity { get; init; }

    /// <summary>Vector length d.</summary>
    public int Dimension => Own.Length;

    /// <summary>The vectors honest statistics are computed from: <see cref="Honest"/>, or <see cref="Own"/> alone when it is empty.</summary>
    internal IReadOnlyList<ReadOnlyMemory<float>> Observed => Honest.Count > 0 ? Honest : [Own];
}
