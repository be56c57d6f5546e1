using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Models.Engine;

/// <summary>SIMD element-wise kernels used by activation layers' backward passes.</summary>
public static class ElementwiseKernels
{
    /// <summary><c>dx[i] = y[i] &gt; 0 ? dy[i] : 0</c> (ReLU backward from the output).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary><c>y[i] = max(x[i], 0)</c> (ReLU); a NaN input gives NaN, as in PyTorch.</summary>
    /// <param name="x">Inputs.</param>
    /// <param name="y">Outputs (may be <paramref name="x"/> itself); at least as long as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException($"Output of {y.Length} is shorter than the {x.Length} inputs.", nameof(y));
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                Vector512.Max(Vector512.LoadUnsafe(ref rx, (nuint)i), Vector512<float>.Zero).StoreUnsafe(ref ry, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.Max(Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256<float>.Zero).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref rx, i);
            Unsafe.Add(ref ry, i) = v > 0 || float.IsNaN(v) ? v : 0f;
        }
    }

    /// <summary>Adds <paramref name="row"/> to every row of the row-major matrix <paramref name="matrix"/> (bias add).</summary>
    /// <param name="matrix">Rows of <c>row.Length</c> floats, updated in place.</param>
    /// <param name="row">The vector added to each row (non-empty).</param>
    /// <exception cref="ArgumentException"><paramref name="row"/> is empty or the matrix length is not a multiple of its length.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddToRows(Span<float> matrix, ReadOnlySpan<float> row)
    {
        int n = row.Length;
        if (n == 0 || matrix.Length % n != 0)
            throw new ArgumentException($"Matrix of {matrix.Length} floats is not a whole number of rows of {n}.", nameof(matrix));
        ref float rb = ref MemoryMarshal.GetReference(row);
        for (int off = 0; off < matrix.Length; off += n)
        {
            ref float rm = ref Unsafe.Add(ref MemoryMarshal.GetReference(matrix), off);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; j <= n - Vector512<float>.Count; j += Vector512<float>.Count)
                    (Vector512.LoadUnsafe(ref rm, (nuint)j) + Vector512.LoadUnsafe(ref rb, (nuint)j)).StoreUnsafe(ref rm, (nuint)j);
            if (Vector256.IsHardwareAccelerated)
                for (; j <= n - Vector256<float>.Count; j += Vector256<float>.Count)
                    (Vector256.LoadUnsafe(ref rm, (nuint)j) + Vector256.LoadUnsafe(ref rb, (nuint)j)).StoreUnsafe(ref rm, (nuint)j);
            for (; j < n; j++) Unsafe.Add(ref rm, j) += Unsafe.Add(ref rb, j);
        }
    }

    /// <summary>Overwrites <paramref name="sum"/> with the sum of the rows of <paramref name="matrix"/> (bias gradient).</summary>
    /// <param name="matrix">Rows of <c>sum.Length</c> floats.</param>
    /// <param name="sum">The column sums (non-empty).</param>
    /// <exception cref="ArgumentException"><paramref name="sum"/> is empty or the matrix length is not a multiple of its length.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumRows(ReadOnlySpan<float> matrix, Span<float> sum)
    {
        int n = sum.Length;
        if (n == 0 || matrix.Length % n != 0)
            throw new ArgumentException($"Matrix of {matrix.Length} floats is not a whole number of rows of {n}.", nameof(matrix));
        sum.Clear();
        ref float rs = ref MemoryMarshal.GetReference(sum);
        for (int off = 0; off < matrix.Length; off += n)
        {
            ref float rm = ref Unsafe.Add(ref MemoryMarshal.GetReference(matrix), off);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; j <= n - Vector512<float>.Count; j += Vector512<float>.Count)
                    (Vector512.LoadUnsafe(ref rs, (nuint)j) + Vector512.LoadUnsafe(ref rm, (nuint)j)).StoreUnsafe(ref rs, (nuint)j);
            if (Vector256.IsHardwareAccelerated)
                for (; j <= n - Vector256<float>.Count; j += Vector256<float>.Count)
                    (Vector256.LoadUnsafe(ref rs, (nuint)j) + Vector256.LoadUnsafe(ref rm, (nuint)j)).StoreUnsafe(ref rs, (nuint)j);
            for (; j < n; j++) Unsafe.Add(ref rs, j) += Unsafe.Add(ref rm, j);
        }
    }
}
