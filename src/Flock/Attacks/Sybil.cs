using Flock.Tensors;

namespace Flock.Attacks;

/// <summary>
/// Sybil attack: one adversary behind <see cref="Identities"/> identities, all sending the same
/// poisoned vector (crafted once by <see cref="Inner"/>) plus a small independent noise per
/// identity, U[−s/2, s/2) per coordinate with s = <see cref="NoiseScale"/>, so any two identities'
/// vectors differ by at most s in every coordinate (‖v_a − v_b‖∞ ≤ s). Identities are cheap and
/// near-identical, which is the signature similarity-based defences (FoolsGold, SybilWall) look for.
/// From "The Sybil Attack" (Douceur, IPTPS 2002); the federated setting of near-identical poisoned
/// updates is that of "The Limitations of Federated Learning in Sybil Settings" (Fung, Yoon &amp;
/// Beschastnikh, RAID 2020).
/// </summary>
/// <remarks>
/// Determinism: the base vector and the noise come from generators derived from one 64-bit value
/// drawn from <see cref="AttackContext.Rng"/>, so <see cref="CraftAll"/> with one context and
/// <see cref="Craft"/> per identity (each with <see cref="AttackContext.Identity"/> set and a
/// generator derived from the same (seed, adversary, round)) give the same vectors.
/// </remarks>
public sealed class Sybil : IModelAttack
{
    /// <summary>Default noise scale s.</summary>
    public const float DefaultNoiseScale = 1e-4f;

    private readonly AttackParameter[] _parameters;

    /// <summary>Creates the attack.</summary>
    /// <param name="inner">The model attack whose vector every identity sends.</param>
    /// <param name="identities">Number of identities k (≥ 1).</param>
    /// <param name="noiseScale">Noise scale s: each identity adds U[−s/2, s/2) per coordinate (finite, ≥ 0).</param>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="identities"/> or <paramref name="noiseScale"/> is out of range.</exception>
    public Sybil(IModelAttack inner, int identities, float noiseScale = DefaultNoiseScale)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        Identities = AttackCheck.AtLeast(identities, 1, nameof(identities), "number of Sybil identities");
        NoiseScale = AttackCheck.NonNegative(noiseScale, nameof(noiseScale), "Sybil noise scale");
        _parameters =
        [
            new("attack", inner.Name, "sign-flipping", "The model attack every identity sends."),
            new("identities", Identities, 1, "Identities k controlled by the adversary; ≥ 1."),
            new("noise_scale", NoiseScale, DefaultNoiseScale, "Per-identity noise U[−s/2, s/2) per coordinate, so identities differ by ≤ s; finite, ≥ 0."),
        ];
    }

    /// <summary>The attack every identity sends.</summary>
    public IModelAttack Inner { get; }

    /// <summary>Number of identities k.</summary>
    public int Identities { get; }

    /// <summary>Noise scale s.</summary>
    public float NoiseScale { get; }

    /// <inheritdoc />
    public string Name => "sybil";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => _parameters;

    /// <inheritdoc />
    public bool UsesHonestVectors => Inner.UsesHonestVectors;

    /// <inheritdoc />
    public bool UsesAggregator => Inner.UsesAggregator;

    /// <summary>Registry description with defaults.</summary>
    public static AttackInfo Describe() => new("sybil", AttackKind.Sybil,
        "The Sybil Attack (Douceur, 2002); The Limitations of Federated Learning in Sybil Settings (Fung, Yoon & Beschastnikh, 2020)",
        "One adversary, k identities sending the same crafted vector plus tiny seeded noise.", new Sybil(new SignFlipping(), 1).Parameters);

    /// <summary>Writes the vector of identity <see cref="AttackContext.Identity"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The identity is not in [0, k), or the context's n or f is invalid.</exception>
    /// <exception cref="ArgumentException">A vector of the context, or the output, has the wrong length.</exception>
    public void Craft(AttackContext context, Span<float> output)
    {
        AttackCheck.Context(context, output.Length, Name);
        if ((uint)context.Identity >= (uint)Identities)
            throw new ArgumentOutOfRangeException(nameof(context), context.Identity, $"Invalid Sybil identity {context.Identity}; must be in [0, {Identities}).");
        ulong seed = context.Rng.NextUInt64();
        Inner.Craft(context with { Rng = new Rng(Rng.DeriveSeed(seed, 0)) }, output);
        AddNoise(output, seed, context.Identity);
    }

    /// <summary>Writes the vectors of all k identities into <paramref name="outputs"/> (k × d, row-major), crafting the base vector once.</summary>
    /// <exception cref="ArgumentException"><paramref name="outputs"/> is not k × d, or a vector of the context has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The context's n or f is invalid.</exception>
    public void CraftAll(AttackContext context, Span<float> outputs)
    {
        ArgumentNullException.ThrowIfNull(context);
        int d = context.Dimension;
        if (outputs.Length != (long)Identities * d)
            throw new ArgumentException($"The outputs have {outputs.Length} elements; expected {Identities} identities × {d} = {(long)Identities * d}.", nameof(outputs));
        AttackCheck.Context(context, d, Name);
        ulong seed = context.Rng.NextUInt64();
        var first = outputs[..d];
        Inner.Craft(context with { Rng = new Rng(Rng.DeriveSeed(seed, 0)) }, first);
        for (int i = 1; i < Identities; i++) first.CopyTo(outputs.Slice(i * d, d));
        for (int i = 0; i < Identities; i++) AddNoise(outputs.Slice(i * d, d), seed, i);
    }

    private void AddNoise(Span<float> v, ulong seed, int identity)
    {
        if (NoiseScale == 0) return;
        var rng = new Rng(Rng.DeriveSeed(seed, (ulong)identity + 1));
        float half = 0.5f * NoiseScale;
        for (int j = 0; j < v.Length; j++) v[j] += NoiseScale * rng.NextFloat() - half;
    }
}
