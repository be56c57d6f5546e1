using Flock.Compression;
using Flock.Tensors;

namespace Flock.Tests.Protocols.Compression;

public class FastGaussianTests
{
    [Fact]
    public void Same_seed_same_vector_and_prefixes_agree()
    {
        var a = new float[1000];
        var b = new float[5003];
        var c = new float[1000];
        FastGaussian.Fill(42, a);
        FastGaussian.Fill(42, b);
        FastGaussian.Fill(43, c);
        Assert.Equal(a, b[..1000]);
        Assert.True(a.Zip(c).Count(p => p.First == p.Second) < 5);
    }

    [Fact]
    public void Add_scaled_equals_fill_then_multiply_add()
    {
        var z = new float[1237];
        FastGaussian.Fill(7, z);
        var acc = new float[1237];
        new Rng(1).FillGaussian(acc);
        var expected = acc.Select((v, i) => v + 0.37f * z[i]).ToArray();
        FastGaussian.AddScaled(7, 0.37f, acc);
        Assert.Equal(expected, acc);
    }

    [Fact]
    public void Samples_are_box_muller_of_the_documented_words()
    {
        const ulong seed = 123;
        var z = new float[1024];
        FastGaussian.Fill(seed, z);
        var words = new uint[1024];
        var lanes = new SimdRandom(new Rng(seed));
        lanes.Fill(words.AsSpan(0, 512));
        lanes.Fill(words.AsSpan(512));
        for (int block = 0; block < 1024; block += 32)
            for (int j = 0; j < 16; j++)
            {
                uint uw = words[block + j], aw = words[block + 16 + j];
                double u = ((uw >> 8) + 1) / 16777216.0;
                double r = Math.Sqrt(-2 * Math.Log(u));
                double theta = (aw & 0xFFFFFF) / 16777216.0 * Math.PI / 2 - Math.PI / 4 + (aw >> 30) * Math.PI / 2;
                double c = r * Math.Cos(theta), s = r * Math.Sin(theta);
                Assert.True(Math.Abs(c - z[block + j]) <= 2e-6 * Math.Max(1, Math.Abs(c)), $"output {block + j}: {z[block + j]} vs {c}");
                Assert.True(Math.Abs(s - z[block + 16 + j]) <= 2e-6 * Math.Max(1, Math.Abs(s)), $"output {block + 16 + j}: {z[block + 16 + j]} vs {s}");
            }
    }

    [Fact]
    public void Moments_and_distribution_are_standard_normal()
    {
        const int n = 1 << 20;
        var z = new float[n];
        FastGaussian.Fill(2024, z);
        double m1 = 0, m2 = 0, m4 = 0, lag = 0;
        for (int i = 0; i < n; i++)
        {
            double x = z[i];
            m1 += x; m2 += x * x; m4 += x * x * x * x;
            lag += x * z[(i + 16) % n];                               // the cos/sin pair of a lane
        }
        m1 /= n; m2 /= n; m4 /= n; lag /= n;
        Assert.InRange(m1, -5.0 / Math.Sqrt(n), 5.0 / Math.Sqrt(n));
        Assert.InRange(m2, 0.99, 1.01);
        Assert.InRange(m4, 2.95, 3.05);
        Assert.InRange(lag, -0.01, 0.01);
        // Kolmogorov–Smirnov distance to Φ (5% critical value 1.36/√n ≈ 0.0013).
        Array.Sort(z);
        double ks = 0;
        for (int i = 0; i < n; i++)
        {
            double f = Phi(z[i]);
            ks = Math.Max(ks, Math.Max(Math.Abs(f - (double)i / n), Math.Abs(f - (double)(i + 1) / n)));
        }
        Assert.True(ks < 0.002, $"KS distance {ks}");
    }

    /// <summary>Φ(x) = erfc(−x/√2)/2 with the Chebyshev erfc of Numerical Recipes (fractional error &lt; 1.2e-7).</summary>
    private static double Phi(double x)
    {
        double t0 = -x / Math.Sqrt(2), zz = Math.Abs(t0), t = 1 / (1 + 0.5 * zz);
        double r = t * Math.Exp(-zz * zz - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        double erfc = t0 >= 0 ? r : 2 - r;
        return 0.5 * erfc;
    }
}
