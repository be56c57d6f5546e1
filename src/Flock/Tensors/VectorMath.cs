using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Tensors;

/// <summary>
/// Vector kernels for aggregation: (weighted) means and sums of many flat vectors, fused so that
/// the output is written once, plus distances and norms. Single-threaded, allocation-free.
/// </summary>
public static class VectorMath
{
    /// <summary>Output elements per block (64 KB): the block of the destination stays in L2 while every input's block is added to it; long blocks keep each input's reads sequential for the prefetcher.</summary>
    internal const int BlockLength = 16384;

    /// <summary>Inputs added per pass over a destination block (all in registers at once).</summary>
    internal const int Group = 8;

    /// <summary>Destinations of at least this many floats (16 MB) are written with non-temporal stores.</summary>
    internal const int NonTemporalThreshold = 1 << 22;

    /// <summary>Computes the element-wise mean of the inputs: <c>destination[j] = (1/k)·Σᵢ inputs[i][j]</c>.</summary>
    /// <param name="inputs">The k ≥ 1 vectors, each as long as <paramref name="destination"/>.</param>
    /// <param name="destination">The result. It may be one of the inputs (the same memory at the same offset), not a partial overlap.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// There are no inputs, an input's length differs from the destination's, or inputs overlap the
    /// destination other than as exactly one whole input.
    /// </exception>
    public static void Mean(IReadOnlyList<ReadOnlyMemory<float>> inputs, Span<float> destination)
    {
        ValidateInputs(inputs, destination.Length);
        Combine(inputs, default, 1f / inputs.Count, destination);
    }

    /// <summary>
    /// Computes the weighted mean <c>destination[j] = Σᵢ wᵢ·inputs[i][j] / Σᵢ wᵢ</c> (weights are
    /// normalised by their sum, so only their ratios matter).
    /// </summary>
    /// <param name="inputs">The k ≥ 1 vectors, each as long as <paramref name="destination"/>.</param>
    /// <param name="weights">One finite, non-negative weight per input; their sum must be positive.</param>
    /// <param name="destination">The result. It may be one of the inputs (the same memory at the same offset), not a partial overlap.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// There are no inputs, an input's length differs from the destination's, the number of weights
    /// differs from the number of inputs, a weight is negative or not finite, the weights sum to zero,
    /// or inputs overlap the destination other than as exactly one whole input.
    /// </exception>
    public static void WeightedMean(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> destination)
    {
        ValidateInputs(inputs, destination.Length);
        ValidateWeightCount(inputs.Count, weights.Length);
        double total = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i];
            if (!float.IsFinite(w) || w < 0)
                throw new ArgumentException($"Invalid weight {w} for input {i}: weights of a mean must be finite and ≥ 0.", nameof(weights));
            total += w;
        }
        if (!(total > 0))
            throw new ArgumentException($"Invalid weights: they sum to {total}; a weighted mean needs a positive total weight.", nameof(weights));
        Combine(inputs, weights, (float)(1.0 / total), destination);
    }

    /// <summary>Computes the weighted sum <c>destination[j] = Σᵢ wᵢ·inputs[i][j]</c> (weights are used as given, any sign).</summary>
    /// <param name="inputs">The k ≥ 1 vectors, each as long as <paramref name="destination"/>.</param>
    /// <param name="weights">One finite weight per input.</param>
    /// <param name="destination">The result. It may be one of the inputs (the same memory at the same offset), not a partial overlap.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// There are no inputs, an input's length differs from the destination's, the number of weights
    /// differs from the number of inputs, a weight is not finite, or inputs overlap the destination
    /// other than as exactly one whole input.
    /// </exception>
    public static void WeightedSum(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> destination)
    {
        ValidateInputs(inputs, destination.Length);
        ValidateWeightCount(inputs.Count, weights.Length);
        for (int i = 0; i < weights.Length; i++)
            if (!float.IsFinite(weights[i]))
                throw new ArgumentException($"Invalid weight {weights[i]} for input {i}: weights must be finite.", nameof(weights));
        Combine(inputs, weights, 1f, destination);
    }

    /// <summary>Dot product <c>Σ a[j]·b[j]</c> (float accumulation in several SIMD lanes).</summary>
    /// <param name="a">First vector.</param>
    /// <param name="b">Second vector, as long as <paramref name="a"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        CheckSameLength(a.Length, b.Length);
        return TensorPrimitives.Dot(a, b);
    }

    /// <summary>Euclidean norm <c>√Σ a[j]²</c>.</summary>
    /// <param name="a">The vector.</param>
    public static float Norm2(ReadOnlySpan<float> a) => TensorPrimitives.Norm(a);

    /// <summary>Squared Euclidean distance <c>Σ (a[j] − b[j])²</c>, fused (no temporary difference vector).</summary>
    /// <param name="a">First vector.</param>
    /// <param name="b">Second vector, as long as <paramref name="a"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        CheckSameLength(a.Length, b.Length);
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length, j = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; j + 64 <= n; j += 64)
            {
                var d0 = Vector512.LoadUnsafe(ref ra, (nuint)j) - Vector512.LoadUnsafe(ref rb, (nuint)j);
                var d1 = Vector512.LoadUnsafe(ref ra, (nuint)(j + 16)) - Vector512.LoadUnsafe(ref rb, (nuint)(j + 16));
                var d2 = Vector512.LoadUnsafe(ref ra, (nuint)(j + 32)) - Vector512.LoadUnsafe(ref rb, (nuint)(j + 32));
                var d3 = Vector512.LoadUnsafe(ref ra, (nuint)(j + 48)) - Vector512.LoadUnsafe(ref rb, (nuint)(j + 48));
                s0 = Vector512.FusedMultiplyAdd(d0, d0, s0);
                s1 = Vector512.FusedMultiplyAdd(d1, d1, s1);
                s2 = Vector512.FusedMultiplyAdd(d2, d2, s2);
                s3 = Vector512.FusedMultiplyAdd(d3, d3, s3);
            }
            for (; j + 16 <= n; j += 16)
            {
                var d = Vector512.LoadUnsafe(ref ra, (nuint)j) - Vector512.LoadUnsafe(ref rb, (nuint)j);
                s0 = Vector512.FusedMultiplyAdd(d, d, s0);
            }
            sum = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; j + 32 <= n; j += 32)
            {
                var d0 = Vector256.LoadUnsafe(ref ra, (nuint)j) - Vector256.LoadUnsafe(ref rb, (nuint)j);
                var d1 = Vector256.LoadUnsafe(ref ra, (nuint)(j + 8)) - Vector256.LoadUnsafe(ref rb, (nuint)(j + 8));
                var d2 = Vector256.LoadUnsafe(ref ra, (nuint)(j + 16)) - Vector256.LoadUnsafe(ref rb, (nuint)(j + 16));
                var d3 = Vector256.LoadUnsafe(ref ra, (nuint)(j + 24)) - Vector256.LoadUnsafe(ref rb, (nuint)(j + 24));
                s0 = Vector256.FusedMultiplyAdd(d0, d0, s0);
                s1 = Vector256.FusedMultiplyAdd(d1, d1, s1);
                s2 = Vector256.FusedMultiplyAdd(d2, d2, s2);
                s3 = Vector256.FusedMultiplyAdd(d3, d3, s3);
            }
            for (; j + 8 <= n; j += 8)
            {
                var d = Vector256.LoadUnsafe(ref ra, (nuint)j) - Vector256.LoadUnsafe(ref rb, (nuint)j);
                s0 = Vector256.FusedMultiplyAdd(d, d, s0);
            }
            sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        for (; j < n; j++)
        {
            float d = Unsafe.Add(ref ra, j) - Unsafe.Add(ref rb, j);
            sum += d * d;
        }
        return sum;
    }

    /// <summary>
    /// <c>destination = scale·Σᵢ wᵢ·inputs[i]</c> (wᵢ = 1 when <paramref name="weights"/> is empty), one
    /// block of the output at a time; within a block, inputs are added eight at a time in registers, so
    /// the destination block is loaded and stored once per eight inputs (and a single core keeps
    /// eight streams of reads in flight, which it needs to approach memory bandwidth).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Combine(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, float scale, Span<float> destination)
    {
        int k = inputs.Count, n = destination.Length;
        bool weighted = !weights.IsEmpty;
        // An input that is the destination itself is read in the first group, before any store.
        int alias = FindAlias(inputs, destination);
        // A destination far larger than the caches is written with non-temporal stores (no read for
        // ownership, no eviction of the inputs' lines); they need 64-byte alignment, so a short
        // unaligned head goes first as its own block. The destination is pinned for the whole call,
        // so its alignment cannot change under us.
        bool streaming = n >= NonTemporalThreshold && Vector512.IsHardwareAccelerated && Sse.IsSupported;
        fixed (float* pd = destination)
        {
            int head = streaming ? (int)(((64 - ((nint)pd & 63)) & 63) / sizeof(float)) : 0;
            for (int start = 0; start < n;)
            {
                int len = start == 0 && head > 0 ? head : Math.Min(BlockLength, n - start);
                bool nt = streaming && !(start == 0 && head > 0);
                var dst = destination.Slice(start, len);
                for (int g = 0; g < k; g += Group)
                {
                    int count = Math.Min(Group, k - g);
                    var ws = new Weights8();
                    for (int t = 0; t < count; t++) ws[t] = weighted ? weights[Swap(g + t, alias)] : 1f;
                    bool first = g == 0, last = g + Group >= k;
                    AddGroup(dst, count,
                        Slice(inputs, g, 0, count, alias, start, len), Slice(inputs, g, 1, count, alias, start, len),
                        Slice(inputs, g, 2, count, alias, start, len), Slice(inputs, g, 3, count, alias, start, len),
                        Slice(inputs, g, 4, count, alias, start, len), Slice(inputs, g, 5, count, alias, start, len),
                        Slice(inputs, g, 6, count, alias, start, len), Slice(inputs, g, 7, count, alias, start, len),
                        ref ws, weighted, first, last ? scale : 1f, last && nt);
                }
                start += len;
            }
            if (streaming) Sse.StoreFence();
        }
    }

    /// <summary>Input order with the aliased input (if any) swapped to the front.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Swap(int i, int alias) => alias <= 0 ? i : i == 0 ? alias : i == alias ? 0 : i;

    /// <summary>The index of the input that is the destination's memory, or -1.</summary>
    /// <exception cref="ArgumentException">An input overlaps the destination only partially, or several inputs are the destination.</exception>
    private static int FindAlias(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> destination)
    {
        int alias = -1;
        for (int i = 0; i < inputs.Count; i++)
        {
            if (!destination.Overlaps(inputs[i].Span, out int offset)) continue;
            if (offset != 0)
                throw new ArgumentException($"Input {i} partially overlaps the destination (offset {offset}); the destination may only be exactly one of the inputs.", nameof(destination));
            if (alias >= 0)
                throw new ArgumentException($"Inputs {alias} and {i} are both the destination's memory; at most one input may be the destination.", nameof(destination));
            alias = i;
        }
        return alias;
    }

    /// <summary>The block [start, start + len) of input g + t (in aliased order), or empty past the group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<float> Slice(IReadOnlyList<ReadOnlyMemory<float>> inputs, int g, int t, int count, int alias, int start, int len) =>
        t < count ? inputs[Swap(g + t, alias)].Span.Slice(start, len) : default;

    /// <summary>Up to <see cref="Group"/> weights.</summary>
    [InlineArray(Group)]
    private struct Weights8
    {
        private float _element;
    }

    /// <summary>dst = (first ? 0 : dst) + Σ wᵢ·xᵢ over the first <paramref name="count"/> inputs, then × <paramref name="scale"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AddGroup(Span<float> dst, int count,
        ReadOnlySpan<float> x0, ReadOnlySpan<float> x1, ReadOnlySpan<float> x2, ReadOnlySpan<float> x3,
        ReadOnlySpan<float> x4, ReadOnlySpan<float> x5, ReadOnlySpan<float> x6, ReadOnlySpan<float> x7,
        ref Weights8 ws, bool weighted, bool first, float scale, bool nonTemporal)
    {
        // Unused inputs point at x0 and are never read: every use is guarded by count, which the
        // branch predictor learns (the loop is memory-bound anyway).
        ref float d = ref MemoryMarshal.GetReference(dst);
        ref float a0 = ref MemoryMarshal.GetReference(x0);
        ref float a1 = ref count > 1 ? ref MemoryMarshal.GetReference(x1) : ref a0;
        ref float a2 = ref count > 2 ? ref MemoryMarshal.GetReference(x2) : ref a0;
        ref float a3 = ref count > 3 ? ref MemoryMarshal.GetReference(x3) : ref a0;
        ref float a4 = ref count > 4 ? ref MemoryMarshal.GetReference(x4) : ref a0;
        ref float a5 = ref count > 5 ? ref MemoryMarshal.GetReference(x5) : ref a0;
        ref float a6 = ref count > 6 ? ref MemoryMarshal.GetReference(x6) : ref a0;
        ref float a7 = ref count > 7 ? ref MemoryMarshal.GetReference(x7) : ref a0;
        int n = dst.Length, j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vs = Vector512.Create(scale);
            Vector512<float> v0 = Vector512.Create(ws[0]), v1 = Vector512.Create(ws[1]), v2 = Vector512.Create(ws[2]), v3 = Vector512.Create(ws[3]);
            Vector512<float> v4 = Vector512.Create(ws[4]), v5 = Vector512.Create(ws[5]), v6 = Vector512.Create(ws[6]), v7 = Vector512.Create(ws[7]);
            for (; j + 16 <= n; j += 16)
            {
                nuint o = (nuint)j;
                Vector512<float> s;
                if (weighted)
                {
                    s = Vector512.LoadUnsafe(ref a0, o) * v0;
                    if (count > 1) s = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a1, o), v1, s);
                    if (count > 2) s = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a2, o), v2, s);
                    if (count > 3) s = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a3, o), v3, s);
                    if (count > 4) s = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a4, o), v4, s);
                    if (count > 5) s = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a5, o), v5, s);
                    if (count > 6) s = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a6, o), v6, s);
                    if (count > 7) s = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a7, o), v7, s);
                }
                else if (count == 8)
                {
                    s = ((Vector512.LoadUnsafe(ref a0, o) + Vector512.LoadUnsafe(ref a1, o)) + (Vector512.LoadUnsafe(ref a2, o) + Vector512.LoadUnsafe(ref a3, o)))
                        + ((Vector512.LoadUnsafe(ref a4, o) + Vector512.LoadUnsafe(ref a5, o)) + (Vector512.LoadUnsafe(ref a6, o) + Vector512.LoadUnsafe(ref a7, o)));
                }
                else
                {
                    s = Vector512.LoadUnsafe(ref a0, o);
                    if (count > 1) s += Vector512.LoadUnsafe(ref a1, o);
                    if (count > 2) s += Vector512.LoadUnsafe(ref a2, o);
                    if (count > 3) s += Vector512.LoadUnsafe(ref a3, o);
                    if (count > 4) s += Vector512.LoadUnsafe(ref a4, o);
                    if (count > 5) s += Vector512.LoadUnsafe(ref a5, o);
                    if (count > 6) s += Vector512.LoadUnsafe(ref a6, o);
                }
                if (!first) s += Vector512.LoadUnsafe(ref d, o);
                if (nonTemporal) Vector512.StoreAlignedNonTemporal(s * vs, (float*)Unsafe.AsPointer(ref Unsafe.Add(ref d, j)));
                else (s * vs).StoreUnsafe(ref d, o);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vs = Vector256.Create(scale);
            Vector256<float> v0 = Vector256.Create(ws[0]), v1 = Vector256.Create(ws[1]), v2 = Vector256.Create(ws[2]), v3 = Vector256.Create(ws[3]);
            Vector256<float> v4 = Vector256.Create(ws[4]), v5 = Vector256.Create(ws[5]), v6 = Vector256.Create(ws[6]), v7 = Vector256.Create(ws[7]);
            for (; j + 8 <= n; j += 8)
            {
                nuint o = (nuint)j;
                Vector256<float> s;
                if (weighted)
                {
                    s = Vector256.LoadUnsafe(ref a0, o) * v0;
                    if (count > 1) s = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a1, o), v1, s);
                    if (count > 2) s = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a2, o), v2, s);
                    if (count > 3) s = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a3, o), v3, s);
                    if (count > 4) s = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a4, o), v4, s);
                    if (count > 5) s = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a5, o), v5, s);
                    if (count > 6) s = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a6, o), v6, s);
                    if (count > 7) s = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a7, o), v7, s);
                }
                else if (count == 8)
                {
                    s = ((Vector256.LoadUnsafe(ref a0, o) + Vector256.LoadUnsafe(ref a1, o)) + (Vector256.LoadUnsafe(ref a2, o) + Vector256.LoadUnsafe(ref a3, o)))
                        + ((Vector256.LoadUnsafe(ref a4, o) + Vector256.LoadUnsafe(ref a5, o)) + (Vector256.LoadUnsafe(ref a6, o) + Vector256.LoadUnsafe(ref a7, o)));
                }
                else
                {
                    s = Vector256.LoadUnsafe(ref a0, o);
                    if (count > 1) s += Vector256.LoadUnsafe(ref a1, o);
                    if (count > 2) s += Vector256.LoadUnsafe(ref a2, o);
                    if (count > 3) s += Vector256.LoadUnsafe(ref a3, o);
                    if (count > 4) s += Vector256.LoadUnsafe(ref a4, o);
                    if (count > 5) s += Vector256.LoadUnsafe(ref a5, o);
                    if (count > 6) s += Vector256.LoadUnsafe(ref a6, o);
                }
                if (!first) s += Vector256.LoadUnsafe(ref d, o);
                (s * vs).StoreUnsafe(ref d, o);
            }
        }
        for (; j < n; j++)
        {
            float s = Unsafe.Add(ref a0, j) * ws[0];
            if (count > 1) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref a1, j), ws[1], s);
            if (count > 2) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref a2, j), ws[2], s);
            if (count > 3) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref a3, j), ws[3], s);
            if (count > 4) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref a4, j), ws[4], s);
            if (count > 5) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref a5, j), ws[5], s);
            if (count > 6) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref a6, j), ws[6], s);
            if (count > 7) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref a7, j), ws[7], s);
            if (!first) s += Unsafe.Add(ref d, j);
            Unsafe.Add(ref d, j) = s * scale;
        }
    }

    private static void ValidateInputs(IReadOnlyList<ReadOnlyMemory<float>> inputs, int length)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("Cannot combine zero vectors: at least one input is needed.", nameof(inputs));
        for (int i = 0; i < inputs.Count; i++)
            if (inputs[i].Length != length)
                throw new ArgumentException($"Input {i} has {inputs[i].Length} elements but the destination has {length}; all lengths must match.", nameof(inputs));
    }

    private static void ValidateWeightCount(int inputs, int weights)
    {
        if (weights != inputs)
            throw new ArgumentException($"Got {weights} weights for {inputs} inputs; there must be one weight per input.", nameof(weights));
    }

    private static void CheckSameLength(int a, int b)
    {
        if (a != b) throw new ArgumentException($"Vector lengths differ: {a} and {b}; they must be equal.");
    }
}
