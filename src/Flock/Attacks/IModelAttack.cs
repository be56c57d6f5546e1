namespace Flock.Attacks;

/// <summary>
/// A model-poisoning attack: a Byzantine node replaces the vector it should send (gradient, update
/// or model) by a crafted one. Implementations are stateless and validated once at construction,
/// so one instance serves every Byzantine node and thread; all randomness comes from
/// <see cref="AttackContext.Rng"/>.
/// </summary>
public interface IModelAttack
{
    /// <summary>Registry name (e.g. <c>"alie"</c>).</summary>
    string Name { get; }

    /// <summary>The parameters of this instance, with their defaults and docs.</summary>
    IReadOnlyList<AttackParameter> Parameters { get; }

    /// <summary>True when the attack reads <see cref="AttackContext.Honest"/> (omniscient attacks).</summary>
    bool UsesHonestVectors { get; }

    /// <summary>True when the attack needs <see cref="AttackContext.Aggregator"/>.</summary>
    bool UsesAggregator { get; }

    /// <summary>Writes the vector to send into <paramref name="output"/> (of length <see cref="AttackContext.Dimension"/>).</summary>
    /// <exception cref="ArgumentException">A vector of the context, or the output, has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The context's n or f is invalid.</exception>
    /// <exception cref="InvalidOperationException">The context lacks something the attack needs (documented per attack).</exception>
    void Craft(AttackContext context, Span<float> output);
}
