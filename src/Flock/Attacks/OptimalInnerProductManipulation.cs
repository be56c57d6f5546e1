using System.Numerics.Tensors;
using Flock.Aggregation;

namespace Flock.Attacks;

/// <summary>
/// "Optimal" inner-product manipulation: the IPM vector <c>−ε·mean(honest)</c> with ε chosen per
/// round by a line search (<see cref="LineSearch"/>) that maximises the distance between the output
/// of the aggregator in use — applied to the honest vectors plus f copies of the crafted vector —
/// and the honest mean. As byzfl's optimal IPM, used in "Fixing by Mixing: A Recipe for Optimal
/// Byzantine ML under Heterogeneity" (Allouah et al., AISTATS 2023); IPM itself is from "Fall of
/// Empires: Breaking Byzantine-tolerant SGD by Inner Product Manipulation" (Xie, Koyejo &amp; Gupta, UAI 2020).
/// </summary>
/// <remarks>
/// Cost: exactly <see cref="LineSearch.Evaluations"/> aggregator calls per crafted vector (the
/// baseline ε first, so the result is never worse than plain IPM with that ε); scratch buffers come
/// from the shared array pools. Needs <see cref="AttackContext.Aggregator"/>.
/// </remarks>
public sealed class OptimalInnerProductManipulation : IModelAttack
{
    private readonly AttackParameter[] _parameters;

    /// <summary>Creates the attack.</summary>
    /// <param name="search">Line-search settings (default: 16 evaluations from 0, step 1, ratio 0.8).</param>
    /// <param name="baselineEpsilon">The ε of plain IPM used as the baseline (finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="baselineEpsilon"/> is negative or not finite.</exception>
    public OptimalInnerProductManipulation(LineSearch? search = null, float baselineEpsilon = InnerProductManipulation.DefaultEpsilon)
    {
        Search = search ?? new LineSearch();
        BaselineEpsilon = AttackCheck.NonNegative(baselineEpsilon, nameof(baselineEpsilon), "IPM epsilon");
        _parameters =
        [
            .. Search.Describe(new LineSearch()),
            new("epsilon", BaselineEpsilon, InnerProductManipulation.DefaultEpsilon, "Baseline ε of plain IPM, evaluated first; finite, ≥ 0."),
        ];
    }

    /// <summary>The line-search settings.</summary>
    public LineSearch Search { get; }

    /// <summary>The baseline ε.</summary>
    public float BaselineEpsilon { get; }

    /// <inheritdoc />
    public string Name => "optimal-ipm";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => _parameters;

    /// <inheritdoc />
    public bool UsesHonestVectors => true;

    /// <inheritdoc />
    public bool UsesAggregator => true;

    /// <summary>Registry description with defaults.</summary>
    public static AttackInfo Describe() => new("optimal-ipm", AttackKind.Model,
        "Fall of Empires (Xie et al., 2020), factor optimised as in Fixing by Mixing (Allouah et al., 2023)",
        "IPM with epsilon line-searched each round to push the aggregate farthest from the honest mean.", new OptimalInnerProductManipulation().Parameters);

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The context has no aggregator.</exception>
    public void Craft(AttackContext context, Span<float> output) => CraftAndReport(context, output);

    /// <summary>Crafts the vector like <see cref="Craft"/> and reports the search.</summary>
    /// <exception cref="ArgumentException">A vector of the context, or the output, has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The context's n or f is invalid.</exception>
    /// <exception cref="InvalidOperationException">The context has no aggregator.</exception>
    public FactorSearchResult CraftAndReport(AttackContext context, Span<float> output)
    {
        AttackCheck.Context(context, output.Length, Name);
        var aggregator = context.Aggregator ?? throw new InvalidOperationException($"{Name} needs the aggregator in use, but AttackContext.Aggregator is null.");
        var xs = context.Observed;
        int d = output.Length;
        using var scratch = new FactorSearchScratch(xs, context.ByzantineCount, d, extraBuffers: 1);
        var mean = scratch.Extra[0].AsMemory(0, d);
        VectorStats.Mean(xs, mean.Span);
        var objective = new Objective(scratch, aggregator, mean);
        var result = Search.Maximize(ref objective, BaselineEpsilon);
        TensorPrimitives.Multiply(mean.Span, -result.Factor, output);
        return result;
    }

    private readonly struct Objective(FactorSearchScratch scratch, IAggregator aggregator, ReadOnlyMemory<float> mean) : IFactorObjective
    {
        public double Evaluate(float factor)
        {
            TensorPrimitives.Multiply(mean.Span, -factor, scratch.Candidate.AsSpan(0, scratch.Dimension));
            return scratch.DistanceAfterAggregation(aggregator, mean.Span);
        }
    }
}
