using System.Numerics.Tensors;
using Flock.Aggregation;

namespace Flock.Attacks;

/// <summary>
/// "Optimal" ALIE: the ALIE vector <c>μ − z·σ</c> with z chosen per round by a line search
/// (<see cref="LineSearch"/>) that maximises the distance between the output of the aggregator in
/// use — applied to the honest vectors plus f copies of the crafted vector — and the honest mean.
/// As byzfl's optimal ALIE, used in "Fixing by Mixing: A Recipe for Optimal Byzantine ML under
/// Heterogeneity" (Allouah et al., AISTATS 2023); ALIE itself is from "A Little Is Enough:
/// Circumventing Defenses For Distributed Learning" (Baruch, Baruch &amp; Goldberg, NeurIPS 2019).
/// </summary>
/// <remarks>
/// Cost: exactly <see cref="LineSearch.Evaluations"/> aggregator calls per crafted vector (the
/// default z of <see cref="ALittleIsEnough"/> is the first, as a baseline, so the result is never
/// worse than plain ALIE); scratch buffers come from the shared array pools. The search treats the
/// observed honest vectors as the honest inputs of the aggregation. Needs
/// <see cref="AttackContext.Aggregator"/>.
/// </remarks>
public sealed class OptimalALittleIsEnough : IModelAttack
{
    private readonly AttackParameter[] _parameters;

    /// <summary>Creates the attack.</summary>
    /// <param name="search">Line-search settings (default: 16 evaluations from 0, step 1, ratio 0.8).</param>
    /// <param name="baseline">The plain ALIE whose factor is the baseline and whose standard deviation is used (default: z from n and f, sample std).</param>
    public OptimalALittleIsEnough(LineSearch? search = null, ALittleIsEnough? baseline = null)
    {
        Search = search ?? new LineSearch();
        Baseline = baseline ?? new ALittleIsEnough();
        _parameters = [.. Search.Describe(new LineSearch()), .. Baseline.Parameters];
    }

    /// <summary>The line-search settings.</summary>
    public LineSearch Search { get; }

    /// <summary>The plain ALIE giving the baseline factor and the std estimator.</summary>
    public ALittleIsEnough Baseline { get; }

    /// <inheritdoc />
    public string Name => "optimal-alie";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => _parameters;

    /// <inheritdoc />
    public bool UsesHonestVectors => true;

    /// <inheritdoc />
    public bool UsesAggregator => true;

    /// <summary>Registry description with defaults.</summary>
    public static AttackInfo Describe() => new("optimal-alie", AttackKind.Model,
        "A Little Is Enough (Baruch et al., 2019), factor optimised as in Fixing by Mixing (Allouah et al., 2023)",
        "ALIE with z line-searched each round to push the aggregate farthest from the honest mean.", new OptimalALittleIsEnough().Parameters);

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
        float defaultZ = Baseline.Z ?? DerivedZ(context);
        using var scratch = new FactorSearchScratch(xs, context.ByzantineCount, d, extraBuffers: 2);
        var mean = scratch.Extra[0].AsMemory(0, d);
        var std = scratch.Extra[1].AsMemory(0, d);
        VectorStats.MeanAndStd(xs, mean.Span, std.Span, Baseline.SampleStd);
        var objective = new Objective(scratch, aggregator, mean, std);
        var result = Search.Maximize(ref objective, defaultZ);
        TensorPrimitives.MultiplyAdd(std.Span, -result.Factor, mean.Span, output);
        return result;
    }

    /// <summary>z_max from n and f, or the search start when n and f admit none (e.g. f ≥ n/2 + 1).</summary>
    private float DerivedZ(AttackContext context)
    {
        int n = context.NodeCount, f = context.ByzantineCount;
        int s = n / 2 + 1 - f;
        double p = Baseline.ZRule == AlieZRule.Paper ? (double)(n - s) / n : (double)(n - f - s) / (n - f);
        return f < n && p > 0 && p < 1 ? (float)NormalQuantile.InverseCdf(p) : Search.Start;
    }

    private readonly struct Objective(FactorSearchScratch scratch, IAggregator aggregator, ReadOnlyMemory<float> mean, ReadOnlyMemory<float> std) : IFactorObjective
    {
        public double Evaluate(float factor)
        {
            TensorPrimitives.MultiplyAdd(std.Span, -factor, mean.Span, scratch.Candidate.AsSpan(0, scratch.Dimension));
            return scratch.DistanceAfterAggregation(aggregator, mean.Span);
        }
    }
}
