using Flock.Aggregation;
using Flock.Aggregation.Kernels;
using Flock.Tensors;

namespace Flock.Tests.Aggregation;

/// <summary>Input builders and scalar references for the aggregation tests.</summary>
internal static class AggregationTestData
{
    public static readonly SimdWidth[] Widths = { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 };

    public static ReadOnlyMemory<float>[] Rows(params float[][] rows) => rows.Select(r => (ReadOnlyMemory<float>)r).ToArray();

    /// <summary>n random vectors of length d; with <paramref name="ties"/>, values from a small integer set.</summary>
    public static float[][] Random(int n, int d, ulong seed, bool ties = false)
    {
        var rng = new Rng(seed);
        var rows = new float[n][];
        for (int i = 0; i < n; i++)
        {
            rows[i] = new float[d];
            for (int c = 0; c < d; c++) rows[i][c] = ties ? rng.NextInt(5) - 2 : (float)rng.NextGaussian();
        }
        return rows;
    }

    public static float[] Run(IAggregator rule, ReadOnlyMemory<float>[] inputs, float[]? weights = null)
    {
        var output = new float[inputs[0].Length];
        rule.Aggregate(inputs, weights ?? Array.Empty<float>(), output);
        return output;
    }

    public static float[] Column(float[][] rows, int c) => rows.Select(r => r[c]).ToArray();

    /// <summary>Sorted column values (the reference for order statistics).</summary>
    public static float[] SortedColumn(float[][] rows, int c)
    {
        var v = Column(rows, c);
        Array.Sort(v);
        return v;
    }

    public static double MedianRef(float[] sorted)
    {
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * ((double)sorted[n / 2 - 1] + sorted[n / 2]);
    }

    public static double TrimmedRef(float[] sorted, int f)
    {
        double s = 0;
        for (int p = f; p < sorted.Length - f; p++) s += sorted[p];
        return s / (sorted.Length - 2 * f);
    }

    /// <summary>Mean of the n − f values closest to the median, by brute force over all windows (ties: lower window).</summary>
    public static double MeamedRef(float[] sorted, int f)
    {
        int n = sorted.Length, k = n - f;
        double m = MedianRef(sorted);
        // Greedy two-pointer from outside in: drop the farther end, the upper one on ties.
        int lo = 0, hi = n - 1;
        for (int drop = 0; drop < f; drop++)
        {
            double dl = m - sorted[lo], dh = sorted[hi] - m;
            if (dh >= dl) hi--; else lo++;
        }
        double s = 0;
        for (int p = lo; p <= hi; p++) s += sorted[p];
        return s / k;
    }

    public static void AssertClose(double expected, double actual, double relTol, string what = "")
    {
        double tol = relTol * Math.Max(1.0, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what} expected {expected:R}, got {actual:R} (tolerance {tol:G3})");
    }

    public static void AssertAllClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relTol, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) AssertClose(expected[i], actual[i], relTol, $"{what}[{i}]");
    }

    public static double Norm(ReadOnlySpan<float> x)
    {
        double s = 0;
        foreach (float v in x) s += (double)v * v;
        return Math.Sqrt(s);
    }
}
