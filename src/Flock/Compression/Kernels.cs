using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Compression;

/// <summary>
/// SIMD kernels shared by the codecs. Reductions use a fixed Vector256 order (identical results
/// whatever the instruction set), element-wise and counting kernels use the widest vectors.
/// </summary>
internal static class Kernels
{
    /// <summary>Σ xᵢ², accumulated in double in a fixed order.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        int n = x.Length, i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        var a0 = Vector256<double>.Zero;
        var a1 = Vector256<double>.Zero;
        for (; i <= n - 8; i += 8)
        {
            var v = Vector256.LoadUnsafe(ref r, (nuint)i);
            var (lo, hi) = Vector256.Widen(v);
            a0 += lo * lo;
            a1 += hi * hi;
        }
        double s = Vector256.Sum(a0 + a1);
        for (; i < n; i++) { double v = Unsafe.Add(ref r, i); s += v * v; }
        return s;
    }

    /// <summary>Σ |xᵢ|, accumulated in double in a fixed order.</summary>
    public static double SumOfMagnitudes(ReadOnlySpan<float> x)
    {
        int n = x.Length, i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        var a0 = Vector256<double>.Zero;
        var a1 = Vector256<double>.Zero;
        for (; i <= n - 8; i += 8)
        {
            var v = Vector256.Abs(Vector256.LoadUnsafe(ref r, (nuint)i));
            var (lo, hi) = Vector256.Widen(v);
            a0 += lo;
            a1 += hi;
        }
        double s = Vector256.Sum(a0 + a1);
        for (; i < n; i++) s += Math.Abs(Unsafe.Add(ref r, i));
        return s;
    }

    /// <summary>Number of entries with |xᵢ| ≥ <paramref name="threshold"/> (NaN never counts).</summary>
    public static int CountAtLeast(ReadOnlySpan<float> x, float threshold)
    {
        int n = x.Length, i = 0, count = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        if (Vector512.IsHardwareAccelerated)
        {
            var t = Vector512.Create(threshold);
            for (; i <= n - 16; i += 16)
                count += BitOperations.PopCount(Vector512.GreaterThanOrEqual(Vector512.Abs(Vector512.LoadUnsafe(ref r, (nuint)i)), t).ExtractMostSignificantBits());
        }
        {
            var t = Vector256.Create(threshold);
            for (; i <= n - 8; i += 8)
                count += BitOperations.PopCount(Vector256.GreaterThanOrEqual(Vector256.Abs(Vector256.LoadUnsafe(ref r, (nuint)i)), t).ExtractMostSignificantBits());
        }
        for (; i < n; i++) if (MathF.Abs(Unsafe.Add(ref r, i)) >= threshold) count++;
        return count;
    }

    /// <summary>
    /// Writes, in increasing order, the indices of entries with |xᵢ| ≥ <paramref name="threshold"/>
    /// into <paramref name="indices"/> (at most its length) and returns how many there are in total
    /// (which may exceed the capacity).
    /// </summary>
    public static int CollectAtLeast(ReadOnlySpan<float> x, float threshold, Span<int> indices)
    {
        int n = x.Length, i = 0, count = 0, cap = indices.Length;
        ref float r = ref MemoryMarshal.GetReference(x);
        ref int o = ref MemoryMarshal.GetReference(indices);
        if (Vector512.IsHardwareAccelerated)
        {
            var t = Vector512.Create(threshold);
            for (; i <= n - 16; i += 16)
            {
                ulong bits = Vector512.GreaterThanOrEqual(Vector512.Abs(Vector512.LoadUnsafe(ref r, (nuint)i)), t).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    if (count < cap) Unsafe.Add(ref o, count) = i + BitOperations.TrailingZeroCount(bits);
                    count++;
                    bits &= bits - 1;
                }
            }
        }
        {
            var t = Vector256.Create(threshold);
            for (; i <= n - 8; i += 8)
            {
                uint bits = Vector256.GreaterThanOrEqual(Vector256.Abs(Vector256.LoadUnsafe(ref r, (nuint)i)), t).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    if (count < cap) Unsafe.Add(ref o, count) = i + BitOperations.TrailingZeroCount(bits);
                    count++;
                    bits &= bits - 1;
                }
            }
        }
        for (; i < n; i++)
        {
            if (MathF.Abs(Unsafe.Add(ref r, i)) >= threshold)
            {
                if (count < cap) Unsafe.Add(ref o, count) = i;
                count++;
            }
        }
        return count;
    }

    /// <summary>acc ← acc + values·scale, rounding the product then the sum (no fused multiply-add).</summary>
    public static void AddScaled(Span<float> accumulator, ReadOnlySpan<float> values, float scale)
    {
        int n = values.Length, i = 0;
        ref float a = ref MemoryMarshal.GetReference(accumulator);
        ref float v = ref MemoryMarshal.GetReference(values);
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(scale);
            for (; i <= n - 16; i += 16)
                (Vector512.LoadUnsafe(ref a, (nuint)i) + Vector512.LoadUnsafe(ref v, (nuint)i) * s).StoreUnsafe(ref a, (nuint)i);
        }
        {
            var s = Vector256.Create(scale);
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref a, (nuint)i) + Vector256.LoadUnsafe(ref v, (nuint)i) * s).StoreUnsafe(ref a, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref a, i) += Unsafe.Add(ref v, i) * scale;
    }

    /// <summary>Magnitude key for ordering: |x|, with NaN ranked below every number (−1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MagnitudeKey(float x)
    {
        float a = MathF.Abs(x);
        return float.IsNaN(a) ? -1f : a;
    }
}
