using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Collection of the indices of large-magnitude entries (|xᵢ| ≥ t, NaN never), in increasing
/// order, for the selections of <see cref="Selection"/>: sixteen entries at a time with AVX-512
/// compress (no branch per entry), and on several threads for large vectors
/// (<see cref="KernelParallelism"/>). Threaded, the vector is cut into chunks of
/// <see cref="ChunkLength"/> entries (a partition that depends only on d); each chunk collects into
/// scratch, then into a shared staging area, and the chunks' indices are copied out in chunk order,
/// so the result is the same as on one thread.
/// </summary>
internal static class Candidates
{
    /// <summary>Entries per chunk of the threaded collection.</summary>
    public const int ChunkLength = CodecChunks.Length;

    /// <summary>Number of chunks of a vector of <paramref name="d"/> entries.</summary>
    public static int ChunkCount(int d) => (d + ChunkLength - 1) / ChunkLength;

    /// <summary>
    /// Collects the indices of the entries of chunk [start, start + length) into a buffer of at least
    /// <c>length</c> indices (absolute, increasing), and their values when <paramref name="values"/>
    /// is not empty (then as long as the indices); returns how many.
    /// </summary>
    public delegate int ChunkBody(int start, int length, Span<int> indices, Span<float> values);

    /// <summary>
    /// Writes the indices i (increasing) with |xᵢ| ≥ <paramref name="threshold"/> into
    /// <paramref name="indices"/>, and the entries xᵢ into <paramref name="values"/> unless it is empty
    /// (then it is as long as the indices), and returns how many there are in total. When the total
    /// exceeds the capacity, the contents of the buffers are unspecified (only the count is meaningful).
    /// </summary>
    public static int AtLeast(ReadOnlySpan<float> x, float threshold, Span<int> indices, Span<float> values = default)
    {
        int d = x.Length;
        if (KernelParallelism.UseThreads(4L * d, ChunkCount(d))) return AtLeastThreaded(x, threshold, indices, values);
        return Collect(x, 0, threshold, indices, values);
    }

    private static unsafe int AtLeastThreaded(ReadOnlySpan<float> x, float threshold, Span<int> indices, Span<float> values)
    {
        int d = x.Length;
        fixed (float* xp = x)
        {
            nint p = (nint)xp;
            return Run(d, 4L * d, (start, length, chunk, chunkValues) => Collect(new ReadOnlySpan<float>((float*)p + start, length), start, threshold, chunk, chunkValues), indices, values);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> on every chunk of a d-vector, on several threads, and writes the
    /// chunks' indices (and values, unless <paramref name="values"/> is empty) in chunk order into
    /// the buffers; returns the total (contents unspecified when it exceeds the capacity). Use only
    /// when <see cref="KernelParallelism.UseThreads"/> holds.
    /// </summary>
    public static int Run(int d, long bytes, ChunkBody body, Span<int> indices, Span<float> values)
    {
        int chunks = ChunkCount(d), cap = indices.Length;
        bool withValues = !values.IsEmpty;
        int[] counts = ArrayPool<int>.Shared.Rent(chunks);
        int[] offsets = ArrayPool<int>.Shared.Rent(chunks);
        int[] staging = ArrayPool<int>.Shared.Rent(Math.Max(cap, 1));
        float[] stagingValues = ArrayPool<float>.Shared.Rent(withValues ? cap : 0);
        int[] used = [0];
        try
        {
            KernelParallelism.For(chunks, bytes, c =>
            {
                int start = c * ChunkLength, length = Math.Min(ChunkLength, d - start);
                int[] scratch = ArrayPool<int>.Shared.Rent(length);
                float[] scratchValues = ArrayPool<float>.Shared.Rent(withValues ? length : 0);
                try
                {
                    int n = body(start, length, scratch.AsSpan(0, length), scratchValues.AsSpan(0, withValues ? length : 0));
                    int at = Interlocked.Add(ref used[0], n) - n;     // staging slots in completion order
                    counts[c] = n;
                    offsets[c] = at;
                    if ((long)at + n <= cap)
                    {
                        scratch.AsSpan(0, n).CopyTo(staging.AsSpan(at, n));
                        if (withValues) scratchValues.AsSpan(0, n).CopyTo(stagingValues.AsSpan(at, n));
                    }
                }
                finally
                {
                    ArrayPool<int>.Shared.Return(scratch);
                    ArrayPool<float>.Shared.Return(scratchValues);
                }
            });
            long total = 0;
            for (int c = 0; c < chunks; c++) total += counts[c];
            if (total > cap) return (int)Math.Min(total, int.MaxValue);
            int o = 0;
            for (int c = 0; c < chunks; c++)
            {
                staging.AsSpan(offsets[c], counts[c]).CopyTo(indices[o..]);
                if (withValues) stagingValues.AsSpan(offsets[c], counts[c]).CopyTo(values[o..]);
                o += counts[c];
            }
            return o;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<int>.Shared.Return(staging);
            ArrayPool<float>.Shared.Return(stagingValues);
        }
    }

    /// <summary>
    /// One-thread collection: the indices <paramref name="first"/> + i (increasing) of the entries of
    /// <paramref name="x"/> with |xᵢ| ≥ <paramref name="threshold"/>, and the entries xᵢ unless
    /// <paramref name="values"/> is empty, written while they fit in <paramref name="indices"/>;
    /// returns how many there are in total.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Collect(ReadOnlySpan<float> x, int first, float threshold, Span<int> indices, Span<float> values)
    {
        int n = x.Length, i = 0, count = 0, cap = indices.Length;
        bool withValues = !values.IsEmpty;
        if (withValues && values.Length < cap) throw new ArgumentException($"{values.Length} value slots for {cap} indices.", nameof(values));
        ref float r = ref MemoryMarshal.GetReference(x);
        ref int o = ref MemoryMarshal.GetReference(indices);
        ref float ov = ref MemoryMarshal.GetReference(values);
        if (Avx512F.IsSupported)
        {
            // Most groups of sixteen have no passing entry (a predictable branch); the others compress
            // their passing lanes' indices into a register and store all sixteen lanes: the lanes past
            // the passing ones are overwritten by the next store (or lie past the count).
            var t = Vector512.Create(threshold);
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref r, (nuint)i);
                ulong bits = Vector512.GreaterThanOrEqual(Vector512.Abs(v), t).ExtractMostSignificantBits();
                if (bits == 0) continue;
                var pass = Vector512.GreaterThanOrEqual(Vector512.Abs(v), t).AsInt32();
                var idx = Vector512.Create(first + i) + Vector512<int>.Indices;
                if (count <= cap - 16)
                {
                    Avx512F.Compress(Vector512<int>.Zero, pass, idx).StoreUnsafe(ref o, (nuint)count);
                    if (withValues) Avx512F.Compress(Vector512<float>.Zero, pass.AsSingle(), v).StoreUnsafe(ref ov, (nuint)count);
                    count += BitOperations.PopCount(bits);
                }
                else
                    for (; bits != 0; bits &= bits - 1)
                    {
                        int lane = BitOperations.TrailingZeroCount(bits);
                        if (count < cap) Put(ref o, ref ov, count, first + i + lane, Unsafe.Add(ref r, i + lane), withValues);
                        count++;
                    }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var t = Vector256.Create(threshold);
            for (; i <= n - 8; i += 8)
            {
                uint bits = Vector256.GreaterThanOrEqual(Vector256.Abs(Vector256.LoadUnsafe(ref r, (nuint)i)), t).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(bits);
                    if (count < cap) Put(ref o, ref ov, count, first + i + lane, Unsafe.Add(ref r, i + lane), withValues);
                    count++;
                    bits &= bits - 1;
                }
            }
        }
        for (; i < n; i++)
        {
            if (MathF.Abs(Unsafe.Add(ref r, i)) >= threshold)
            {
                if (count < cap) Put(ref o, ref ov, count, first + i, Unsafe.Add(ref r, i), withValues);
                count++;
            }
        }
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(ref int indices, ref float values, int slot, int index, float value, bool withValues)
    {
        Unsafe.Add(ref indices, slot) = index;
        if (withValues) Unsafe.Add(ref values, slot) = value;
    }
}
