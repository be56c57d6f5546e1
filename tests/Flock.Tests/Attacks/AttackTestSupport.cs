using Flock.Aggregation;
using Flock.Attacks;
using Flock.Tensors;

namespace Flock.Tests.Attacks;

internal static class AttackTestSupport
{
    public static AttackContext Context(float[] own, float[][]? honest = null, int n = 10, int f = 2, IAggregator? aggregator = null, ulong seed = 7, int identity = 0) => new()
    {
        Own = own,
        Honest = honest is null ? [] : honest.Select(h => (ReadOnlyMemory<float>)h).ToArray(),
        NodeCount = n,
        ByzantineCount = f,
        Aggregator = aggregator,
        Rng = Rng.Derive(seed, 3, 1, "attack"),
        Identity = identity,
    };

    /// <summary>k random vectors of length d: offset + scale·N(0, 1), from a fixed seed.</summary>
    public static float[][] RandomVectors(int k, int d, ulong seed, float offset = 0f, float scale = 1f)
    {
        var rng = new Rng(seed);
        var xs = new float[k][];
        for (int i = 0; i < k; i++)
        {
            xs[i] = new float[d];
            rng.FillGaussian(xs[i], offset, scale);
        }
        return xs;
    }

    public static double[] MeanDouble(float[][] xs)
    {
        int d = xs[0].Length;
        var m = new double[d];
        foreach (var x in xs) for (int j = 0; j < d; j++) m[j] += x[j];
        for (int j = 0; j < d; j++) m[j] /= xs.Length;
        return m;
    }

    public static double[] StdDouble(float[][] xs, bool sample)
    {
        var m = MeanDouble(xs);
        int d = m.Length;
        var v = new double[d];
        foreach (var x in xs) for (int j = 0; j < d; j++) v[j] += (x[j] - m[j]) * (x[j] - m[j]);
        for (int j = 0; j < d; j++) v[j] = Math.Sqrt(v[j] / (sample ? xs.Length - 1 : xs.Length));
        return v;
    }

    /// <summary>‖aggregator(honest ∪ f × v) − mean(honest)‖₂ computed independently.</summary>
    public static double AggregateDistance(IAggregator aggregator, float[][] honest, float[] v, int f)
    {
        var inputs = honest.Select(h => (ReadOnlyMemory<float>)h).Concat(Enumerable.Repeat((ReadOnlyMemory<float>)v, f)).ToArray();
        var ones = Enumerable.Repeat(1f, inputs.Length).ToArray();
        var agg = new float[v.Length];
        aggregator.Aggregate(inputs, ones, agg);
        var m = MeanDouble(honest);
        double s = 0;
        for (int j = 0; j < v.Length; j++) s += (agg[j] - (float)m[j]) * (double)(agg[j] - (float)m[j]);
        return Math.Sqrt(s);
    }

    public static void Throws<T>(Action act, string messageStart) where T : Exception
    {
        var ex = Assert.Throws<T>(act);
        Assert.StartsWith(messageStart, ex.Message);
    }
}
