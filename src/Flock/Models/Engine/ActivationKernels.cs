using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Models.Engine;

/// <summary>
/// SIMD forward and backward kernels of the smooth and leaky activations (GELU, leaky ReLU, tanh,
/// sigmoid), plus an accurate error function. Every kernel reads and writes spans of equal length,
/// allocates nothing, and has a Vector512 path, a Vector256 path and a scalar tail.
/// </summary>
public static class ActivationKernels
{
    // erf(x) = x·P(s)/Q(s) with s = x²/ErfClamp², clamped at |x| = ErfClamp (erf(4.5) = 1 − 2·10⁻¹⁰).
    // A rational least-squares fit to math.erf (bench/reference/erf_fit.py; every coefficient is positive, so
    // Horner's rule has no cancellation on s ∈ [0, 1]). Maximum absolute error 2·10⁻¹⁰ in double.
    private const double ErfClamp = 4.5;
    private const double ErfScale = 1.0 / (ErfClamp * ErfClamp);
    private const double P0 = 1.1283791659433324, P1 = 4.780475741756233, P2 = 26.270860851653147, P3 = 55.79935519146917,
        P4 = 107.91678913732807, P5 = 119.85873803377564, P6 = 67.33122107662597, P7 = 3.9861263926715513;
    private const double Q1 = 10.986585937739578, Q2 = 56.43519052847084, Q3 = 177.57638505857472, Q4 = 373.8078504938817,
        Q5 = 531.1297079555817, Q6 = 478.6995060305995, Q7 = 112.18852944659412;

    private const double InvSqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;

    /// <summary>
    /// The error function <c>erf(x) = 2/√π ∫₀ˣ e^(−t²) dt</c>, with absolute error below 2·10⁻¹⁰
    /// (.NET has no <c>Math.Erf</c>). Odd, and exactly ±1 for |x| ≥ 4.5 (where 1 − erf(x) &lt; 2·10⁻¹⁰),
    /// so that <c>x·Φ(x)</c> is exactly 0 for very negative x. NaN gives NaN.
    /// </summary>
    public static double Erf(double x)
    {
        if (Math.Abs(x) >= ErfClamp) return x > 0 ? 1.0 : -1.0;
        double s = x * x * ErfScale;
        double p = ((((((P7 * s + P6) * s + P5) * s + P4) * s + P3) * s + P2) * s + P1) * s + P0;
        double q = ((((((Q7 * s + Q6) * s + Q5) * s + Q4) * s + Q3) * s + Q2) * s + Q1) * s + 1.0;
        return x * p / q;
    }

    /// <summary>The standard normal CDF <c>Φ(x) = ½(1 + erf(x/√2))</c>.</summary>
    public static double NormalCdf(double x) => 0.5 * (1.0 + Erf(x * InvSqrt2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Erf(Vector512<double> x)
    {
        var c = Vector512.Min(Vector512.Max(x, Vector512.Create(-ErfClamp)), Vector512.Create(ErfClamp));
        var s = c * c * Vector512.Create(ErfScale);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P7), s, Vector512.Create(P6));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P0));
        var q = Vector512.FusedMultiplyAdd(Vector512.Create(Q7), s, Vector512.Create(Q6));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q5));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q4));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q3));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q2));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q1));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512<double>.One);
        // ±1 exactly beyond the clamp (c / 4.5 is exact there)
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.Abs(x), Vector512.Create(ErfClamp)), c / Vector512.Create(ErfClamp), c * p / q);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Erf(Vector256<double> x)
    {
        var c = Vector256.Min(Vector256.Max(x, Vector256.Create(-ErfClamp)), Vector256.Create(ErfClamp));
        var s = c * c * Vector256.Create(ErfScale);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P7), s, Vector256.Create(P6));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P0));
        var q = Vector256.FusedMultiplyAdd(Vector256.Create(Q7), s, Vector256.Create(Q6));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256.Create(Q5));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256.Create(Q4));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256.Create(Q3));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256.Create(Q2));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256.Create(Q1));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256<double>.One);
        // ±1 exactly beyond the clamp (c / 4.5 is exact there)
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256.Abs(x), Vector256.Create(ErfClamp)), c / Vector256.Create(ErfClamp), c * p / q);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Gelu(Vector512<double> x) =>
        Vector512.Create(0.5) * x * (Vector512<double>.One + Erf(x * Vector512.Create(InvSqrt2)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Gelu(Vector256<double> x) =>
        Vector256.Create(0.5) * x * (Vector256<double>.One + Erf(x * Vector256.Create(InvSqrt2)));

    // d/dx [x·Φ(x)] = Φ(x) + x·φ(x)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> GeluDerivative(Vector512<double> x)
    {
        var cdf = Vector512.Create(0.5) * (Vector512<double>.One + Erf(x * Vector512.Create(InvSqrt2)));
        var pdf = Vector512.Exp(x * x * Vector512.Create(-0.5)) * Vector512.Create(InvSqrt2Pi);
        return Vector512.FusedMultiplyAdd(x, pdf, cdf);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> GeluDerivative(Vector256<double> x)
    {
        var cdf = Vector256.Create(0.5) * (Vector256<double>.One + Erf(x * Vector256.Create(InvSqrt2)));
        var pdf = Vector256.Exp(x * x * Vector256.Create(-0.5)) * Vector256.Create(InvSqrt2Pi);
        return Vector256.FusedMultiplyAdd(x, pdf, cdf);
    }

    private static double GeluDerivative(double x) => NormalCdf(x) + x * Math.Exp(-0.5 * x * x) * InvSqrt2Pi;

    /// <summary>
    /// Exact GELU <c>y = x·Φ(x) = ½x(1 + erf(x/√2))</c> (PyTorch's default <c>approximate='none'</c>),
    /// computed in double precision and rounded once to float.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ.</exception>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckLengths(x.Length, y.Length);
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref rx, (nuint)i));
                Vector512.Narrow(Gelu(lo), Gelu(hi)).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref rx, (nuint)i));
                Vector256.Narrow(Gelu(lo), Gelu(hi)).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref rx, i);
            Unsafe.Add(ref ry, i) = (float)(v * NormalCdf(v));
        }
    }

    /// <summary>GELU backward from the input: <c>dx = dy·(Φ(x) + x·φ(x))</c>.</summary>
    /// <exception cref="ArgumentException">Lengths differ.</exception>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(x.Length, dy.Length);
        CheckLengths(x.Length, dx.Length);
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdx = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref rx, (nuint)i));
                (Vector512.Narrow(GeluDerivative(lo), GeluDerivative(hi)) * Vector512.LoadUnsafe(ref rdy, (nuint)i)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref rx, (nuint)i));
                (Vector256.Narrow(GeluDerivative(lo), GeluDerivative(hi)) * Vector256.LoadUnsafe(ref rdy, (nuint)i)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref rdx, i) = (float)GeluDerivative(Unsafe.Add(ref rx, i)) * Unsafe.Add(ref rdy, i);
    }

    /// <summary>Leaky ReLU <c>y = x &gt; 0 ? x : slope·x</c>.</summary>
    /// <exception cref="ArgumentException">Lengths differ.</exception>
    public static void LeakyRelu(ReadOnlySpan<float> x, float slope, Span<float> y)
    {
        CheckLengths(x.Length, y.Length);
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(slope);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.LoadUnsafe(ref rx, (nuint)i);
                Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, v * s).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(slope);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref rx, (nuint)i);
                Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, v * s).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref rx, i);
            Unsafe.Add(ref ry, i) = v > 0 ? v : v * slope;
        }
    }

    /// <summary>
    /// Leaky ReLU backward from the input: <c>dx = x &gt; 0 ? dy : slope·dy</c> (slope at exactly 0,
    /// as PyTorch).
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ.</exception>
    public static void LeakyReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float slope, Span<float> dx)
    {
        CheckLengths(x.Length, dy.Length);
        CheckLengths(x.Length, dx.Length);
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdx = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(slope);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var g = Vector512.LoadUnsafe(ref rdy, (nuint)i);
                var m = Vector512.GreaterThan(Vector512.LoadUnsafe(ref rx, (nuint)i), Vector512<float>.Zero);
                Vector512.ConditionalSelect(m, g, g * s).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(slope);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var g = Vector256.LoadUnsafe(ref rdy, (nuint)i);
                var m = Vector256.GreaterThan(Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256<float>.Zero);
                Vector256.ConditionalSelect(m, g, g * s).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float g = Unsafe.Add(ref rdy, i);
            Unsafe.Add(ref rdx, i) = Unsafe.Add(ref rx, i) > 0 ? g : g * slope;
        }
    }

    /// <summary>Tanh backward from the output: <c>dx = dy·(1 − y²)</c>.</summary>
    /// <exception cref="ArgumentException">Lengths differ.</exception>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y.Length, dy.Length);
        CheckLengths(y.Length, dx.Length);
        int n = y.Length, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdx = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.LoadUnsafe(ref ry, (nuint)i);
                (Vector512.LoadUnsafe(ref rdy, (nuint)i) * (Vector512<float>.One - v * v)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref ry, (nuint)i);
                (Vector256.LoadUnsafe(ref rdy, (nuint)i) * (Vector256<float>.One - v * v)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref ry, i);
            Unsafe.Add(ref rdx, i) = Unsafe.Add(ref rdy, i) * (1f - v * v);
        }
    }

    /// <summary>Sigmoid backward from the output: <c>dx = dy·y·(1 − y)</c>.</summary>
    /// <exception cref="ArgumentException">Lengths differ.</exception>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y.Length, dy.Length);
        CheckLengths(y.Length, dx.Length);
        int n = y.Length, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdx = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.LoadUnsafe(ref ry, (nuint)i);
                (Vector512.LoadUnsafe(ref rdy, (nuint)i) * v * (Vector512<float>.One - v)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref ry, (nuint)i);
                (Vector256.LoadUnsafe(ref rdy, (nuint)i) * v * (Vector256<float>.One - v)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref ry, i);
            Unsafe.Add(ref rdx, i) = Unsafe.Add(ref rdy, i) * v * (1f - v);
        }
    }

    private static void CheckLengths(int expected, int actual)
    {
        if (actual != expected) throw new ArgumentException($"Span length {actual} differs from the input length {expected}.");
    }
}
