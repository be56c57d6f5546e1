using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    /// <summary>First output column whose input column <c>ow·StrideW − PadW + j</c> is inside the image.</summary>
    internal static int FirstValidOut(int j, int stride, int pad, int outSize)
    {
        int d = pad - j; // need ow·s ≥ d
        if (d <= 0) return 0;
        return Math.Min(outSize, (d + stride - 1) / stride);
    }

    /// <summary>One past the last output column whose input column is inside the image.</summary>
    internal static int EndValidOut(int j, int stride, int pad, int inSize, int outSize)
    {
        int d = inSize - 1 + pad - j; // need ow·s ≤ d
        if (d < 0) return 0;
        return Math.Min(outSize, d / stride + 1);
    }
}

/// <summary>
/// Image-to-column transforms for convolutions as matrix products. The column matrix of one
/// example is <c>[Channels·KernelH·KernelW, OutH·OutW]</c> (row <c>(c·KernelH + i)·KernelW + j</c>
/// holds input pixel <c>(c, oh·s − p + i, ow·s − p + j)</c> for every output position), so a
/// convolution with weights stored <c>[out, in, kh, kw]</c> (PyTorch's layout) is
/// <c>Y[out, OutH·OutW] = W[out, PatchSize] · col</c>, written straight into the NCHW output.
/// </summary>
public static class Im2Col
{
    /// <summary>Writes the column matrix of one example (<paramref name="x"/>: <c>[C, H, W]</c>) into <paramref name="col"/>, row stride <paramref name="ldc"/> (≥ OutH·OutW).</summary>
    /// <exception cref="ArgumentException">A buffer is too short.</exception>
    public static void Pack(in ConvGeometry g, ReadOnlySpan<float> x, Span<float> col, int ldc)
    {
        int p = g.OutputPositions;
        if (ldc < p) throw new ArgumentException($"Column row stride {ldc} is shorter than the {p} output positions.", nameof(ldc));
        if (x.Length < g.InputSize) throw new ArgumentException($"Input of {x.Length} floats is shorter than one example ({g.InputSize}).", nameof(x));
        if (col.Length < (g.PatchSize - 1) * ldc + p) throw new ArgumentException($"Column buffer of {col.Length} floats is too short for {g.PatchSize}×{p} (stride {ldc}).", nameof(col));
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rc = ref MemoryMarshal.GetReference(col);
        int h = g.Height, w = g.Width, oh = g.OutH, ow = g.OutW, sh = g.StrideH, sw = g.StrideW;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        for (int i = 0; i < g.KernelH; i++)
        {
            int ohLo = ConvGeometry.FirstValidOut(i, sh, g.PadH, oh), ohHi = ConvGeometry.EndValidOut(i, sh, g.PadH, h, oh);
            for (int j = 0; j < g.KernelW; j++, row++)
            {
                ref float dst = ref Unsafe.Add(ref rc, (nint)row * ldc);
                int owLo = ConvGeometry.FirstValidOut(j, sw, g.PadW, ow), owHi = ConvGeometry.EndValidOut(j, sw, g.PadW, w, ow);
                int len = Math.Max(0, owHi - owLo);
                Clear(ref dst, ohLo * ow);
                Clear(ref Unsafe.Add(ref dst, ohHi * ow), (oh - ohHi) * ow);
                for (int y = ohLo; y < ohHi; y++)
                {
                    ref float d = ref Unsafe.Add(ref dst, y * ow);
                    if (len == 0) { Clear(ref d, ow); continue; }
                    ref float s = ref Unsafe.Add(ref rx, (c * h + y * sh - g.PadH + i) * w + owLo * sw - g.PadW + j);
                    Clear(ref d, owLo);
                    if (sw == 1) Copy(ref s, ref Unsafe.Add(ref d, owLo), len);
                    else
                        for (int t = 0; t < len; t++) Unsafe.Add(ref d, owLo + t) = Unsafe.Add(ref s, t * sw);
                    Clear(ref Unsafe.Add(ref d, owHi), ow - owHi);
                }
            }
        }
    }

    /// <summary>
    /// Overwrites <paramref name="dx"/> (<c>[C, H, W]</c>) with the sum, over every column entry,
    /// of the entry added to the input pixel it was read from (the adjoint of <see cref="Pack"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is too short.</exception>
    public static void Unpack(in ConvGeometry g, ReadOnlySpan<float> col, int ldc, Span<float> dx)
    {
        int p = g.OutputPositions;
        if (ldc < p) throw new ArgumentException($"Column row stride {ldc} is shorter than the {p} output positions.", nameof(ldc));
        if (dx.Length < g.InputSize) throw new ArgumentException($"Input gradient of {dx.Length} floats is shorter than one example ({g.InputSize}).", nameof(dx));
        if (col.Length < (g.PatchSize - 1) * ldc + p) throw new ArgumentException($"Column buffer of {col.Length} floats is too short for {g.PatchSize}×{p} (stride {ldc}).", nameof(col));
        dx.Slice(0, g.InputSize).Clear();
        ref float rx = ref MemoryMarshal.GetReference(dx);
        ref float rc = ref MemoryMarshal.GetReference(col);
        int h = g.Height, w = g.Width, oh = g.OutH, ow = g.OutW, sh = g.StrideH, sw = g.StrideW;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        for (int i = 0; i < g.KernelH; i++)
        {
            int ohLo = ConvGeometry.FirstValidOut(i, sh, g.PadH, oh), ohHi = ConvGeometry.EndValidOut(i, sh, g.PadH, h, oh);
            for (int j = 0; j < g.KernelW; j++, row++)
            {
                ref float src = ref Unsafe.Add(ref rc, (nint)row * ldc);
                int owLo = ConvGeometry.FirstValidOut(j, sw, g.PadW, ow), owHi = ConvGeometry.EndValidOut(j, sw, g.PadW, w, ow);
                int len = owHi - owLo;
                if (len <= 0) continue;
                for (int y = ohLo; y < ohHi; y++)
                {
                    ref float s = ref Unsafe.Add(ref src, y * ow + owLo);
                    ref float d = ref Unsafe.Add(ref rx, (c * h + y * sh - g.PadH + i) * w + owLo * sw - g.PadW + j);
                    if (sw == 1) AddInPlace(ref d, ref s, len);
                    else
                        for (int t = 0; t < len; t++) Unsafe.Add(ref d, t * sw) += Unsafe.Add(ref s, t);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear(ref float d, int n)
    {
        if (n > 0) MemoryMarshal.CreateSpan(ref d, n).Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(ref float s, ref float d, int n) =>
        MemoryMarshal.CreateReadOnlySpan(ref s, n).CopyTo(MemoryMarshal.CreateSpan(ref d, n));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddInPlace(ref float d, ref float s, int n)
    {
        var dd = MemoryMarshal.CreateSpan(ref d, n);
        TensorPrimitives.Add(dd, MemoryMarshal.CreateReadOnlySpan(ref s, n), dd);
    }
}
