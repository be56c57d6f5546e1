using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Compression;

/// <summary>
/// The fast Walsh–Hadamard transform in place: y = H·x with the unnormalized Sylvester Hadamard
/// matrix H (entries ±1, H·H = n·I), for lengths that are powers of two. O(n log n) additions,
/// cache-blocked: all butterflies with strides below 4096 run on L1-resident blocks (three levels
/// per vector pass, the strides 1, 2 and 4 by in-register shuffles), and the larger strides run on
/// column panels of at most 1024 rows that fit in L2 (recursively for very long vectors). The order of the
/// additions depends only on n, so results are identical on every machine.
/// </summary>
public static class WalshHadamard
{
    private const int BlockLength = 1 << 12;
    private const int PanelFloats = 1 << 18;

    /// <summary>Transforms <paramref name="data"/> in place (unnormalized: apply 1/√n for the orthonormal transform).</summary>
    /// <exception cref="ArgumentException">The length is not a power of two (0 and 1 are allowed: nothing to do).</exception>
    public static void Transform(Span<float> data)
    {
        int n = data.Length;
        if (n <= 1) return;
        if (!BitOperations.IsPow2(n)) throw new ArgumentException($"The Walsh–Hadamard transform needs a power-of-two length; got {n}.", nameof(data));
        ref float r = ref MemoryMarshal.GetReference(data);
        if (n < 8)
        {
            for (int h = 1; h < n; h <<= 1)
                for (int g = 0; g < n; g += 2 * h)
                    for (int j = g; j < g + h; j++)
                    {
                        float a = Unsafe.Add(ref r, j), b = Unsafe.Add(ref r, j + h);
                        Unsafe.Add(ref r, j) = a + b;
                        Unsafe.Add(ref r, j + h) = a - b;
                    }
            return;
        }
        TransformRecursive(ref r, n);
    }

    /// <summary>
    /// Blocks of length b are transformed first (recursively), then the strides b … n/2 run on
    /// column panels of the (n/b)×b row-major view. b is chosen so that there are at most
    /// <see cref="MaxRows"/> rows: a panel then touches few enough pages to stay in the TLB.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformRecursive(ref float r, int n)
    {
        if (n <= BlockLength)
        {
            TransformBlock(ref r, n);
            return;
        }
        int block = Math.Max(BlockLength, n / MaxRows);
        for (int b = 0; b < n; b += block) TransformRecursive(ref Unsafe.Add(ref r, b), block);
        int rows = n / block;
        int panel = Math.Clamp(PanelFloats / rows, 8, block);
        for (int col = 0; col < block; col += panel)
            Levels(ref Unsafe.Add(ref r, col), n, block, panel, columnsAreStride: false);
    }

    private const int MaxRows = 1024;

    /// <summary>All levels with strides below <paramref name="length"/> on one contiguous block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformBlock(ref float p, int length)
    {
        if (Vector512.IsHardwareAccelerated && length >= 16)
        {
            // Strides 1, 2, 4 and 8 inside each register of sixteen, then radix-16 passes.
            for (int i = 0; i < length; i += 16)
                Butterfly16(Vector512.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
            TransformAfter16(ref p, length);
            return;
        }

        var s1 = Vector256.Create(1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f);
        var s2 = Vector256.Create(1f, 1f, -1f, -1f, 1f, 1f, -1f, -1f);
        var s4 = Vector256.Create(1f, 1f, 1f, 1f, -1f, -1f, -1f, -1f);
        for (int i = 0; i < length; i += 8)
        {
            var v = Vector256.LoadUnsafe(ref p, (nuint)i);
            v = Vector256.Shuffle(v, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6)) + v * s1;
            v = Vector256.Shuffle(v, Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5)) + v * s2;
            v = Vector256.Shuffle(v, Vector256.Create(4, 5, 6, 7, 0, 1, 2, 3)) + v * s4;
            v.StoreUnsafe(ref p, (nuint)i);
        }
        Levels(ref p, length, firstStride: 8, columns: 0, columnsAreStride: true);
    }

    /// <summary>
    /// The levels with strides from <paramref name="firstStride"/> up to total/2: on all of each
    /// stride when <paramref name="columnsAreStride"/>, else on columns [0, <paramref name="columns"/>)
    /// of every row of the (total/firstStride)×firstStride row-major view (a butterfly of stride h
    /// pairs row i with row i + h/firstStride, for each of the h/firstStride rows of a half group).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Levels(ref float p, int total, int firstStride, int columns, bool columnsAreStride)
    {
        int h = firstStride;
        while (h < total)
        {
            int cols = columnsAreStride ? h : columns, row = columnsAreStride ? h : firstStride;
            if (8L * h <= total)
            {
                for (int g = 0; g < total; g += 8 * h)
                    for (int r = 0; r < h; r += row) Radix8(ref Unsafe.Add(ref p, g + r), h, cols);
                h *= 8;
            }
            else if (4L * h <= total)
            {
                for (int g = 0; g < total; g += 4 * h)
                    for (int r = 0; r < h; r += row) Radix4(ref Unsafe.Add(ref p, g + r), h, cols);
                h *= 4;
            }
            else
            {
                for (int g = 0; g < total; g += 2 * h)
                    for (int r = 0; r < h; r += row) Radix2(ref Unsafe.Add(ref p, g + r), h, cols);
                h *= 2;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Radix8(ref float p, int h, int cols)
    {
        nuint s = (nuint)h;
        int c = 0;
        if (Vector512.IsHardwareAccelerated && cols % 16 == 0)
        {
            for (; c < cols; c += 16)
            {
                ref float q = ref Unsafe.Add(ref p, c);
                var a0 = Vector512.LoadUnsafe(ref q);
                var a1 = Vector512.LoadUnsafe(ref q, s);
                var a2 = Vector512.LoadUnsafe(ref q, 2 * s);
                var a3 = Vector512.LoadUnsafe(ref q, 3 * s);
                var a4 = Vector512.LoadUnsafe(ref q, 4 * s);
                var a5 = Vector512.LoadUnsafe(ref q, 5 * s);
                var a6 = Vector512.LoadUnsafe(ref q, 6 * s);
                var a7 = Vector512.LoadUnsafe(ref q, 7 * s);
                var b0 = a0 + a1; var b1 = a0 - a1; var b2 = a2 + a3; var b3 = a2 - a3;
                var b4 = a4 + a5; var b5 = a4 - a5; var b6 = a6 + a7; var b7 = a6 - a7;
                var c0 = b0 + b2; var c2 = b0 - b2; var c1 = b1 + b3; var c3 = b1 - b3;
                var c4 = b4 + b6; var c6 = b4 - b6; var c5 = b5 + b7; var c7 = b5 - b7;
                (c0 + c4).StoreUnsafe(ref q);
                (c1 + c5).StoreUnsafe(ref q, s);
                (c2 + c6).StoreUnsafe(ref q, 2 * s);
                (c3 + c7).StoreUnsafe(ref q, 3 * s);
                (c0 - c4).StoreUnsafe(ref q, 4 * s);
                (c1 - c5).StoreUnsafe(ref q, 5 * s);
                (c2 - c6).StoreUnsafe(ref q, 6 * s);
                (c3 - c7).StoreUnsafe(ref q, 7 * s);
            }
        }
        for (; c < cols; c += 8)
        {
            ref float q = ref Unsafe.Add(ref p, c);
            var a0 = Vector256.LoadUnsafe(ref q);
            var a1 = Vector256.LoadUnsafe(ref q, s);
            var a2 = Vector256.LoadUnsafe(ref q, 2 * s);
            var a3 = Vector256.LoadUnsafe(ref q, 3 * s);
            var a4 = Vector256.LoadUnsafe(ref q, 4 * s);
            var a5 = Vector256.LoadUnsafe(ref q, 5 * s);
            var a6 = Vector256.LoadUnsafe(ref q, 6 * s);
            var a7 = Vector256.LoadUnsafe(ref q, 7 * s);
            var b0 = a0 + a1; var b1 = a0 - a1; var b2 = a2 + a3; var b3 = a2 - a3;
            var b4 = a4 + a5; var b5 = a4 - a5; var b6 = a6 + a7; var b7 = a6 - a7;
            var c0 = b0 + b2; var c2 = b0 - b2; var c1 = b1 + b3; var c3 = b1 - b3;
            var c4 = b4 + b6; var c6 = b4 - b6; var c5 = b5 + b7; var c7 = b5 - b7;
            (c0 + c4).StoreUnsafe(ref q);
            (c1 + c5).StoreUnsafe(ref q, s);
            (c2 + c6).StoreUnsafe(ref q, 2 * s);
            (c3 + c7).StoreUnsafe(ref q, 3 * s);
            (c0 - c4).StoreUnsafe(ref q, 4 * s);
            (c1 - c5).StoreUnsafe(ref q, 5 * s);
            (c2 - c6).StoreUnsafe(ref q, 6 * s);
            (c3 - c7).StoreUnsafe(ref q, 7 * s);
        }
    }

    /// <summary>Whether <see cref="Butterfly16"/> and TransformAfter16 can transform a block of <paramref name="length"/> entries.</summary>
    internal static bool CanSplit16(int length) => Vector512.IsHardwareAccelerated && length >= 16 && length <= BlockLength && BitOperations.IsPow2(length);

    /// <summary>Strides 1, 2, 4 and 8 of the transform inside one register of sixteen entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Butterfly16(Vector512<float> v)
    {
        var t1 = Vector512.Create(1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f);
        var t2 = Vector512.Create(1f, 1f, -1f, -1f, 1f, 1f, -1f, -1f, 1f, 1f, -1f, -1f, 1f, 1f, -1f, -1f);
        var t4 = Vector512.Create(1f, 1f, 1f, 1f, -1f, -1f, -1f, -1f, 1f, 1f, 1f, 1f, -1f, -1f, -1f, -1f);
        var t8 = Vector512.Create(1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, -1f, -1f, -1f, -1f, -1f, -1f, -1f, -1f);
        // v·t is exact (t = ±1), so the fused multiply-add rounds once, like the addition alone.
        v = Vector512.FusedMultiplyAdd(v, t1, Vector512.Shuffle(v, Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14)));
        v = Vector512.FusedMultiplyAdd(v, t2, Vector512.Shuffle(v, Vector512.Create(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)));
        v = Vector512.FusedMultiplyAdd(v, t4, Vector512.Shuffle(v, Vector512.Create(4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11)));
        return Vector512.FusedMultiplyAdd(v, t8, Vector512.Shuffle(v, Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)));
    }

    /// <summary>The remaining levels (strides 16 and up) of a block whose groups of sixteen went through <see cref="Butterfly16"/>.</summary>
    internal static void TransformAfter16(Span<float> data)
    {
        if (!CanSplit16(data.Length)) throw new ArgumentException($"Length {data.Length} cannot be split into registers of sixteen.", nameof(data));
        TransformAfter16(ref MemoryMarshal.GetReference(data), data.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformAfter16(ref float p, int length)
    {
        int h = 16;
        while (16L * h <= length)
        {
            for (int g = 0; g < length; g += 16 * h) Radix16(ref Unsafe.Add(ref p, g), h);
            h *= 16;
        }
        if (h < length) Levels(ref p, length, firstStride: h, columns: 0, columnsAreStride: true);
    }

    /// <summary>Whether a block of <paramref name="length"/> entries ends with one radix-16 pass over all of it (length 16^k ≥ 256), for <see cref="TransformButLastPass"/>.</summary>
    internal static bool EndsWithRadix16(int length) => CanSplit16(length) && length >= 256 && (BitOperations.Log2((uint)length) & 3) == 0;

    /// <summary>
    /// All levels but the last four (strides length/16 … length/2) of a block for which
    /// <see cref="EndsWithRadix16"/> holds; the caller runs that last radix-16 pass itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void TransformButLastPass(Span<float> data, ReadOnlySpan<float> prefetch = default)
    {
        int length = data.Length;
        if (!EndsWithRadix16(length)) throw new ArgumentException($"Length {length} is not a power of 16 in [256, {BlockLength}].", nameof(data));
        if (!prefetch.IsEmpty && prefetch.Length < length) throw new ArgumentException($"Prefetch range of {prefetch.Length} floats is shorter than the block.", nameof(prefetch));
        ref float p = ref MemoryMarshal.GetReference(data);
        if (!prefetch.IsEmpty && Sse.IsSupported)
        {
            // One cache line of the caller's next target per register of sixteen: spread over the pass.
            ref float q = ref MemoryMarshal.GetReference(prefetch);
            for (int i = 0; i < length; i += 16)
            {
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref q, i)));
                Butterfly16(Vector512.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        else
            for (int i = 0; i < length; i += 16)
                Butterfly16(Vector512.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
        for (int h = 16; 256L * h <= length; h *= 16)
            for (int g = 0; g < length; g += 16 * h) Radix16(ref Unsafe.Add(ref p, g), h);
    }

    /// <summary>Four levels (strides h, 2h, 4h, 8h) over sixteen rows of h columns (h a multiple of 16), in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Radix16(ref float p, int h)
    {
        nuint s = (nuint)h;
        for (int c = 0; c < h; c += 16)
        {
            ref float q = ref Unsafe.Add(ref p, c);
            var a0 = Vector512.LoadUnsafe(ref q); var a1 = Vector512.LoadUnsafe(ref q, s);
            var a2 = Vector512.LoadUnsafe(ref q, 2 * s); var a3 = Vector512.LoadUnsafe(ref q, 3 * s);
            var a4 = Vector512.LoadUnsafe(ref q, 4 * s); var a5 = Vector512.LoadUnsafe(ref q, 5 * s);
            var a6 = Vector512.LoadUnsafe(ref q, 6 * s); var a7 = Vector512.LoadUnsafe(ref q, 7 * s);
            var a8 = Vector512.LoadUnsafe(ref q, 8 * s); var a9 = Vector512.LoadUnsafe(ref q, 9 * s);
            var a10 = Vector512.LoadUnsafe(ref q, 10 * s); var a11 = Vector512.LoadUnsafe(ref q, 11 * s);
            var a12 = Vector512.LoadUnsafe(ref q, 12 * s); var a13 = Vector512.LoadUnsafe(ref q, 13 * s);
            var a14 = Vector512.LoadUnsafe(ref q, 14 * s); var a15 = Vector512.LoadUnsafe(ref q, 15 * s);
            // Stride h.
            var b0 = a0 + a1; var b1 = a0 - a1; var b2 = a2 + a3; var b3 = a2 - a3;
            var b4 = a4 + a5; var b5 = a4 - a5; var b6 = a6 + a7; var b7 = a6 - a7;
            var b8 = a8 + a9; var b9 = a8 - a9; var b10 = a10 + a11; var b11 = a10 - a11;
            var b12 = a12 + a13; var b13 = a12 - a13; var b14 = a14 + a15; var b15 = a14 - a15;
            // Stride 2h.
            a0 = b0 + b2; a2 = b0 - b2; a1 = b1 + b3; a3 = b1 - b3;
            a4 = b4 + b6; a6 = b4 - b6; a5 = b5 + b7; a7 = b5 - b7;
            a8 = b8 + b10; a10 = b8 - b10; a9 = b9 + b11; a11 = b9 - b11;
            a12 = b12 + b14; a14 = b12 - b14; a13 = b13 + b15; a15 = b13 - b15;
            // Stride 4h.
            b0 = a0 + a4; b4 = a0 - a4; b1 = a1 + a5; b5 = a1 - a5;
            b2 = a2 + a6; b6 = a2 - a6; b3 = a3 + a7; b7 = a3 - a7;
            b8 = a8 + a12; b12 = a8 - a12; b9 = a9 + a13; b13 = a9 - a13;
            b10 = a10 + a14; b14 = a10 - a14; b11 = a11 + a15; b15 = a11 - a15;
            // Stride 8h.
            (b0 + b8).StoreUnsafe(ref q); (b0 - b8).StoreUnsafe(ref q, 8 * s);
            (b1 + b9).StoreUnsafe(ref q, s); (b1 - b9).StoreUnsafe(ref q, 9 * s);
            (b2 + b10).StoreUnsafe(ref q, 2 * s); (b2 - b10).StoreUnsafe(ref q, 10 * s);
            (b3 + b11).StoreUnsafe(ref q, 3 * s); (b3 - b11).StoreUnsafe(ref q, 11 * s);
            (b4 + b12).StoreUnsafe(ref q, 4 * s); (b4 - b12).StoreUnsafe(ref q, 12 * s);
            (b5 + b13).StoreUnsafe(ref q, 5 * s); (b5 - b13).StoreUnsafe(ref q, 13 * s);
            (b6 + b14).StoreUnsafe(ref q, 6 * s); (b6 - b14).StoreUnsafe(ref q, 14 * s);
            (b7 + b15).StoreUnsafe(ref q, 7 * s); (b7 - b15).StoreUnsafe(ref q, 15 * s);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Radix4(ref float p, int h, int cols)
    {
        nuint s = (nuint)h;
        for (int c = 0; c < cols; c += 8)
        {
            ref float q = ref Unsafe.Add(ref p, c);
            var a0 = Vector256.LoadUnsafe(ref q);
            var a1 = Vector256.LoadUnsafe(ref q, s);
            var a2 = Vector256.LoadUnsafe(ref q, 2 * s);
            var a3 = Vector256.LoadUnsafe(ref q, 3 * s);
            var b0 = a0 + a1; var b1 = a0 - a1; var b2 = a2 + a3; var b3 = a2 - a3;
            (b0 + b2).StoreUnsafe(ref q);
            (b1 + b3).StoreUnsafe(ref q, s);
            (b0 - b2).StoreUnsafe(ref q, 2 * s);
            (b1 - b3).StoreUnsafe(ref q, 3 * s);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Radix2(ref float p, int h, int cols)
    {
        nuint s = (nuint)h;
        for (int c = 0; c < cols; c += 8)
        {
            ref float q = ref Unsafe.Add(ref p, c);
            var a0 = Vector256.LoadUnsafe(ref q);
            var a1 = Vector256.LoadUnsafe(ref q, s);
            (a0 + a1).StoreUnsafe(ref q);
            (a0 - a1).StoreUnsafe(ref q, s);
        }
    }
}
