using System.Globalization;
using Flock.Attacks;

namespace Flock.Tests.Attacks;

public sealed class NormalQuantileTests
{
    [Fact]
    public void Known_values()
    {
        Assert.Equal(1.959963984540054, NormalQuantile.InverseCdf(0.975), 1e-14);
        Assert.Equal(-1.959963984540054, NormalQuantile.InverseCdf(0.025), 1e-14);
        Assert.Equal(0.0, NormalQuantile.InverseCdf(0.5));
        Assert.Equal(1.6448536269514722, NormalQuantile.InverseCdf(0.95), 1e-14);
        Assert.Equal(2.5758293035489004, NormalQuantile.InverseCdf(0.995), 1e-14);
    }

    [Fact]
    public void Matches_golden_values_checked_against_erfc()
    {
        var lines = File.ReadAllLines(Path.Combine("TestData", "attacks", "normal_quantile.csv")).Skip(1).ToArray();
        Assert.True(lines.Length >= 25);
        foreach (var line in lines)
        {
            var c = line.Split(',');
            double p = double.Parse(c[0], CultureInfo.InvariantCulture), x = double.Parse(c[1], CultureInfo.InvariantCulture);
            double got = NormalQuantile.InverseCdf(p);
            Assert.True(Math.Abs(got - x) <= 1e-15 * Math.Max(1, Math.Abs(x)), $"Φ⁻¹({p}) = {got}, expected {x}");
        }
    }

    [Fact]
    public void Symmetric_and_increasing()
    {
        double previous = double.NegativeInfinity;
        for (int i = 1; i < 1000; i++)
        {
            double p = i / 1000.0;
            double x = NormalQuantile.InverseCdf(p);
            Assert.True(x > previous);
            Assert.Equal(-x, NormalQuantile.InverseCdf(1 - p), 1e-12);
            previous = x;
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Rejects_probabilities_outside_the_open_unit_interval(double p)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => NormalQuantile.InverseCdf(p));
        Assert.StartsWith($"Invalid probability: {p.ToString(CultureInfo.InvariantCulture)}; the normal quantile needs a value in (0, 1).", ex.Message);
    }
}
