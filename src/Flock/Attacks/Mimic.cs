using System.Numerics.Tensors;

namespace Flock.Attacks;

/// <summary>How <see cref="Mimic"/> chooses the honest node to copy.</summary>
public enum MimicTarget
{
    /// <summary>A fixed index into <see cref="AttackContext.Honest"/> (byzfl's default, index 0).</summary>
    Fixed,

    /// <summary>The honest vector farthest (L2) from the honest mean: the most atypical node, whose weight the attack inflates.</summary>
    FarthestFromMean,

    /// <summary>
    /// The honest vector with the largest projection (in absolute value) of its deviation from the
    /// mean on the direction of maximum variance of the honest vectors — the paper's heuristic,
    /// computed afresh each round (the paper's code learns the direction online over the first
    /// steps). The direction is found by power iteration on the k×k Gram matrix of deviations.
    /// </summary>
    MaxVarianceDirection,
}

/// <summary>
/// Mimic: every Byzantine node sends an exact copy of one honest node's vector, over-representing
/// that node's (non-IID) data and stalling learning on the others without ever looking like an
/// outlier. From "Byzantine-Robust Learning on Heterogeneous Datasets via Bucketing" (Karimireddy,
/// He &amp; Jaggi, ICLR 2022). Omniscient: needs <see cref="AttackContext.Honest"/> (with none
/// observed it sends the attacker's own vector).
/// </summary>
public sealed class Mimic : IModelAttack
{
    /// <summary>Power-iteration steps of <see cref="MimicTarget.MaxVarianceDirection"/>.</summary>
    public const int PowerIterations = 64;

    private readonly AttackParameter[] _parameters;

    /// <summary>Creates the attack.</summary>
    /// <param name="target">How the copied node is chosen.</param>
    /// <param name="index">The index into the honest vectors for <see cref="MimicTarget.Fixed"/> (≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative, or <paramref name="target"/> is unknown.</exception>
    public Mimic(MimicTarget target = MimicTarget.Fixed, int index = 0)
    {
        if (!Enum.IsDefined(target)) throw new ArgumentOutOfRangeException(nameof(target), target, $"Invalid mimic target rule: {target}; must be one of: {string.Join(", ", Enum.GetNames<MimicTarget>())}.");
        Target = target;
        Index = AttackCheck.AtLeast(index, 0, nameof(index), "mimic target index");
        _parameters =
        [
            new("target", Target.ToString(), nameof(MimicTarget.Fixed), "Which honest node to copy: 'Fixed' (by index), 'FarthestFromMean' or 'MaxVarianceDirection'."),
            new("index", Index, 0, "Index of the copied honest vector for 'Fixed'; ≥ 0 and below the number of observed honest vectors."),
        ];
    }

    /// <summary>How the copied node is chosen.</summary>
    public MimicTarget Target { get; }

    /// <summary>Index of the copied vector for <see cref="MimicTarget.Fixed"/>.</summary>
    public int Index { get; }

    /// <inheritdoc />
    public string Name => "mimic";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => _parameters;

    /// <inheritdoc />
    public bool UsesHonestVectors => true;

    /// <inheritdoc />
    public bool UsesAggregator => false;

    /// <summary>Registry description with defaults.</summary>
    public static AttackInfo Describe() => new("mimic", AttackKind.Model,
        "Byzantine-Robust Learning on Heterogeneous Datasets via Bucketing (Karimireddy, He & Jaggi, 2022)",
        "Copies one honest node's vector (fixed index or a heuristic).", new Mimic().Parameters);

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The fixed index is not below the number of observed honest vectors.</exception>
    public void Craft(AttackContext context, Span<float> output)
    {
        AttackCheck.Context(context, output.Length, Name);
        var xs = context.Observed;
        int target = ChooseTarget(context, output);
        xs[target].Span.CopyTo(output);
    }

    /// <summary>The index (into the observed honest vectors) this attack copies for <paramref name="context"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The fixed index is not below the number of observed honest vectors.</exception>
    public int ChooseTarget(AttackContext context)
    {
        AttackCheck.Context(context, context.Dimension, Name);
        if (Target == MimicTarget.Fixed) return ChooseTarget(context, []);
        var scratch = new float[context.Dimension];
        return ChooseTarget(context, scratch);
    }

    /// <summary>Chooses the target, using <paramref name="scratch"/> (d floats) for the mean.</summary>
    private int ChooseTarget(AttackContext context, Span<float> scratch)
    {
        var xs = context.Observed;
        int k = xs.Count;
        switch (Target)
        {
            case MimicTarget.Fixed:
                if (Index >= k)
                    throw new ArgumentOutOfRangeException(nameof(context), Index, $"Mimic target index {Index} is out of range: the attacker observes {k} honest vector(s).");
                return Index;
            case MimicTarget.FarthestFromMean:
            {
                VectorStats.Mean(xs, scratch);
                int best = 0;
                float bestDistance = -1f;
                for (int i = 0; i < k; i++)
                {
                    float dist = TensorPrimitives.Distance(xs[i].Span, scratch);
                    if (dist > bestDistance) { bestDistance = dist; best = i; }
                }
                return best;
            }
            default:
                return MaxVarianceTarget(xs, scratch, context);
        }
    }

    /// <summary>
    /// Largest |u_i| of the top eigenvector u of the Gram matrix G_ij = ⟨x_i − μ, x_j − μ⟩: the
    /// projection of deviation i on the top principal direction Dᵀu/‖Dᵀu‖ is λ·u_i/‖Dᵀu‖.
    /// </summary>
    private static int MaxVarianceTarget(IReadOnlyList<ReadOnlyMemory<float>> xs, Span<float> mean, AttackContext context)
    {
        int k = xs.Count;
        if (k == 1) return 0;
        VectorStats.Mean(xs, mean);
        // G_ij = ⟨x_i, x_j⟩ − ⟨x_i, μ⟩ − ⟨x_j, μ⟩ + ⟨μ, μ⟩, in double.
        var dotMean = new double[k];
        for (int i = 0; i < k; i++) dotMean[i] = TensorPrimitives.Dot(xs[i].Span, mean);
        double mm = TensorPrimitives.Dot(mean, mean);
        var g = new double[k * k];
        for (int i = 0; i < k; i++)
            for (int j = i; j < k; j++)
                g[i * k + j] = g[j * k + i] = TensorPrimitives.Dot(xs[i].Span, xs[j].Span) - dotMean[i] - dotMean[j] + mm;
        // Power iteration from a seeded random start (the all-ones vector lies in G's null space).
        var u = new double[k];
        var next = new double[k];
        for (int i = 0; i < k; i++) u[i] = context.Rng.NextGaussian();
        for (int it = 0; it < PowerIterations; it++)
        {
            double norm = 0;
            for (int i = 0; i < k; i++)
            {
                double s = 0;
                for (int j = 0; j < k; j++) s += g[i * k + j] * u[j];
                next[i] = s;
                norm += s * s;
            }
            if (!(norm > 0)) break; // all honest vectors equal: any target will do
            norm = Math.Sqrt(norm);
            for (int i = 0; i < k; i++) u[i] = next[i] / norm;
        }
        int best = 0;
        for (int i = 1; i < k; i++)
            if (Math.Abs(u[i]) > Math.Abs(u[best])) best = i;
        return best;
    }
}
