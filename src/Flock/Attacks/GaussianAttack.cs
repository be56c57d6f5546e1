namespace Flock.Attacks;

/// <summary>
/// Gaussian attack: the Byzantine node sends a random vector with independent N(μ, σ²) coordinates,
/// drawn from <see cref="AttackContext.Rng"/>. The classic "arbitrary vector" Byzantine behaviour of
/// "Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent" (Blanchard, El Mhamdi,
/// Guerraoui &amp; Stainer, NeurIPS 2017), where it breaks plain averaging.
/// </summary>
public sealed class GaussianAttack : IModelAttack
{
    private readonly AttackParameter[] _parameters;

    /// <summary>Creates the attack.</summary>
    /// <param name="mean">Mean μ of every coordinate (finite).</param>
    /// <param name="std">Standard deviation σ (finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public GaussianAttack(float mean = 0f, float std = 1f)
    {
        Mean = AttackCheck.Finite(mean, nameof(mean), "Gaussian attack mean");
        Std = AttackCheck.NonNegative(std, nameof(std), "Gaussian attack standard deviation");
        _parameters =
        [
            new("mean", Mean, 0f, "Mean μ of each coordinate; finite."),
            new("std", Std, 1f, "Standard deviation σ of each coordinate; finite, ≥ 0."),
        ];
    }

    /// <summary>Mean μ of every coordinate.</summary>
    public float Mean { get; }

    /// <summary>Standard deviation σ.</summary>
    public float Std { get; }

    /// <inheritdoc />
    public string Name => "gaussian";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => _parameters;

    /// <inheritdoc />
    public bool UsesHonestVectors => false;

    /// <inheritdoc />
    public bool UsesAggregator => false;

    /// <summary>Registry description with defaults.</summary>
    public static AttackInfo Describe() => new("gaussian", AttackKind.Model,
        "Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent (Blanchard et al., 2017)",
        "Sends a random vector with i.i.d. N(mean, std²) coordinates.", new GaussianAttack().Parameters);

    /// <inheritdoc />
    public void Craft(AttackContext context, Span<float> output)
    {
        AttackCheck.Context(context, output.Length, Name);
        context.Rng.FillGaussian(output, Mean, Std);
    }
}
