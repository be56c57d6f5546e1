using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Compression;

/// <summary>
/// Sums in double over one chunk or bucket for the dense codecs (QSGD norms, the scaled-sign scale),
/// fused with the sign bits where a codec needs both. Thirty-two double accumulators (entry
/// 32t + j goes to accumulator j) keep the additions independent, so the sums run at load speed
/// instead of waiting on one addition chain; the accumulators are then added in a fixed tree and
/// the last n mod 32 entries in order. AVX-512 (four Vector512) and Vector256 (eight Vector256)
/// perform the same additions in the same order: the results are identical on every machine.
/// </summary>
internal static class DenseKernels
{
    /// <summary>Σ xᵢ² in double (products of the widened values, then the sums; no fused multiply-add).</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        int n = x.Length, i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        double s;
        if (Avx512F.IsSupported)
        {
            Vector512<double> a = default, b = default, c = default, d = default;
            for (; i <= n - 32; i += 32)
            {
                var w0 = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref r, (nuint)i));
                var w1 = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref r, (nuint)i + 8));
                var w2 = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref r, (nuint)i + 16));
                var w3 = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref r, (nuint)i + 24));
                a += w0 * w0;
                b += w1 * w1;
                c += w2 * w2;
                d += w3 * w3;
            }
            s = Total(a, b, c, d);
        }
        else
        {
            Vector256<double> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
            for (; i <= n - 32; i += 32)
            {
                var (a, b) = Vector256.Widen(Vector256.LoadUnsafe(ref r, (nuint)i));
                var (c, d) = Vector256.Widen(Vector256.LoadUnsafe(ref r, (nuint)i + 8));
                var (e, f) = Vector256.Widen(Vector256.LoadUnsafe(ref r, (nuint)i + 16));
                var (g, h) = Vector256.Widen(Vector256.LoadUnsafe(ref r, (nuint)i + 24));
                a0 += a * a; a1 += b * b;
                b0 += c * c; b1 += d * d;
                c0 += e * e; c1 += f * f;
                d0 += g * g; d1 += h * h;
            }
            s = Total(a0, a1, b0, b1, c0, c1, d0, d1);
        }
        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref r, i);
            s += v * v;
        }
        return s;
    }

    /// <summary>
    /// Σ |pᵢ| in double for p = <paramref name="x"/> (+ <paramref name="addend"/> when not empty, the
    /// float sum e + x), and the sign bits of p into <paramref name="signs"/>: bit i % 8 of byte i / 8
    /// set when pᵢ's IEEE sign bit is set, the unused bits of the last byte zero. The length must be
    /// a multiple of 8 except for the vector's last chunk.
    /// </summary>
    public static double SignsAndMagnitudes(ReadOnlySpan<float> x, ReadOnlySpan<float> addend, Span<byte> signs)
    {
        int n = x.Length, i = 0;
        bool sum = !addend.IsEmpty;
        ref float r = ref MemoryMarshal.GetReference(x);
        ref float e = ref MemoryMarshal.GetReference(addend);
        ref byte o = ref MemoryMarshal.GetReference(signs);
        double s;
        if (Avx512F.IsSupported)
        {
            Vector512<double> a = default, b = default, c = default, d = default;
            for (; i <= n - 32; i += 32)
            {
                var p0 = Vector512.LoadUnsafe(ref r, (nuint)i);
                var p1 = Vector512.LoadUnsafe(ref r, (nuint)i + 16);
                if (sum)
                {
                    p0 = Vector512.LoadUnsafe(ref e, (nuint)i) + p0;
                    p1 = Vector512.LoadUnsafe(ref e, (nuint)i + 16) + p1;
                }
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref o, i >> 3), (uint)p0.ExtractMostSignificantBits() | ((uint)p1.ExtractMostSignificantBits() << 16));
                var m0 = Vector512.Abs(p0);
                var m1 = Vector512.Abs(p1);
                a += Avx512F.ConvertToVector512Double(m0.GetLower());
                b += Avx512F.ConvertToVector512Double(m0.GetUpper());
                c += Avx512F.ConvertToVector512Double(m1.GetLower());
                d += Avx512F.ConvertToVector512Double(m1.GetUpper());
            }
            s = Total(a, b, c, d);
        }
        else
        {
            Vector256<double> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
            for (; i <= n - 32; i += 32)
            {
                uint bits = 0;
                var (a, b) = Widen(ref r, ref e, i, sum, ref bits, 0);
                var (c, d) = Widen(ref r, ref e, i + 8, sum, ref bits, 8);
                var (f, g) = Widen(ref r, ref e, i + 16, sum, ref bits, 16);
                var (h, k) = Widen(ref r, ref e, i + 24, sum, ref bits, 24);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref o, i >> 3), bits);
                a0 += a; a1 += b;
                b0 += c; b1 += d;
                c0 += f; c1 += g;
                d0 += h; d1 += k;
            }
            s = Total(a0, a1, b0, b1, c0, c1, d0, d1);
        }
        int last = 0;
        for (; i < n; i++)
        {
            float p = sum ? Unsafe.Add(ref e, i) + Unsafe.Add(ref r, i) : Unsafe.Add(ref r, i);
            s += Math.Abs(p);
            last |= (int)(BitConverter.SingleToUInt32Bits(p) >> 31) << (i & 7);
            if ((i & 7) == 7 || i == n - 1)
            {
                Unsafe.Add(ref o, i >> 3) = (byte)last;
                last = 0;
            }
        }
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double>, Vector256<double>) Widen(ref float x, ref float addend, int i, bool sum, ref uint bits, int shift)
    {
        var p = Vector256.LoadUnsafe(ref x, (nuint)i);
        if (sum) p = Vector256.LoadUnsafe(ref addend, (nuint)i) + p;
        bits |= p.ExtractMostSignificantBits() << shift;
        return Vector256.Widen(Vector256.Abs(p));
    }

    /// <summary>The thirty-two accumulators of the AVX-512 layout (entries 32t + 0…7 in <paramref name="a"/>, and so on).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Total(Vector512<double> a, Vector512<double> b, Vector512<double> c, Vector512<double> d) =>
        Total(a.GetLower(), a.GetUpper(), b.GetLower(), b.GetUpper(), c.GetLower(), c.GetUpper(), d.GetLower(), d.GetUpper());

    /// <summary>
    /// The sum of thirty-two accumulators, four entries per vector in order (a0 holds entries
    /// 32t + 0…3, a1 32t + 4…7, b0 32t + 8…11, …): ((a + b) + (c + d)) lane by lane, the halves
    /// added, then the four lanes as (v0 + v2) + (v1 + v3).
    /// </summary>
    private static double Total(Vector256<double> a0, Vector256<double> a1, Vector256<double> b0, Vector256<double> b1,
                                Vector256<double> c0, Vector256<double> c1, Vector256<double> d0, Vector256<double> d1)
    {
        var v = ((a0 + b0) + (c0 + d0)) + ((a1 + b1) + (c1 + d1));
        return (v[0] + v[2]) + (v[1] + v[3]);
    }
}
