using Flock.Attacks;
using static Flock.Tests.Attacks.AttackTestSupport;

namespace Flock.Tests.Attacks;

public sealed class CatalogAndValidationTests
{
    [Fact]
    public void Catalog_lists_every_attack_with_documented_parameters()
    {
        var names = AttackCatalog.All.Select(a => a.Name).ToArray();
        Assert.Equal(new[] { "sign-flipping", "gaussian", "ipm", "alie", "mimic", "optimal-alie", "optimal-ipm", "sybil", "label-flipping", "backdoor" }, names);
        foreach (var info in AttackCatalog.All)
        {
            Assert.Contains("20", info.Paper); // a year
            Assert.False(string.IsNullOrWhiteSpace(info.Description));
            Assert.Equal(info.Parameters.Count, info.Parameters.Select(p => p.Name).Distinct().Count());
            foreach (var p in info.Parameters)
            {
                Assert.Matches("^[a-z_]+$", p.Name);
                Assert.False(string.IsNullOrWhiteSpace(p.Description));
                Assert.Equal(p.Default, p.Value); // descriptions show defaults
            }
        }
        Assert.Equal(AttackKind.Data, AttackCatalog.All.Single(a => a.Name == "backdoor").Kind);
        Assert.Equal(AttackKind.Sybil, AttackCatalog.All.Single(a => a.Name == "sybil").Kind);
        Assert.Equal("z = auto (default auto): Fixed factor z (finite); default: from n and f (s = ⌊n/2+1⌋ − f, z = Φ⁻¹((n − s)/n)).",
            AttackCatalog.All.Single(a => a.Name == "alie").Parameters[0].ToString());
    }

    [Fact]
    public void Instances_report_their_values_and_needs()
    {
        var alie = new ALittleIsEnough(z: 1.25f, zRule: AlieZRule.HonestCount, sampleStd: false);
        Assert.Equal(1.25f, alie.Parameters.Single(p => p.Name == "z").Value);
        Assert.Equal("HonestCount", alie.Parameters.Single(p => p.Name == "z_rule").Value);
        Assert.True(new OptimalInnerProductManipulation().UsesAggregator);
        Assert.False(new SignFlipping().UsesHonestVectors);
        Assert.True(new Sybil(new Mimic(), 3).UsesHonestVectors);
        Assert.Equal(25, new OptimalALittleIsEnough(new LineSearch(evaluations: 25)).Parameters.Single(p => p.Name == "evaluations").Value);
    }

    [Fact]
    public void Parameters_are_validated_with_the_bad_value()
    {
        Throws<ArgumentOutOfRangeException>(() => new SignFlipping(-1f), "Invalid sign-flipping scale: -1; must be a finite value > 0.");
        Throws<ArgumentOutOfRangeException>(() => new GaussianAttack(std: -0.5f), "Invalid Gaussian attack standard deviation: -0.5; must be a finite value ≥ 0.");
        Throws<ArgumentOutOfRangeException>(() => new GaussianAttack(mean: float.NaN), "Invalid Gaussian attack mean: NaN; must be a finite value.");
        Throws<ArgumentOutOfRangeException>(() => new InnerProductManipulation(float.NaN), "Invalid IPM epsilon: NaN; must be a finite value ≥ 0.");
        Throws<ArgumentOutOfRangeException>(() => new InnerProductManipulation(-0.1f), "Invalid IPM epsilon: -0.1; must be a finite value ≥ 0.");
        Throws<ArgumentOutOfRangeException>(() => new ALittleIsEnough(z: float.PositiveInfinity), "Invalid ALIE z: Infinity; must be a finite value.");
        Throws<ArgumentOutOfRangeException>(() => new ALittleIsEnough(zRule: (AlieZRule)7), "Invalid ALIE z rule: 7; must be one of: Paper, HonestCount.");
        Throws<ArgumentOutOfRangeException>(() => new Mimic(index: -2), "Invalid mimic target index: -2; must be ≥ 0.");
        Throws<ArgumentOutOfRangeException>(() => new LineSearch(ratio: 0.5f), "Invalid line-search contraction ratio: 0.5; must be in (0.5, 1).");
        Throws<ArgumentOutOfRangeException>(() => new LineSearch(evaluations: 1), "Invalid number of line-search evaluations: 1; must be ≥ 2.");
        Throws<ArgumentOutOfRangeException>(() => new LineSearch(delta: 0f), "Invalid line-search step: 0; must be a finite value > 0.");
        Throws<ArgumentOutOfRangeException>(() => new OptimalInnerProductManipulation(baselineEpsilon: -1f), "Invalid IPM epsilon: -1; must be a finite value ≥ 0.");
        // s = ⌊10/2 + 1⌋ − 6 = 0: probability (10 − 0)/10 = 1 has no quantile.
        Throws<ArgumentOutOfRangeException>(() => ALittleIsEnough.ZMax(10, 6), "ALIE cannot derive z for n = 10, f = 6: s = ⌊n/2 + 1⌋ − f = 0 gives probability 1, outside (0, 1); give z explicitly.");
        Throws<ArgumentOutOfRangeException>(() => ALittleIsEnough.ZMax(10, 10), "Invalid Byzantine count f = 10; must be in [0, n − 1 = 9].");
        Throws<ArgumentOutOfRangeException>(() => ALittleIsEnough.ZMax(0, 0), "Invalid node count n = 0; must be ≥ 1.");
    }
}
