using Flock.Tensors;

namespace Flock.Runtime.Simulation;

/// <summary>
/// How per-node compute speed factors are drawn. A node's factor multiplies the virtual time of its
/// training jobs (a factor of 2 is a node twice as slow). Each factor is drawn once, from
/// <c>Rng.Derive(seed, node, 0, "speed")</c>, so it depends only on the seed and the node.
/// </summary>
public abstract class SpeedDistribution
{
    private protected SpeedDistribution() { }

    /// <summary>Every node has factor <paramref name="factor"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not finite and positive.</exception>
    public static SpeedDistribution Constant(double factor = 1.0)
    {
        CheckFactor(factor, nameof(factor));
        return new ConstantSpeed(factor);
    }

    /// <summary>Factors uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is not finite and positive, or <paramref name="high"/> &lt; <paramref name="low"/>.</exception>
    public static SpeedDistribution Uniform(double low, double high)
    {
        CheckFactor(low, nameof(low));
        CheckFactor(high, nameof(high));
        if (high < low) throw new ArgumentOutOfRangeException(nameof(high), high, $"Invalid uniform speed range [{low}, {high}): high must be ≥ low.");
        return new UniformSpeed(low, high);
    }

    /// <summary>Log-normal factors <c>exp(μ + σ·z)</c>, z standard normal (median <c>exp(μ)</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mu"/> is not finite or <paramref name="sigma"/> is negative or not finite.</exception>
    public static SpeedDistribution LogNormal(double mu, double sigma)
    {
        if (!double.IsFinite(mu)) throw new ArgumentOutOfRangeException(nameof(mu), mu, $"Invalid log-normal μ: {mu}; must be finite.");
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, $"Invalid log-normal σ: {sigma}; must be finite and ≥ 0.");
        return new LogNormalSpeed(mu, sigma);
    }

    /// <summary>Explicit factors, one per node (node i gets <c>factors[i]</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A factor is not finite and positive.</exception>
    public static SpeedDistribution PerNode(IReadOnlyList<double> factors)
    {
        ArgumentNullException.ThrowIfNull(factors);
        for (int i = 0; i < factors.Count; i++) CheckFactor(factors[i], $"{nameof(factors)}[{i}]");
        return new PerNodeSpeed(factors.ToArray());
    }

    /// <summary>The factor of node <paramref name="node"/> in an experiment seeded with <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No factor is defined for <paramref name="node"/>.</exception>
    public abstract double Factor(ulong seed, int node);

    private static void CheckFactor(double f, string name)
    {
        if (!(f > 0) || !double.IsFinite(f)) throw new ArgumentOutOfRangeException(name, f, $"Invalid speed factor: {f}; must be finite and > 0.");
    }

    private static Rng NodeRng(ulong seed, int node) => Rng.Derive(seed, (ulong)node, 0, "speed");

    private sealed class ConstantSpeed(double factor) : SpeedDistribution
    {
        public override double Factor(ulong seed, int node) => factor;
        public override string ToString() => $"constant({factor})";
    }

    private sealed class UniformSpeed(double low, double high) : SpeedDistribution
    {
        public override double Factor(ulong seed, int node) => low + (high - low) * NodeRng(seed, node).NextDouble();
        public override string ToString() => $"uniform({low}, {high})";
    }

    private sealed class LogNormalSpeed(double mu, double sigma) : SpeedDistribution
    {
        public override double Factor(ulong seed, int node) => Math.Exp(mu + sigma * NodeRng(seed, node).NextGaussian());
        public override string ToString() => $"lognormal({mu}, {sigma})";
    }

    private sealed class PerNodeSpeed(double[] factors) : SpeedDistribution
    {
        public override double Factor(ulong seed, int node) =>
            (uint)node < (uint)factors.Length ? factors[node]
            : throw new ArgumentOutOfRangeException(nameof(node), node, $"Only {factors.Length} per-node speed factors were given.");
        public override string ToString() => $"per-node({factors.Length})";
    }
}
