using System.Numerics;
using System.Runtime.CompilerServices;

namespace Flock.Tensors;

/// <summary>
/// A fast, seeded pseudo-random generator (xoshiro256** by Blackman and Vigna, seeded through
/// SplitMix64). Its output depends only on the seed, never on the .NET version or the machine, so
/// every run is reproducible. Not thread-safe: each node, round and purpose derives its own
/// generator with <see cref="Derive(ulong, ulong, ulong, string)"/> ("randomness is derived, never shared").
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareGaussian;
    private bool _hasSpare;

    /// <summary>Creates a generator from a 64-bit seed.</summary>
    public Rng(ulong seed) => Reset(seed);

    /// <summary>Restarts the stream as if freshly created from <paramref name="seed"/> (no allocation).</summary>
    public void Reset(ulong seed)
    {
        _hasSpare = false;
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>
    /// Derives an independent generator for (experiment seed, node, round, purpose). The same four
    /// values always give the same stream; any change gives an unrelated one.
    /// </summary>
    public static Rng Derive(ulong seed, ulong node, ulong round, string purpose) =>
        new(DeriveSeed(seed, node, round, StableHash(purpose)));

    /// <summary>Mixes any number of values into one well-spread 64-bit seed.</summary>
    public static ulong DeriveSeed(ulong seed, params ReadOnlySpan<ulong> parts)
    {
        ulong h = seed ^ 0x6A09E667F3BCC909UL;
        h = Mix(h);
        foreach (ulong p in parts) h = Mix(h ^ Mix(p + 0x9E3779B97F4A7C15UL));
        return h;
    }

    /// <summary>A hash of a string that is stable across processes and .NET versions (FNV-1a, 64-bit).</summary>
    public static ulong StableHash(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) { h ^= c; h *= 1099511628211UL; }
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        return Mix(x);
    }

    /// <summary>Next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform float in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>), without modulo bias (Lemire's method).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "Must be positive.");
        ulong range = (ulong)maxExclusive;
        ulong x = NextUInt64() >> 32;
        ulong m = x * range;
        uint low = (uint)m;
        if (low < range)
        {
            uint threshold = (uint)(-(long)range % (long)range);
            while (low < threshold)
            {
                x = NextUInt64() >> 32;
                m = x * range;
                low = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    /// <summary>Standard normal sample (Box–Muller, the spare value cached).</summary>
    public double NextGaussian()
    {
        if (_hasSpare) { _hasSpare = false; return _spareGaussian; }
        double u1;
        do { u1 = NextDouble(); } while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        double theta = 2.0 * Math.PI * u2;
        _spareGaussian = r * Math.Sin(theta);
        _hasSpare = true;
        return r * Math.Cos(theta);
    }

    /// <summary>Fills <paramref name="destination"/> with N(<paramref name="mean"/>, <paramref name="std"/>²) samples.</summary>
    public void FillGaussian(Span<float> destination, float mean = 0f, float std = 1f)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = mean + std * (float)NextGaussian();
    }

    /// <summary>Fills <paramref name="destination"/> with U[<paramref name="low"/>, <paramref name="high"/>) samples.</summary>
    public void FillUniform(Span<float> destination, float low, float high)
    {
        float w = high - low;
        for (int i = 0; i < destination.Length; i++) destination[i] = low + w * NextFloat();
    }

    /// <summary>Gamma(shape, 1) sample (Marsaglia–Tsang; boosted for shape &lt; 1). Used by Dirichlet partitioning.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shape"/> is not positive.</exception>
    public double NextGamma(double shape)
    {
        if (!(shape > 0)) throw new ArgumentOutOfRangeException(nameof(shape), shape, "Gamma shape must be positive.");
        if (shape < 1)
        {
            double u = NextDouble();
            return NextGamma(shape + 1) * Math.Pow(u <= 0 ? double.Epsilon : u, 1.0 / shape);
        }
        double d = shape - 1.0 / 3.0, c = 1.0 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do { x = NextGaussian(); v = 1 + c * x; } while (v <= 0);
            v = v * v * v;
            double u = NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
