using System.Numerics.Tensors;

namespace Flock.Attacks;

/// <summary>How ALIE derives its factor z from n and f when z is not given.</summary>
public enum AlieZRule
{
    /// <summary>
    /// The paper's rule: s = ⌊n/2 + 1⌋ − f supporters are needed, and z = Φ⁻¹((n − s)/n).
    /// </summary>
    Paper,

    /// <summary>
    /// The variant of the code of "Byzantine-Robust Learning on Heterogeneous Datasets via
    /// Bucketing" (Karimireddy, He &amp; Jaggi, 2022), also used by Blades: z = Φ⁻¹((n − f − s)/(n − f)).
    /// </summary>
    HonestCount,
}

/// <summary>
/// A Little Is Enough (ALIE): every Byzantine node sends <c>v_j = μ_j − z·σ_j</c> per coordinate,
/// where μ and σ are the mean and standard deviation of the honest vectors, and z is the largest
/// shift that still keeps the crafted vector inside the "majority" of honest values: with
/// s = ⌊n/2 + 1⌋ − f, z = Φ⁻¹((n − s)/n). From "A Little Is Enough: Circumventing Defenses For
/// Distributed Learning" (Baruch, Baruch &amp; Goldberg, NeurIPS 2019).
/// </summary>
/// <remarks>
/// σ is the <b>sample</b> standard deviation (divide by k − 1) by default: the paper's reference
/// code calls <c>torch.std</c>, whose default is the unbiased estimator, and byzfl uses
/// <c>np.var(ddof=1)</c>; the population estimator is a parameter. With a single observed vector
/// the sample σ is 0. Omniscient: statistics are over <see cref="AttackContext.Honest"/> (the
/// attacker's own vector alone when none are observed). Examples: n = 26, f = 5 gives s = 9 and
/// z = Φ⁻¹(17/26) ≈ 0.3957; n = 50, f = 10 gives s = 16 and z = Φ⁻¹(0.68) ≈ 0.4677.
/// </remarks>
public sealed class ALittleIsEnough : IModelAttack
{
    private readonly AttackParameter[] _parameters;

    /// <summary>Creates the attack.</summary>
    /// <param name="z">A fixed factor z (finite), or null to derive it from n and f with <paramref name="zRule"/>.</param>
    /// <param name="zRule">How z is derived when not given.</param>
    /// <param name="sampleStd">True (default): sample standard deviation (k − 1); false: population (k).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="z"/> is not finite, or <paramref name="zRule"/> is unknown.</exception>
    public ALittleIsEnough(float? z = null, AlieZRule zRule = AlieZRule.Paper, bool sampleStd = true)
    {
        if (z is float zv) AttackCheck.Finite(zv, nameof(z), "ALIE z");
        if (!Enum.IsDefined(zRule)) throw new ArgumentOutOfRangeException(nameof(zRule), zRule, $"Invalid ALIE z rule: {zRule}; must be one of: {string.Join(", ", Enum.GetNames<AlieZRule>())}.");
        Z = z;
        ZRule = zRule;
        SampleStd = sampleStd;
        _parameters = Describe(z, zRule, sampleStd);
    }

    internal static AttackParameter[] Describe(float? z, AlieZRule zRule, bool sampleStd) =>
    [
        new("z", z, null, "Fixed factor z (finite); default: from n and f (s = ⌊n/2+1⌋ − f, z = Φ⁻¹((n − s)/n))."),
        new("z_rule", zRule.ToString(), nameof(AlieZRule.Paper), "How z follows from n and f: 'Paper' ((n − s)/n) or 'HonestCount' ((n − f − s)/(n − f))."),
        new("sample_std", sampleStd, true, "Sample (k − 1, as the paper's code) or population (k) standard deviation."),
    ];

    /// <summary>The fixed factor, or null when derived from n and f.</summary>
    public float? Z { get; }

    /// <summary>How z is derived when not fixed.</summary>
    public AlieZRule ZRule { get; }

    /// <summary>True for the sample standard deviation, false for the population one.</summary>
    public bool SampleStd { get; }

    /// <inheritdoc />
    public string Name => "alie";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => _parameters;

    /// <inheritdoc />
    public bool UsesHonestVectors => true;

    /// <inheritdoc />
    public bool UsesAggregator => false;

    /// <summary>Registry description with defaults.</summary>
    public static AttackInfo Describe() => new("alie", AttackKind.Model,
        "A Little Is Enough: Circumventing Defenses For Distributed Learning (Baruch, Baruch & Goldberg, 2019)",
        "Sends mean − z·std of the honest vectors per coordinate, z from n and f.", new ALittleIsEnough().Parameters);

    /// <summary>
    /// The paper's z_max: s = ⌊n/2 + 1⌋ − f, z = Φ⁻¹((n − s)/n) (or, for
    /// <see cref="AlieZRule.HonestCount"/>, Φ⁻¹((n − f − s)/(n − f))).
    /// </summary>
    /// <param name="n">Total number of nodes (≥ 1).</param>
    /// <param name="f">Number of Byzantine nodes (0 ≤ f &lt; n).</param>
    /// <param name="rule">Which formula.</param>
    /// <exception cref="ArgumentOutOfRangeException">n or f is out of range, or the probability is not in (0, 1) (too many Byzantine nodes: s ≤ 0).</exception>
    public static double ZMax(int n, int f, AlieZRule rule = AlieZRule.Paper)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, $"Invalid node count n = {n}; must be ≥ 1.");
        if (f < 0 || f >= n) throw new ArgumentOutOfRangeException(nameof(f), f, $"Invalid Byzantine count f = {f}; must be in [0, n − 1 = {n - 1}].");
        int s = n / 2 + 1 - f;
        double p = rule == AlieZRule.Paper ? (double)(n - s) / n : (double)(n - f - s) / (n - f);
        if (!(p > 0 && p < 1))
            throw new ArgumentOutOfRangeException(nameof(f), f,
                $"ALIE cannot derive z for n = {n}, f = {f}: s = ⌊n/2 + 1⌋ − f = {s} gives probability {p}, outside (0, 1); give z explicitly.");
        return NormalQuantile.InverseCdf(p);
    }

    /// <summary>The factor used for a context: <see cref="Z"/>, or <see cref="ZMax"/> of its n and f.</summary>
    /// <exception cref="ArgumentOutOfRangeException">z cannot be derived from the context's n and f.</exception>
    public float FactorFor(AttackContext context) => Z ?? (float)ZMax(context.NodeCount, context.ByzantineCount, ZRule);

    /// <inheritdoc />
    public void Craft(AttackContext context, Span<float> output)
    {
        AttackCheck.Context(context, output.Length, Name);
        Craft(context.Observed, FactorFor(context), SampleStd, output);
    }

    /// <summary>
    /// The ALIE kernel: <c>output_j = μ_j − z·σ_j</c> over <paramref name="vectors"/>, computed in
    /// blocks of coordinates with stack buffers (no allocation).
    /// </summary>
    /// <exception cref="ArgumentException">No vectors, or a vector's length differs from the output's.</exception>
    public static void Craft(IReadOnlyList<ReadOnlyMemory<float>> vectors, float z, bool sampleStd, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count == 0) throw new ArgumentException("ALIE needs at least one vector to compute statistics from.", nameof(vectors));
        for (int i = 0; i < vectors.Count; i++)
            if (vectors[i].Length != output.Length)
                throw new ArgumentException($"Vector {i} has {vectors[i].Length} elements; expected {output.Length} (the output's length).", nameof(vectors));
        Span<float> mean = stackalloc float[VectorStats.Block];
        Span<float> std = stackalloc float[VectorStats.Block];
        for (int start = 0; start < output.Length; start += VectorStats.Block)
        {
            int b = Math.Min(VectorStats.Block, output.Length - start);
            VectorStats.MeanAndStd(vectors, mean[..b], std[..b], sampleStd, start);
            TensorPrimitives.MultiplyAdd(std[..b], -z, mean[..b], output.Slice(start, b));
        }
    }
}
