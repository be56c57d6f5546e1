using System.Numerics.Tensors;

namespace Flock.Attacks;

/// <summary>
/// Sign flipping: the Byzantine node sends the opposite of its own honest vector, optionally scaled:
/// <c>v = −scale·g</c>. Not omniscient (uses only <see cref="AttackContext.Own"/>). From
/// "Byzantine-resilient Non-convex Stochastic Gradient Descent" (Allen-Zhu, Ebrahimian, Li &amp;
/// Alistarh, ICLR 2021; first posted 2020), the sign-flipping attack of the MoNNA experiments.
/// </summary>
public sealed class SignFlipping : IModelAttack
{
    private readonly AttackParameter[] _parameters;

    /// <summary>Creates the attack.</summary>
    /// <param name="scale">Factor applied to −g (finite, &gt; 0; 1 is plain sign flipping).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> is not finite and positive.</exception>
    public SignFlipping(float scale = 1f)
    {
        Scale = AttackCheck.Positive(scale, nameof(scale), "sign-flipping scale");
        _parameters = [new("scale", Scale, 1f, "Magnitude of the flipped vector: v = −scale·g; finite, > 0.")];
    }

    /// <summary>The factor applied to −g.</summary>
    public float Scale { get; }

    /// <inheritdoc />
    public string Name => "sign-flipping";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => _parameters;

    /// <inheritdoc />
    public bool UsesHonestVectors => false;

    /// <inheritdoc />
    public bool UsesAggregator => false;

    /// <summary>Registry description with defaults.</summary>
    public static AttackInfo Describe() => new("sign-flipping", AttackKind.Model,
        "Byzantine-resilient Non-convex Stochastic Gradient Descent (Allen-Zhu et al., 2021)",
        "Sends the opposite of its own honest vector, −scale·g.", new SignFlipping().Parameters);

    /// <inheritdoc />
    public void Craft(AttackContext context, Span<float> output)
    {
        AttackCheck.Context(context, output.Length, Name);
        TensorPrimitives.Multiply(context.Own.Span, -Scale, output);
    }
}
