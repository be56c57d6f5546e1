using System.Buffers;
using System.Numerics.Tensors;
using Flock.Aggregation;

namespace Flock.Attacks;

/// <summary>The outcome of an "optimal" attack's search for its factor.</summary>
/// <param name="Factor">The factor sent (the best found, the default when nothing beat it).</param>
/// <param name="Distance">‖aggregate − honest mean‖₂ with that factor.</param>
/// <param name="DefaultFactor">The factor of the non-optimised attack, evaluated first as a baseline.</param>
/// <param name="DefaultDistance">‖aggregate − honest mean‖₂ with the default factor.</param>
/// <param name="AggregatorCalls">How many times the aggregator ran (at most the configured number of evaluations).</param>
public readonly record struct FactorSearchResult(float Factor, double Distance, float DefaultFactor, double DefaultDistance, int AggregatorCalls);

/// <summary>
/// Settings of the line search of the "optimal" attacks: a best-effort arg-max of
/// factor ↦ ‖aggregate(honest ∪ f × attack(factor)) − honest mean‖₂ over factors ≥ 0, by exploration,
/// as byzfl's <c>LineMaximize</c> (used in "Fixing by Mixing: A Recipe for Optimal Byzantine ML
/// under Heterogeneity", Allouah et al., AISTATS 2023). Procedure, with a budget of
/// <see cref="Evaluations"/> aggregator calls: (0) evaluate the attack's default factor as a
/// baseline; (1) evaluate <see cref="Start"/>; (2) expansion: try best + δ, doubling δ while it
/// improves, and on the first failure shrink δ by <see cref="Ratio"/>; (3) contraction: step the
/// probe towards the best point by δ (never below 0), shrinking δ by <see cref="Ratio"/> after every
/// probe; stop when the budget is spent. The best factor seen wins (the default on ties), so the
/// result is never worse than the default factor. Deterministic: no randomness.
/// </summary>
public sealed record LineSearch
{
    /// <summary>Default budget of aggregator calls (byzfl's default 16).</summary>
    public const int DefaultEvaluations = 16;

    /// <summary>Creates settings.</summary>
    /// <param name="evaluations">Aggregator calls in total, baseline included (≥ 2).</param>
    /// <param name="start">First factor of the search (finite, ≥ 0).</param>
    /// <param name="delta">Initial step δ (finite, &gt; 0).</param>
    /// <param name="ratio">Contraction ratio of δ, in (0.5, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public LineSearch(int evaluations = DefaultEvaluations, float start = 0f, float delta = 1f, float ratio = 0.8f)
    {
        Evaluations = AttackCheck.AtLeast(evaluations, 2, nameof(evaluations), "number of line-search evaluations");
        Start = AttackCheck.NonNegative(start, nameof(start), "line-search start");
        Delta = AttackCheck.Positive(delta, nameof(delta), "line-search step");
        if (!(ratio > 0.5f && ratio < 1f))
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, $"Invalid line-search contraction ratio: {ratio}; must be in (0.5, 1).");
        Ratio = ratio;
    }

    /// <summary>Aggregator calls in total, the baseline included.</summary>
    public int Evaluations { get; }

    /// <summary>First factor of the search.</summary>
    public float Start { get; }

    /// <summary>Initial step δ.</summary>
    public float Delta { get; }

    /// <summary>Contraction ratio of δ.</summary>
    public float Ratio { get; }

    internal AttackParameter[] Describe(LineSearch defaults) =>
    [
        new("evaluations", Evaluations, defaults.Evaluations, "Aggregator calls per crafted vector, the default factor's baseline included; ≥ 2."),
        new("start", Start, defaults.Start, "First factor of the line search; finite, ≥ 0."),
        new("delta", Delta, defaults.Delta, "Initial step of the line search; finite, > 0."),
        new("ratio", Ratio, defaults.Ratio, "Contraction ratio of the step; in (0.5, 1)."),
    ];

    /// <summary>Runs the search over <paramref name="objective"/>; see the type's summary.</summary>
    internal FactorSearchResult Maximize<T>(ref T objective, float defaultFactor) where T : struct, IFactorObjective
    {
        int budget = Evaluations;
        double defaultY = objective.Evaluate(defaultFactor);
        budget--;
        float bestX = defaultFactor;
        double bestY = defaultY;

        float searchX = Start;
        double searchY = objective.Evaluate(searchX);
        budget--;
        float delta = Delta, probe = searchX;
        while (budget > 0)
        {
            probe = searchX + delta;
            double y = objective.Evaluate(probe);
            budget--;
            if (y > searchY) { searchX = probe; searchY = y; delta *= 2; }
            else { delta *= Ratio; break; }
        }
        while (budget > 0)
        {
            if (probe < searchX) probe += delta;
            else
            {
                float x = probe - delta;
                while (x < 0) x = (x + probe) / 2;
                probe = x;
            }
            double y = objective.Evaluate(probe);
            budget--;
            if (y > searchY) { searchX = probe; searchY = y; }
            delta *= Ratio;
        }
        if (searchY > bestY) { bestX = searchX; bestY = searchY; }
        return new FactorSearchResult(bestX, bestY, defaultFactor, defaultY, Evaluations);
    }
}

/// <summary>The function of the attack factor that the line search maximises.</summary>
internal interface IFactorObjective
{
    double Evaluate(float factor);
}

/// <summary>
/// Scratch for one search: the honest vectors followed by f references to one candidate buffer, a
/// weights buffer of ones, and an aggregate buffer; all rented from the shared array pools.
/// </summary>
internal sealed class FactorSearchScratch : IDisposable
{
    private readonly ReadOnlyMemory<float>[] _inputs;
    private readonly float[] _weights;

    public FactorSearchScratch(IReadOnlyList<ReadOnlyMemory<float>> honest, int byzantine, int dimension, int extraBuffers)
    {
        int count = honest.Count + byzantine;
        _inputs = ArrayPool<ReadOnlyMemory<float>>.Shared.Rent(count);
        _weights = ArrayPool<float>.Shared.Rent(count);
        Candidate = ArrayPool<float>.Shared.Rent(dimension);
        Aggregate = ArrayPool<float>.Shared.Rent(dimension);
        Extra = new float[extraBuffers][];
        for (int i = 0; i < extraBuffers; i++) Extra[i] = ArrayPool<float>.Shared.Rent(dimension);
        Dimension = dimension;
        for (int i = 0; i < honest.Count; i++) _inputs[i] = honest[i];
        for (int i = honest.Count; i < count; i++) _inputs[i] = Candidate.AsMemory(0, dimension);
        _weights.AsSpan(0, count).Fill(1f);
        Inputs = new ArraySegment<ReadOnlyMemory<float>>(_inputs, 0, count);
    }

    public int Dimension { get; }
    public float[] Candidate { get; }
    public float[] Aggregate { get; }
    public float[][] Extra { get; }
    public ArraySegment<ReadOnlyMemory<float>> Inputs { get; }

    /// <summary>Aggregates the inputs (honest + f × candidate) and returns ‖aggregate − reference‖₂.</summary>
    public double DistanceAfterAggregation(IAggregator aggregator, ReadOnlySpan<float> reference)
    {
        var agg = Aggregate.AsSpan(0, Dimension);
        aggregator.Aggregate(Inputs, _weights.AsSpan(0, Inputs.Count), agg);
        return TensorPrimitives.Distance(agg, reference);
    }

    public void Dispose()
    {
        Array.Clear(_inputs, 0, Inputs.Count);
        ArrayPool<ReadOnlyMemory<float>>.Shared.Return(_inputs);
        ArrayPool<float>.Shared.Return(_weights);
        ArrayPool<float>.Shared.Return(Candidate);
        ArrayPool<float>.Shared.Return(Aggregate);
        foreach (var e in Extra) ArrayPool<float>.Shared.Return(e);
    }
}
