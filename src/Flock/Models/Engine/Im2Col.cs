using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Models.Engine;

/// <summary>
/// The geometry of a 2-D convolution or pooling window over one example of shape
/// <c>[Channels, Height, Width]</c>: kernel, stride, zero padding and the resulting output size
/// (<c>out = (in + 2·pad − kernel) / stride + 1</c>, rounded down, as in PyTorch).
/// </summary>
public readonly record struct ConvGeometry
{
    /// <summary>Creates a geometry; validates every size.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, a padding is negative, or the padded input is smaller than the kernel.</exception>
    public ConvGeometry(int channels, int height, int width, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW)
    {
        if (channels <= 0) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Invalid channels: must be positive.");
        if (height <= 0) throw new ArgumentOutOfRangeException(nameof(height), height, "Invalid height: must be positive.");
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "Invalid width: must be positive.");
        if (kernelH <= 0) throw new ArgumentOutOfRangeException(nameof(kernelH), kernelH, "Invalid kernel height: must be positive.");
        if (kernelW <= 0) throw new ArgumentOutOfRangeException(nameof(kernelW), kernelW, "Invalid kernel width: must be positive.");
        if (strideH <= 0) throw new ArgumentOutOfRangeException(nameof(strideH), strideH, "Invalid stride: must be positive.");
        if (strideW <= 0) throw new ArgumentOutOfRangeException(nameof(strideW), strideW, "Invalid stride: must be positive.");
        if (padH < 0) throw new ArgumentOutOfRangeException(nameof(padH), padH, "Invalid padding: must be ≥ 0.");
        if (padW < 0) throw new ArgumentOutOfRangeException(nameof(padW), padW, "Invalid padding: must be ≥ 0.");
        if (height + 2 * padH < kernelH)
            throw new ArgumentOutOfRangeException(nameof(kernelH), kernelH, $"Kernel height {kernelH} exceeds the padded input height {height} + 2·{padH}.");
        if (width + 2 * padW < kernelW)
            throw new ArgumentOutOfRangeException(nameof(kernelW), kernelW, $"Kernel width {kernelW} exceeds the padded input width {width} + 2·{padW}.");
        Channels = channels; Height = height; Width = width;
        KernelH = kernelH; KernelW = kernelW; StrideH = strideH; StrideW = strideW; PadH = padH; PadW = padW;
        OutH = (height + 2 * padH - kernelH) / strideH + 1;
        OutW = (width + 2 * padW - kernelW) / strideW + 1;
    }

    /// <summary>Input channels.</summary>
    public int Channels { get; }
    /// <summary>Input height.</summary>
    public int Height { get; }
    /// <summary>Input width.</summary>
    public int Width { get; }
    /// <summary>Kernel height.</summary>
    public int KernelH { get; }
    /// <summary>Kernel width.</summary>
    public int KernelW { get; }
    /// <summary>Vertical stride.</summary>
    public int StrideH { get; }
    /// <summary>Horizontal stride.</summary>
    public int StrideW { get; }
    /// <summary>Zero padding added above and below.</summary>
    public int PadH { get; }
    /// <summary>Zero padding added left and right.</summary>
    public int PadW { get; }
    /// <summary>Output height.</summary>
    public int OutH { get; }
    /// <summary>Output width.</summary>
    public int OutW { get; }

    /// <summary>Rows of the column matrix: <c>Channels·KernelH·KernelW</c>.</summary>
    public int PatchSize => Channels * KernelH * KernelW;

    /// <summary>Output positions per channel: <c>OutH·OutW</c>.</summary>
    public int OutputPositions => OutH * OutW;

    /// <summary>Input elements per example.</summary>
    public int InputSize => Channels * Height * Width;

    /// <summary>True when the column matrix equals the input (1×1 kernel, stride 1, no padding).</summary>
    public bool IsPointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadH == 0 && PadW == 0;
}

/// <summary>
/// Image-to-column transforms for convolutions as matrix products. The column matrix of one
/// example is <c>[Channels·KernelH·KernelW, OutH·OutW]</c> (row <c>(c·KernelH + i)·KernelW + j</c>
/// holds input pixel <c>(c, oh·s − p + i, ow·s − p + j)</c> for every output position), so a
/// convolution with weights stored <c>[out, in, kh, kw]</c> (PyTorch's layout) is
/// <c>Y[out, OutH·OutW] = W[out, PatchSize] · col</c>. Rows may be strided (<c>ldc</c>) so that
/// several examples sit side by side in one wider matrix.
/// </summary>
/// <remarks>
/// <see cref="Pack"/> goes through a zero-padded copy of the image (<see cref="PaddedLength"/>
/// floats), so every column segment is a plain strided copy with no bounds tests, moved in whole
/// vectors: it may write up to <see cref="RowOverrun"/> floats past the end of each row (into the
/// next segment, which is written later, or into the gap of a strided matrix). For stride 1,
/// <see cref="Unpack"/> gathers each input row's contributions in registers with masked loads
/// (no scatter, no store-to-load stalls); other strides scatter into the padded buffer.
/// </remarks>
public static class Im2Col
{
    /// <summary>Floats a packed row may spill past its end; leave this gap between strided rows.</summary>
    public const int RowOverrun = 16;

    /// <summary>Extra floats at the end of the padded buffer that vector reads may touch.</summary>
    public const int Slack = 64;

    /// <summary>Floats of the padded-image buffer: <c>C·(H + 2·PadH)·(W + 2·PadW)</c> plus <see cref="Slack"/>.</summary>
    public static int PaddedLength(in ConvGeometry g) => g.Channels * (g.Height + 2 * g.PadH) * (g.Width + 2 * g.PadW) + Slack;

    /// <summary>Floats of a column buffer with row stride <paramref name="ldc"/>: <c>PatchSize·ldc + RowOverrun</c>.</summary>
    public static int ColumnLength(in ConvGeometry g, int ldc) => g.PatchSize * ldc + RowOverrun;

    /// <summary>
    /// Writes the column matrix of one example (<paramref name="x"/>: <c>[C, H, W]</c>) into
    /// <paramref name="col"/> with row stride <paramref name="ldc"/> (≥ OutH·OutW), using
    /// <paramref name="padded"/> as the padded copy. Up to <see cref="RowOverrun"/> floats past each
    /// row's end may be overwritten: pack examples that share rows in increasing column order, and
    /// leave that gap after the last one.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is too short or the stride is smaller than a row.</exception>
    public static void Pack(in ConvGeometry g, ReadOnlySpan<float> x, Span<float> padded, Span<float> col, int ldc)
    {
        int p = g.OutputPositions;
        if (ldc < p) throw new ArgumentException($"Column row stride {ldc} is shorter than the {p} output positions.", nameof(ldc));
        if (x.Length < g.InputSize) throw new ArgumentException($"Input of {x.Length} floats is shorter than one example ({g.InputSize}).", nameof(x));
        if (padded.Length < PaddedLength(g)) throw new ArgumentException($"Padded buffer of {padded.Length} floats is shorter than {PaddedLength(g)}.", nameof(padded));
        if (col.Length < (g.PatchSize - 1) * ldc + p + RowOverrun) throw new ArgumentException($"Column buffer of {col.Length} floats is too short for {g.PatchSize} rows of stride {ldc}.", nameof(col));
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW;
        if (g.PadH != 0 || g.PadW != 0) FillPadded(g, x, padded);
        else x.Slice(0, g.InputSize).CopyTo(padded); // the copy gives vector reads their slack
        ref float rx = ref MemoryMarshal.GetReference(padded);
        ref float rc = ref MemoryMarshal.GetReference(col);
        int oh = g.OutH, ow = g.OutW, sh = g.StrideH, sw = g.StrideW;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        for (int i = 0; i < g.KernelH; i++)
        for (int j = 0; j < g.KernelW; j++, row++)
        {
            ref float dst = ref Unsafe.Add(ref rc, (nint)row * ldc);
            ref float s0 = ref Unsafe.Add(ref rx, (c * hp + i) * wp + j);
            for (int y = 0; y < oh; y++)
            {
                ref float s = ref Unsafe.Add(ref s0, y * sh * wp);
                ref float d = ref Unsafe.Add(ref dst, y * ow);
                if (sw == 1) CopyOver(ref s, ref d, ow);
                else if (sw == 2) CopyEvenOver(ref s, ref d, ow);
                else
                    for (int t = 0; t < ow; t++) Unsafe.Add(ref d, t) = Unsafe.Add(ref s, t * sw);
            }
        }
    }

    /// <summary>
    /// Overwrites <paramref name="dx"/> (<c>[C, H, W]</c>) with the adjoint of <see cref="Pack"/>:
    /// every column entry (row stride <paramref name="ldc"/>) added to the input pixel it was read
    /// from; entries that read padding are dropped. <paramref name="padded"/> is scratch.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is too short or the stride is smaller than a row.</exception>
    public static void Unpack(in ConvGeometry g, ReadOnlySpan<float> col, int ldc, Span<float> padded, Span<float> dx)
    {
        int p = g.OutputPositions;
        if (ldc < p) throw new ArgumentException($"Column row stride {ldc} is shorter than the {p} output positions.", nameof(ldc));
        if (dx.Length < g.InputSize) throw new ArgumentException($"Input gradient of {dx.Length} floats is shorter than one example ({g.InputSize}).", nameof(dx));
        if (padded.Length < PaddedLength(g)) throw new ArgumentException($"Padded buffer of {padded.Length} floats is shorter than {PaddedLength(g)}.", nameof(padded));
        if (col.Length < (g.PatchSize - 1) * ldc + p + RowOverrun) throw new ArgumentException($"Column buffer of {col.Length} floats is too short for {g.PatchSize} rows of stride {ldc}.", nameof(col));
        if (g.StrideW == 1 && g.StrideH == 1 && Avx512F.IsSupported) GatherStride1(g, col, ldc, dx);
        else Scatter(g, col, ldc, padded, dx);
    }

    /// <summary>Stride-1 adjoint: each 16-wide chunk of an input row sums its kh·kw shifted column segments in a register.</summary>
    private static unsafe void GatherStride1(in ConvGeometry g, ReadOnlySpan<float> col, int ldc, Span<float> dx)
    {
        int h = g.Height, w = g.Width, kh = g.KernelH, kw = g.KernelW, oh = g.OutH, ow = g.OutW, ph = g.PadH, pw = g.PadW;
        var lanes = Vector512<int>.Indices;
        fixed (float* pc = col, pd = dx)
        {
            for (int c = 0; c < g.Channels; c++)
            for (int yy = 0; yy < h; yy++)
            {
                float* drow = pd + (c * h + yy) * w;
                for (int x0 = 0; x0 < w; x0 += 16)
                {
                    int valid = Math.Min(16, w - x0);
                    var acc = Vector512<float>.Zero;
                    for (int i = 0; i < kh; i++)
                    {
                        int y = yy + ph - i; // output row that read input row yy through kernel row i
                        if ((uint)y >= (uint)oh) continue;
                        float* rowBase = pc + (long)((c * kh + i) * kw) * ldc + y * ow;
                        for (int j = 0; j < kw; j++)
                        {
                            // Lane l is input column x0 + l, read by output column t = x0 + l + pw − j.
                            int off = x0 + pw - j;
                            int lo = -off, hi = Math.Min(ow - off, valid);
                            if (hi <= 0 || hi <= lo) continue;
                            float* seg = rowBase + (long)j * ldc + off;
                            if (lo <= 0 && hi >= 16) acc += Vector512.Load(seg);
                            else
                            {
                                var m = (Vector512.GreaterThanOrEqual(lanes, Vector512.Create(lo)) & Vector512.LessThan(lanes, Vector512.Create(hi))).AsSingle();
                                acc += Avx512F.MaskLoad(seg, m, Vector512<float>.Zero);
                            }
                        }
                    }
                    if (valid == 16) acc.Store(drow + x0);
                    else Avx512F.MaskStore(drow + x0, Vector512.LessThan(lanes, Vector512.Create(valid)).AsSingle(), acc);
                }
            }
        }
    }

    /// <summary>General adjoint: scatter-add every segment into the padded buffer, then crop.</summary>
    private static void Scatter(in ConvGeometry g, ReadOnlySpan<float> col, int ldc, Span<float> padded, Span<float> dx)
    {
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW;
        padded.Slice(0, g.Channels * hp * wp + Slack).Clear();
        ref float rx = ref MemoryMarshal.GetReference(padded);
        ref float rc = ref MemoryMarshal.GetReference(col);
        int oh = g.OutH, ow = g.OutW, sh = g.StrideH, sw = g.StrideW;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        for (int i = 0; i < g.KernelH; i++)
        for (int j = 0; j < g.KernelW; j++, row++)
        {
            ref float src = ref Unsafe.Add(ref rc, (nint)row * ldc);
            ref float d0 = ref Unsafe.Add(ref rx, (c * hp + i) * wp + j);
            for (int y = 0; y < oh; y++)
            {
                ref float d = ref Unsafe.Add(ref d0, y * sh * wp);
                ref float s = ref Unsafe.Add(ref src, y * ow);
                if (sw == 1) AddOver(ref s, ref d, ow);
                else if (sw == 2) AddEvenOver(ref s, ref d, ow);
                else
                    for (int t = 0; t < ow; t++) Unsafe.Add(ref d, t * sw) += Unsafe.Add(ref s, t);
            }
        }
        // Crop the padding.
        for (int c = 0; c < g.Channels; c++)
        for (int y = 0; y < g.Height; y++)
            padded.Slice((c * hp + y + g.PadH) * wp + g.PadW, g.Width).CopyTo(dx.Slice((c * g.Height + y) * g.Width, g.Width));
    }

    private static void FillPadded(in ConvGeometry g, ReadOnlySpan<float> x, Span<float> padded)
    {
        int h = g.Height, w = g.Width, hp = h + 2 * g.PadH, wp = w + 2 * g.PadW;
        padded.Slice(0, g.Channels * hp * wp + Slack).Clear();
        for (int c = 0; c < g.Channels; c++)
        for (int y = 0; y < h; y++)
            x.Slice((c * h + y) * w, w).CopyTo(padded.Slice((c * hp + y + g.PadH) * wp + g.PadW, w));
    }

    /// <summary>Copies n floats in whole vectors (may write up to a vector past d + n and read past s + n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyOver(ref float s, ref float d, int n)
    {
        int t = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; t < n; t += Vector512<float>.Count) Vector512.LoadUnsafe(ref s, (nuint)t).StoreUnsafe(ref d, (nuint)t);
        else if (Vector256.IsHardwareAccelerated)
            for (; t < n; t += Vector256<float>.Count) Vector256.LoadUnsafe(ref s, (nuint)t).StoreUnsafe(ref d, (nuint)t);
        else
            for (; t < n; t++) Unsafe.Add(ref d, t) = Unsafe.Add(ref s, t);
    }

    /// <summary>d[t] = s[2t] for t &lt; n, in whole vectors (may write past d + n and read past s + 2n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyEvenOver(ref float s, ref float d, int n)
    {
        int t = 0;
        if (Avx512F.IsSupported)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (; t < n; t += 16)
            {
                var lo = Vector512.LoadUnsafe(ref s, (nuint)(2 * t));
                var hi = Vector512.LoadUnsafe(ref s, (nuint)(2 * t + 16));
                Avx512F.PermuteVar16x32x2(lo, even, hi).StoreUnsafe(ref d, (nuint)t);
            }
        }
        else
            for (; t < n; t++) Unsafe.Add(ref d, t) = Unsafe.Add(ref s, 2 * t);
    }

    /// <summary>d[t] += s[t] for t &lt; n, in whole vectors whose extra lanes add zero (reads past s + n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddOver(ref float s, ref float d, int n)
    {
        int t = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; t <= n - 16; t += 16)
                (Vector512.LoadUnsafe(ref d, (nuint)t) + Vector512.LoadUnsafe(ref s, (nuint)t)).StoreUnsafe(ref d, (nuint)t);
            if (t < n)
            {
                var m = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n - t)).AsSingle();
                (Vector512.LoadUnsafe(ref d, (nuint)t) + (Vector512.LoadUnsafe(ref s, (nuint)t) & m)).StoreUnsafe(ref d, (nuint)t);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; t <= n - 8; t += 8)
                (Vector256.LoadUnsafe(ref d, (nuint)t) + Vector256.LoadUnsafe(ref s, (nuint)t)).StoreUnsafe(ref d, (nuint)t);
            if (t < n)
            {
                var m = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(n - t)).AsSingle();
                (Vector256.LoadUnsafe(ref d, (nuint)t) + (Vector256.LoadUnsafe(ref s, (nuint)t) & m)).StoreUnsafe(ref d, (nuint)t);
            }
        }
        else
            for (; t < n; t++) Unsafe.Add(ref d, t) += Unsafe.Add(ref s, t);
    }

    /// <summary>d[2t] += s[t] for t &lt; n, in whole vectors whose extra lanes add zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddEvenOver(ref float s, ref float d, int n)
    {
        int t = 0;
        if (Avx512F.IsSupported)
        {
            // Interleave 16 values with zeros: lanes 0..15 of lo/hi take s[0..7]/s[8..15] at even positions.
            var lo = Vector512.Create(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16);
            var hi = Vector512.Create(8, 16, 9, 16, 10, 16, 11, 16, 12, 16, 13, 16, 14, 16, 15, 16);
            for (; t < n; t += 16)
            {
                var v = Vector512.LoadUnsafe(ref s, (nuint)t);
                if (n - t < 16) v &= Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n - t)).AsSingle();
                ref float dd = ref Unsafe.Add(ref d, 2 * t);
                (Vector512.LoadUnsafe(ref dd) + Avx512F.PermuteVar16x32x2(v, lo, Vector512<float>.Zero)).StoreUnsafe(ref dd);
                (Vector512.LoadUnsafe(ref dd, 16) + Avx512F.PermuteVar16x32x2(v, hi, Vector512<float>.Zero)).StoreUnsafe(ref dd, 16);
            }
        }
        else
            for (; t < n; t++) Unsafe.Add(ref d, 2 * t) += Unsafe.Add(ref s, t);
    }
}
