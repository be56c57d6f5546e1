using Flock.Attacks;
using static Flock.Tests.Attacks.AttackTestSupport;

namespace Flock.Tests.Attacks;

public sealed class SybilTests
{
    [Fact]
    public void Identities_differ_by_at_most_the_noise_scale()
    {
        const int k = 6, d = 300;
        const float s = 1e-3f;
        var sybil = new Sybil(new GaussianAttack(std: 5f), k, s); // randomized inner attack: the base must still be shared
        var outputs = new float[k * d];
        sybil.CraftAll(Context(new float[d]), outputs);
        double maxDiff = 0;
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < k; b++)
                for (int j = 0; j < d; j++)
                    maxDiff = Math.Max(maxDiff, Math.Abs(outputs[a * d + j] - outputs[b * d + j]));
        Assert.True(maxDiff <= s + 1e-5, $"max |v_a − v_b| = {maxDiff}"); // + float rounding at |v| ≈ 15
        Assert.True(maxDiff > s / 2, $"max |v_a − v_b| = {maxDiff}: the noise should be visible"); // 15·300 pairs of U-differences
        // Two independent N(0, 25) draws would differ by ~5.6 on average: the identities share one base.
        Assert.False(outputs.AsSpan(0, d).SequenceEqual(outputs.AsSpan(d, d)));
    }

    [Fact]
    public void Per_identity_crafting_equals_craft_all()
    {
        const int k = 4, d = 50;
        var honest = RandomVectors(8, d, seed: 4);
        var sybil = new Sybil(new ALittleIsEnough(), k, 0.01f);
        var all = new float[k * d];
        sybil.CraftAll(Context(new float[d], honest, n: 12, f: k, seed: 99), all);
        var one = new float[d];
        for (int i = 0; i < k; i++)
        {
            sybil.Craft(Context(new float[d], honest, n: 12, f: k, seed: 99, identity: i), one);
            Assert.Equal(all.AsSpan(i * d, d).ToArray(), one);
        }
    }

    [Fact]
    public void Zero_noise_gives_identical_copies_of_the_inner_attack()
    {
        const int k = 3, d = 20;
        var own = RandomVectors(1, d, seed: 8)[0];
        var all = new float[k * d];
        new Sybil(new SignFlipping(2f), k, 0f).CraftAll(Context(own), all);
        var expected = own.Select(x => -2f * x).ToArray();
        for (int i = 0; i < k; i++) Assert.Equal(expected, all.AsSpan(i * d, d).ToArray());
    }

    [Fact]
    public void Validation()
    {
        Throws<ArgumentOutOfRangeException>(() => new Sybil(new SignFlipping(), 0), "Invalid number of Sybil identities: 0; must be ≥ 1.");
        Throws<ArgumentOutOfRangeException>(() => new Sybil(new SignFlipping(), 2, -1e-3f), "Invalid Sybil noise scale: -0.001; must be a finite value ≥ 0.");
        Throws<ArgumentNullException>(() => new Sybil(null!, 2), "Value cannot be null.");
        var sybil = new Sybil(new SignFlipping(), 2);
        Throws<ArgumentOutOfRangeException>(() => sybil.Craft(Context(new float[3], identity: 2), new float[3]), "Invalid Sybil identity 2; must be in [0, 2).");
        Throws<ArgumentException>(() => sybil.CraftAll(Context(new float[3]), new float[5]), "The outputs have 5 elements; expected 2 identities × 3 = 6.");
    }
}
