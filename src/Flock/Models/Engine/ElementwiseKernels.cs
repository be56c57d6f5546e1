using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Models.Engine;

/// <summary>SIMD element-wise kernels used by activation layers' backward passes.</summary>
public static class ElementwiseKernels
{
    /// <summary><c>dx[i] = y[i] &gt; 0 ? dy[i] : 0</c> (ReLU backward from the output).</summary>
    public static void MaskPositive(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = y.Length, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdx = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var m = Vector512.GreaterThan(Vector512.LoadUnsafe(ref ry, (nuint)i), Vector512<float>.Zero);
                (Vector512.LoadUnsafe(ref rdy, (nuint)i) & m).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var m = Vector256.GreaterThan(Vector256.LoadUnsafe(ref ry, (nuint)i), Vector256<float>.Zero);
                (Vector256.LoadUnsafe(ref rdy, (nuint)i) & m).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref rdx, i) = Unsafe.Add(ref ry, i) > 0 ? Unsafe.Add(ref rdy, i) : 0f;
    }
}
