using System.Globalization;
using Flock.Attacks;
using static Flock.Tests.Attacks.AttackTestSupport;

namespace Flock.Tests.Attacks;

/// <summary>The defining property of every model attack.</summary>
public sealed class ModelAttackTests
{
    private static readonly float[][] Small = [[1f, 2f, 3f], [4f, 5f, 6f], [7f, 8f, 9f]];

    [Fact]
    public void Sign_flipping_is_exactly_minus_scale_times_own()
    {
        var own = new float[] { 1.5f, -2f, 0f, 3.25f, -0.125f };
        var output = new float[5];
        new SignFlipping().Craft(Context(own), output);
        Assert.Equal(new float[] { -1.5f, 2f, 0f, -3.25f, 0.125f }, output);
        new SignFlipping(4f).Craft(Context(own, Small.Take(0).ToArray()), output);
        Assert.Equal(new float[] { -6f, 8f, 0f, -13f, 0.5f }, output);
    }

    [Fact]
    public void Gaussian_sample_moments_and_determinism()
    {
        const int d = 200_000;
        var own = new float[d];
        var a = new float[d];
        var b = new float[d];
        var attack = new GaussianAttack(mean: 2f, std: 3f);
        attack.Craft(Context(own, seed: 11), a);
        attack.Craft(Context(own, seed: 11), b);
        Assert.Equal(a, b);
        double m = a.Average(x => (double)x);
        double v = a.Sum(x => (x - m) * (x - m)) / (d - 1);
        Assert.InRange(m, 2 - 4 * 3 / Math.Sqrt(d), 2 + 4 * 3 / Math.Sqrt(d)); // 4 standard errors
        Assert.InRange(v, 9 * (1 - 4 * Math.Sqrt(2.0 / d)), 9 * (1 + 4 * Math.Sqrt(2.0 / d)));
        attack.Craft(Context(own, seed: 12), b);
        Assert.NotEqual(a, b);
        new GaussianAttack(mean: -1f, std: 0f).Craft(Context(new float[4]), b.AsSpan(0, 4));
        Assert.Equal(new float[] { -1f, -1f, -1f, -1f }, b[..4]);
    }

    [Fact]
    public void Ipm_is_exactly_minus_epsilon_times_the_honest_mean()
    {
        var output = new float[3];
        new InnerProductManipulation(0.5f).Craft(Context(new float[3], Small), output);
        Assert.Equal(new float[] { -2f, -2.5f, -3f }, output); // mean (4, 5, 6)
        new InnerProductManipulation(100f).Craft(Context(new float[3], Small), output);
        Assert.Equal(new float[] { -400f, -500f, -600f }, output);
        // Not omniscient: the own vector stands in for the honest mean.
        new InnerProductManipulation(2f).Craft(Context([1f, -1f, 0.5f]), output);
        Assert.Equal(new float[] { -2f, 2f, -1f }, output);
    }

    [Fact]
    public void Ipm_matches_double_reference_on_long_vectors()
    {
        var honest = RandomVectors(21, 1500, seed: 5, offset: 0.3f);
        var output = new float[1500];
        new InnerProductManipulation(0.1f).Craft(Context(new float[1500], honest, n: 26, f: 5), output);
        var m = MeanDouble(honest);
        for (int j = 0; j < m.Length; j++) Assert.Equal(-0.1 * m[j], output[j], 1e-5);
    }

    [Fact]
    public void Alie_hand_computed_sample_and_population_std()
    {
        // mean (4, 5, 6); deviations (−3, 0, 3) per coordinate: sample std 3, population std √6.
        var output = new float[3];
        new ALittleIsEnough(z: 1.5f).Craft(Context(new float[3], Small), output);
        Assert.Equal(new float[] { -0.5f, 0.5f, 1.5f }, output);
        new ALittleIsEnough(z: 1.5f, sampleStd: false).Craft(Context(new float[3], Small), output);
        float s6 = MathF.Sqrt(6f);
        Assert.Equal(4f - 1.5f * s6, output[0], 1e-6f);
        Assert.Equal(6f - 1.5f * s6, output[2], 1e-6f);
    }

    [Fact]
    public void Alie_matches_torch_golden_for_both_std_estimators()
    {
        var rows = File.ReadAllLines(Path.Combine("TestData", "attacks", "alie_torch.csv"))
            .Where(l => !l.StartsWith('#'))
            .Select(l => l.Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(9, rows.Length);
        var honest = rows[..7];
        var output = new float[honest[0].Length];
        new ALittleIsEnough(z: 0.8f).Craft(Context(new float[output.Length], honest), output);
        for (int j = 0; j < output.Length; j++) Assert.Equal(rows[7][j], output[j], 2e-6f);
        new ALittleIsEnough(z: 0.8f, sampleStd: false).Craft(Context(new float[output.Length], honest), output);
        for (int j = 0; j < output.Length; j++) Assert.Equal(rows[8][j], output[j], 2e-6f);
    }

    [Fact]
    public void Alie_default_z_comes_from_n_and_f_and_blocks_are_seamless()
    {
        const int d = 1500; // three coordinate blocks of 512, the last partial
        var honest = RandomVectors(21, d, seed: 9, offset: -0.2f, scale: 0.7f);
        var output = new float[d];
        var alie = new ALittleIsEnough();
        var ctx = Context(new float[d], honest, n: 26, f: 5);
        Assert.Equal(0.3957252958144873, alie.FactorFor(ctx), 1e-7);
        alie.Craft(ctx, output);
        var m = MeanDouble(honest);
        var s = StdDouble(honest, sample: true);
        for (int j = 0; j < d; j++) Assert.Equal(m[j] - 0.3957252958144873 * s[j], output[j], 2e-6);
        // The static kernel gives the same vector.
        var kernel = new float[d];
        ALittleIsEnough.Craft(honest.Select(h => (ReadOnlyMemory<float>)h).ToArray(), (float)ALittleIsEnough.ZMax(26, 5), true, kernel);
        Assert.Equal(output, kernel);
    }

    [Fact]
    public void Alie_z_from_n_and_f_matches_hand_computed_and_golden_values()
    {
        // n = 26, f = 5: s = ⌊14⌋ − 5 = 9, z = Φ⁻¹(17/26); n = 50, f = 10: s = 16, z = Φ⁻¹(34/50).
        Assert.Equal(0.3957252958144873, ALittleIsEnough.ZMax(26, 5), 1e-14);
        Assert.Equal(0.46769879911450835, ALittleIsEnough.ZMax(50, 10), 1e-14);
        Assert.Equal(0.18001236979270493, ALittleIsEnough.ZMax(26, 5, AlieZRule.HonestCount), 1e-14);
        foreach (var line in File.ReadAllLines(Path.Combine("TestData", "attacks", "alie_z.csv")).Skip(1))
        {
            var c = line.Split(',');
            int n = int.Parse(c[0], CultureInfo.InvariantCulture), f = int.Parse(c[1], CultureInfo.InvariantCulture);
            Assert.Equal(double.Parse(c[4], CultureInfo.InvariantCulture), ALittleIsEnough.ZMax(n, f), 1e-13);
            Assert.Equal(double.Parse(c[6], CultureInfo.InvariantCulture), ALittleIsEnough.ZMax(n, f, AlieZRule.HonestCount), 1e-13);
        }
    }

    [Fact]
    public void Alie_without_honest_vectors_sends_own_vector()
    {
        var own = new float[] { 0.5f, -3f };
        var output = new float[2];
        new ALittleIsEnough(z: 2f).Craft(Context(own, n: 26, f: 5), output);
        Assert.Equal(own, output); // single vector: sample std 0
    }

    [Fact]
    public void Mimic_fixed_copies_the_target_exactly()
    {
        var output = new float[3];
        new Mimic(MimicTarget.Fixed, 2).Craft(Context(new float[3], Small), output);
        Assert.Equal(Small[2], output);
        new Mimic().Craft(Context(new float[3], Small), output);
        Assert.Equal(Small[0], output);
        Throws<ArgumentOutOfRangeException>(() => new Mimic(MimicTarget.Fixed, 3).Craft(Context(new float[3], Small), output),
            "Mimic target index 3 is out of range: the attacker observes 3 honest vector(s).");
    }

    [Fact]
    public void Mimic_heuristics_pick_the_outlying_node()
    {
        // Deviations along e0 with coefficients (−3, −1, 0, 1, 5) (+ tiny orthogonal noise): node 4
        // is both the farthest from the mean and the largest projection on the top principal direction.
        float[] coef = [-3f, -1f, 0f, 1f, 5f];
        var noise = RandomVectors(5, 40, seed: 3, scale: 0.01f);
        var honest = new float[5][];
        for (int i = 0; i < 5; i++)
        {
            honest[i] = new float[40];
            for (int j = 0; j < 40; j++) honest[i][j] = 2f + noise[i][j];
            honest[i][0] += coef[i];
        }
        var output = new float[40];
        foreach (var rule in new[] { MimicTarget.FarthestFromMean, MimicTarget.MaxVarianceDirection })
        {
            var mimic = new Mimic(rule);
            Assert.Equal(4, mimic.ChooseTarget(Context(new float[40], honest)));
            mimic.Craft(Context(new float[40], honest), output);
            Assert.Equal(honest[4], output);
        }
        // Farthest and max-variance differ when the farthest node deviates off the main axis of variance.
        // Node 2 moved by 6 along e1: now the farthest from the mean (≈ 4.82 against 4.6), but the top
        // principal direction stays ≈ 18° from e0, where node 4 projects most (≈ 4.75 against 1.9).
        honest[2][1] += 6f;
        Assert.Equal(2, new Mimic(MimicTarget.FarthestFromMean).ChooseTarget(Context(new float[40], honest)));
        Assert.Equal(4, new Mimic(MimicTarget.MaxVarianceDirection).ChooseTarget(Context(new float[40], honest)));
    }

    [Fact]
    public void Context_is_validated_with_the_bad_value()
    {
        var output = new float[3];
        Throws<ArgumentException>(() => new SignFlipping().Craft(Context(new float[4]), output),
            "sign-flipping: the output has 3 elements but the attacker's own vector has 4.");
        Throws<ArgumentException>(() => new InnerProductManipulation().Craft(Context(new float[3], [[1f, 2f]]), output),
            "ipm: honest vector 0 has 2 elements; expected 3 (the output's length).");
        Throws<ArgumentOutOfRangeException>(() => new ALittleIsEnough().Craft(Context(new float[3], Small, n: 10, f: 11), output),
            "alie: invalid Byzantine count f = 11; must be in [0, n = 10].");
        Throws<ArgumentOutOfRangeException>(() => new GaussianAttack().Craft(Context(new float[3], n: 0, f: 0), output),
            "gaussian: invalid node count n = 0; must be ≥ 1.");
    }
}

/// <summary>The per-round kernels allocate nothing once warmed up.</summary>
public sealed class AllocationTests
{
    [Fact]
    public void Plain_attacks_do_not_allocate()
    {
        var honest = RandomVectors(9, 2000, seed: 2);
        var ctx = Context(new float[2000], honest, n: 12, f: 3);
        var output = new float[2000];
        IModelAttack[] attacks = [new SignFlipping(), new GaussianAttack(), new InnerProductManipulation(), new ALittleIsEnough(), new Mimic(MimicTarget.FarthestFromMean)];
        foreach (var attack in attacks)
        {
            Assert.Equal(0, Allocations.SteadyState(() => attack.Craft(ctx, output)));
        }
    }
}
