using System.Numerics.Tensors;

namespace Flock.Attacks;

/// <summary>
/// Inner-product manipulation (IPM, also called "Fall of Empires", FOE): every Byzantine node sends
/// <c>v = −ε·mean(honest)</c>, so the aggregate's inner product with the true gradient turns
/// negative while a small ε keeps the crafted vector close enough to pass robust rules. From
/// "Fall of Empires: Breaking Byzantine-tolerant SGD by Inner Product Manipulation" (Xie, Koyejo
/// &amp; Gupta, UAI 2020); the paper uses ε = 0.1 against Krum and ε = 100 against the median.
/// Omniscient: the mean is over <see cref="AttackContext.Honest"/> (the attacker's own vector alone
/// when none are observed). byzfl's <c>FallOfEmpires(τ)</c> sends (1 − τ)·mean, i.e. ε = τ − 1.
/// </summary>
public sealed class InnerProductManipulation : IModelAttack
{
    /// <summary>Default ε.</summary>
    public const float DefaultEpsilon = 0.1f;

    private readonly AttackParameter[] _parameters;

    /// <summary>Creates the attack.</summary>
    /// <param name="epsilon">The factor ε (finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is negative or not finite.</exception>
    public InnerProductManipulation(float epsilon = DefaultEpsilon)
    {
        Epsilon = AttackCheck.NonNegative(epsilon, nameof(epsilon), "IPM epsilon");
        _parameters = [new("epsilon", Epsilon, DefaultEpsilon, "Attack factor ε: sends −ε·mean(honest); finite, ≥ 0 (the paper uses 0.1 and 100).")];
    }

    /// <summary>The factor ε.</summary>
    public float Epsilon { get; }

    /// <inheritdoc />
    public string Name => "ipm";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => _parameters;

    /// <inheritdoc />
    public bool UsesHonestVectors => true;

    /// <inheritdoc />
    public bool UsesAggregator => false;

    /// <summary>Registry description with defaults.</summary>
    public static AttackInfo Describe() => new("ipm", AttackKind.Model,
        "Fall of Empires: Breaking Byzantine-tolerant SGD by Inner Product Manipulation (Xie, Koyejo & Gupta, 2020)",
        "Inner-product manipulation (FOE): sends −epsilon·mean(honest).", new InnerProductManipulation().Parameters);

    /// <inheritdoc />
    public void Craft(AttackContext context, Span<float> output)
    {
        AttackCheck.Context(context, output.Length, Name);
        VectorStats.Mean(context.Observed, output);
        TensorPrimitives.Multiply(output, -Epsilon, output);
    }

    /// <summary>The IPM kernel: <c>output = −ε·mean</c>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Apply(ReadOnlySpan<float> mean, float epsilon, Span<float> output)
    {
        if (mean.Length != output.Length) throw new ArgumentException($"The output has {output.Length} elements but the mean has {mean.Length}.", nameof(output));
        TensorPrimitives.Multiply(mean, -epsilon, output);
    }
}
