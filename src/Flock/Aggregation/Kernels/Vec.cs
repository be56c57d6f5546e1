using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Flock.Aggregation.Kernels;

/// <summary>The SIMD width a kernel runs at; <see cref="Simd.Best"/> picks the widest accelerated one.</summary>
internal enum SimdWidth
{
    /// <summary>One float at a time (the reference every vector path is tested against).</summary>
    Scalar,
    /// <summary>8 floats (AVX2 / Vector256).</summary>
    V256,
    /// <summary>16 floats (AVX-512 / Vector512).</summary>
    V512,
}

/// <summary>Picks the SIMD width.</summary>
internal static class Simd
{
    /// <summary>The widest hardware-accelerated width on this machine.</summary>
    public static SimdWidth Best { get; } =
        Vector512.IsHardwareAccelerated ? SimdWidth.V512 :
        Vector256.IsHardwareAccelerated ? SimdWidth.V256 : SimdWidth.Scalar;

    /// <summary>Floats per vector at <paramref name="w"/>.</summary>
    public static int Lanes(SimdWidth w) => w switch { SimdWidth.V512 => 16, SimdWidth.V256 => 8, _ => 1 };
}

/// <summary>
/// A float vector of a fixed width, as a static-abstract interface so each kernel is written once
/// and specialised by the JIT for <see cref="V512"/>, <see cref="V256"/> and <see cref="V1"/> (scalar).
/// Masks are vectors whose lanes have all bits set (true) or clear (false).
/// </summary>
internal unsafe interface IVec<TSelf> where TSelf : unmanaged, IVec<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Zero { get; }
    static abstract TSelf Broadcast(float x);
    static abstract TSelf Load(float* p);
    static abstract void Store(TSelf v, float* p);
    /// <summary>Streaming store that bypasses the caches; <paramref name="p"/> must be aligned to the vector size.</summary>
    static abstract void StoreNonTemporal(TSelf v, float* p);
    static abstract TSelf Min(TSelf a, TSelf b);
    static abstract TSelf Max(TSelf a, TSelf b);
    static abstract TSelf Add(TSelf a, TSelf b);
    static abstract TSelf Sub(TSelf a, TSelf b);
    static abstract TSelf Mul(TSelf a, TSelf b);
    /// <summary><c>a·b + c</c>.</summary>
    static abstract TSelf MulAdd(TSelf a, TSelf b, TSelf c);
    static abstract TSelf Abs(TSelf a);
    static abstract TSelf GreaterThan(TSelf a, TSelf b);
    static abstract TSelf LessThan(TSelf a, TSelf b);
    static abstract TSelf GreaterThanOrEqual(TSelf a, TSelf b);
    static abstract TSelf And(TSelf mask, TSelf a);
    static abstract TSelf AndMask(TSelf a, TSelf b);
    static abstract float Sum(TSelf a);
}

/// <summary>16 floats (Vector512).</summary>
internal readonly unsafe struct V512 : IVec<V512>
{
    private readonly Vector512<float> _v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private V512(Vector512<float> v) => _v = v;
    public static int Count => 16;
    public static V512 Zero => new(Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Broadcast(float x) => new(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Load(float* p) => new(Vector512.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V512 v, float* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreNonTemporal(V512 v, float* p) => v._v.StoreAlignedNonTemporal(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Min(V512 a, V512 b) => new(Vector512.MinNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Max(V512 a, V512 b) => new(Vector512.MaxNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Add(V512 a, V512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Sub(V512 a, V512 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Mul(V512 a, V512 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 MulAdd(V512 a, V512 b, V512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Abs(V512 a) => new(Vector512.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 GreaterThan(V512 a, V512 b) => new(Vector512.GreaterThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 LessThan(V512 a, V512 b) => new(Vector512.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 GreaterThanOrEqual(V512 a, V512 b) => new(Vector512.GreaterThanOrEqual(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 And(V512 mask, V512 a) => new(mask._v & a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 AndMask(V512 a, V512 b) => new(a._v & b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(V512 a) => Vector512.Sum(a._v);
}

/// <summary>8 floats (Vector256).</summary>
internal readonly unsafe struct V256 : IVec<V256>
{
    private readonly Vector256<float> _v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private V256(Vector256<float> v) => _v = v;
    public static int Count => 8;
    public static V256 Zero => new(Vector256<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Broadcast(float x) => new(Vector256.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Load(float* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V256 v, float* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreNonTemporal(V256 v, float* p) => v._v.StoreAlignedNonTemporal(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Min(V256 a, V256 b) => new(Vector256.MinNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Max(V256 a, V256 b) => new(Vector256.MaxNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Add(V256 a, V256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Sub(V256 a, V256 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Mul(V256 a, V256 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 MulAdd(V256 a, V256 b, V256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Abs(V256 a) => new(Vector256.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 GreaterThan(V256 a, V256 b) => new(Vector256.GreaterThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 LessThan(V256 a, V256 b) => new(Vector256.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 GreaterThanOrEqual(V256 a, V256 b) => new(Vector256.GreaterThanOrEqual(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 And(V256 mask, V256 a) => new(mask._v & a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 AndMask(V256 a, V256 b) => new(a._v & b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(V256 a) => Vector256.Sum(a._v);
}

/// <summary>One float: the scalar reference of every vector kernel.</summary>
internal readonly unsafe struct V1 : IVec<V1>
{
    private readonly float _v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private V1(float v) => _v = v;
    private static readonly float True = BitConverter.Int32BitsToSingle(-1);
    public static int Count => 1;
    public static V1 Zero => new(0f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Broadcast(float x) => new(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Load(float* p) => new(*p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V1 v, float* p) => *p = v._v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreNonTemporal(V1 v, float* p) => *p = v._v;
    // Same semantics as vminps/vmaxps: the second operand unless the comparison holds.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Min(V1 a, V1 b) => new(a._v < b._v ? a._v : b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Max(V1 a, V1 b) => new(a._v > b._v ? a._v : b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Add(V1 a, V1 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Sub(V1 a, V1 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Mul(V1 a, V1 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 MulAdd(V1 a, V1 b, V1 c) => new(MathF.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Abs(V1 a) => new(MathF.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 GreaterThan(V1 a, V1 b) => new(a._v > b._v ? True : 0f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 LessThan(V1 a, V1 b) => new(a._v < b._v ? True : 0f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 GreaterThanOrEqual(V1 a, V1 b) => new(a._v >= b._v ? True : 0f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 And(V1 mask, V1 a) =>
        new(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(mask._v) & BitConverter.SingleToInt32Bits(a._v)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 AndMask(V1 a, V1 b) => And(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(V1 a) => a._v;
}
