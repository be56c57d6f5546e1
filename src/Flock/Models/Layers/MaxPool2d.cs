using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// 2-D max pooling over <c>[C, H, W]</c> examples without padding (PyTorch's <c>MaxPool2d</c>
/// with floor rounding). Ties go to the first maximum in row-major window order and a NaN in a
/// window propagates (the last NaN's index is kept), as in PyTorch. The index of each maximum is kept in the scratch (as an
/// <see cref="int"/> reinterpreting the float scratch) and backward routes the gradient there.
/// </summary>
public sealed class MaxPool2d : Layer
{
    private readonly int _kernel, _stride;
    private ConvGeometry _g;

    /// <summary>Creates a max pool.</summary>
    /// <param name="kernel">Window size (positive).</param>
    /// <param name="stride">Stride (positive); default (0) = <paramref name="kernel"/>.</param>
    /// <param name="name">Layer name (default "maxpool").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kernel"/> is not positive or <paramref name="stride"/> is negative.</exception>
    public MaxPool2d(int kernel, int stride = 0, string name = "maxpool") : base(name)
    {
        if (kernel <= 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Invalid pooling kernel: must be positive.");
        if (stride < 0) throw new ArgumentOutOfRangeException(nameof(stride), stride, "Invalid pooling stride: must be positive (or 0 for the kernel size).");
        _kernel = kernel;
        _stride = stride == 0 ? kernel : stride;
    }

    /// <summary>The window geometry (valid once built).</summary>
    public ConvGeometry Geometry => _g;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c> or is smaller than the window.</exception>
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        if (input.Rank != 3) throw new ArgumentException($"MaxPool2d '{Name}' needs [C, H, W] inputs; got {input}.", nameof(input));
        try { _g = new ConvGeometry(input[0], input[1], input[2], _kernel, _kernel, _stride, _stride, 0, 0); }
        catch (ArgumentOutOfRangeException e) { throw new ArgumentException($"MaxPool2d '{Name}' cannot take input {input}: {e.Message}", nameof(input), e); }
        return new TensorShape(input[0], _g.OutH, _g.OutW);
    }

    /// <inheritdoc />
    public override int ScratchLength(int batch) => checked(batch * _g.Channels * _g.OutputPositions);

    /// <inheritdoc />
    public override long FlopsPerExample => (long)_g.Channels * _g.OutputPositions * _kernel * _kernel;

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        int planes = a.Batch * _g.Channels, h = _g.Height, w = _g.Width, oh = _g.OutH, ow = _g.OutW, k = _kernel, s = _stride;
        int inPlane = h * w, outPlane = oh * ow;
        ref float rx = ref MemoryMarshal.GetReference(a.Input);
        ref float ry = ref MemoryMarshal.GetReference(a.Output);
        ref int ri = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<float, int>(a.Scratch));
        for (int pl = 0; pl < planes; pl++)
        {
            ref float x = ref Unsafe.Add(ref rx, (nint)pl * inPlane);
            ref float y = ref Unsafe.Add(ref ry, (nint)pl * outPlane);
            ref int idx = ref Unsafe.Add(ref ri, (nint)pl * outPlane);
            if (k == 2 && s == 2)
            {
                for (int r = 0; r < oh; r++)
                {
                    int b0 = 2 * r * w;
                    for (int c = 0; c < ow; c++)
                    {
                        int i0 = b0 + 2 * c, i1 = i0 + 1, i2 = i0 + w, i3 = i2 + 1;
                        float v0 = Unsafe.Add(ref x, i0), v1 = Unsafe.Add(ref x, i1), v2 = Unsafe.Add(ref x, i2), v3 = Unsafe.Add(ref x, i3);
                        int bi = i0; float bv = v0;
                        if (v1 > bv || float.IsNaN(v1)) { bv = v1; bi = i1; }
                        if (v2 > bv || float.IsNaN(v2)) { bv = v2; bi = i2; }
                        if (v3 > bv || float.IsNaN(v3)) { bv = v3; bi = i3; }
                        Unsafe.Add(ref y, r * ow + c) = bv;
                        Unsafe.Add(ref idx, r * ow + c) = bi;
                    }
                }
                continue;
            }
            for (int r = 0; r < oh; r++)
            for (int c = 0; c < ow; c++)
            {
                int start = r * s * w + c * s;
                int bi = start; float bv = Unsafe.Add(ref x, start);
                for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                {
                    int t = start + i * w + j;
                    float v = Unsafe.Add(ref x, t);
                    if (v > bv || float.IsNaN(v)) { bv = v; bi = t; }
                }
                Unsafe.Add(ref y, r * ow + c) = bv;
                Unsafe.Add(ref idx, r * ow + c) = bi;
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (a.InputGradient.IsEmpty) return;
        int planes = a.Batch * _g.Channels, inPlane = _g.Height * _g.Width, outPlane = _g.OutputPositions;
        a.InputGradient.Slice(0, planes * inPlane).Clear();
        ref float rdx = ref MemoryMarshal.GetReference(a.InputGradient);
        ref float rdy = ref MemoryMarshal.GetReference(a.OutputGradient);
        ref int ri = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<float, int>(a.Scratch));
        for (int pl = 0; pl < planes; pl++)
        {
            ref float dx = ref Unsafe.Add(ref rdx, (nint)pl * inPlane);
            ref float dy = ref Unsafe.Add(ref rdy, (nint)pl * outPlane);
            ref int idx = ref Unsafe.Add(ref ri, (nint)pl * outPlane);
            for (int o = 0; o < outPlane; o++) Unsafe.Add(ref dx, Unsafe.Add(ref idx, o)) += Unsafe.Add(ref dy, o);
        }
    }
}
