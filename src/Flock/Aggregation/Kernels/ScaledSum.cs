using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Aggregation.Kernels;

/// <summary>
/// <c>output = Σᵢ cᵢ·inputs[i]</c> over the inputs with a nonzero coefficient, in input order, with
/// the arithmetic of one multiply pass followed by one multiply-then-add pass per further input
/// (each product rounded, then added: no fused multiply-add), so results are bit-identical to that
/// sequence of passes. It runs block by block instead: a block of the output (8 KB) stays in L1
/// while every input's block is added to it, so each input is read once and the output written
/// once, instead of the output being read and written once per input.
/// </summary>
internal static class ScaledSum
{
    private const int Block = 2048;

    /// <summary>Computes the sum; inputs of coefficient 0 are not read. At least one coefficient must be nonzero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> coefs, Span<float> output)
    {
        int first = 0;
        while (coefs[first] == 0) first++;
        int n = output.Length;
        for (int start = 0; start < n; start += Block)
        {
            int len = Math.Min(Block, n - start);
            var dst = output.Slice(start, len);
            Multiply(inputs[first].Span.Slice(start, len), coefs[first], dst);
            for (int i = first + 1; i < inputs.Count; i++)
                if (coefs[i] != 0) MultiplyAdd(inputs[i].Span.Slice(start, len), coefs[i], dst);
        }
    }

    private static void Multiply(ReadOnlySpan<float> x, float c, Span<float> dst)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rd = ref MemoryMarshal.GetReference(dst);
        int n = dst.Length, j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vc = Vector512.Create(c);
            for (; j <= n - 16; j += 16) (Vector512.LoadUnsafe(ref rx, (nuint)j) * vc).StoreUnsafe(ref rd, (nuint)j);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vc = Vector256.Create(c);
            for (; j <= n - 8; j += 8) (Vector256.LoadUnsafe(ref rx, (nuint)j) * vc).StoreUnsafe(ref rd, (nuint)j);
        }
        for (; j < n; j++) Unsafe.Add(ref rd, j) = Unsafe.Add(ref rx, j) * c;
    }

    private static void MultiplyAdd(ReadOnlySpan<float> x, float c, Span<float> dst)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rd = ref MemoryMarshal.GetReference(dst);
        int n = dst.Length, j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vc = Vector512.Create(c);
            for (; j <= n - 16; j += 16)
                (Vector512.LoadUnsafe(ref rd, (nuint)j) + Vector512.LoadUnsafe(ref rx, (nuint)j) * vc).StoreUnsafe(ref rd, (nuint)j);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vc = Vector256.Create(c);
            for (; j <= n - 8; j += 8)
                (Vector256.LoadUnsafe(ref rd, (nuint)j) + Vector256.LoadUnsafe(ref rx, (nuint)j) * vc).StoreUnsafe(ref rd, (nuint)j);
        }
        for (; j < n; j++) Unsafe.Add(ref rd, j) += Unsafe.Add(ref rx, j) * c;
    }
}
