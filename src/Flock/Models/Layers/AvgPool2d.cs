using System.Numerics.Tensors;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// 2-D average pooling over <c>[C, H, W]</c> examples without padding (PyTorch's
/// <c>AvgPool2d</c> with floor rounding: every window averages <c>kernel²</c> inputs), or global
/// average pooling (<see cref="Global"/>, PyTorch's <c>AdaptiveAvgPool2d(1)</c>) to <c>[C, 1, 1]</c>.
/// </summary>
public sealed class AvgPool2d : Layer
{
    private readonly int _kernel, _stride;
    private readonly bool _global;
    private ConvGeometry _g;

    /// <summary>Creates an average pool.</summary>
    /// <param name="kernel">Window size (positive).</param>
    /// <param name="stride">Stride (positive); default (0) = <paramref name="kernel"/>.</param>
    /// <param name="name">Layer name (default "avgpool").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kernel"/> is not positive or <paramref name="stride"/> is negative.</exception>
    public AvgPool2d(int kernel, int stride = 0, string name = "avgpool") : base(name)
    {
        if (kernel <= 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Invalid pooling kernel: must be positive.");
        if (stride < 0) throw new ArgumentOutOfRangeException(nameof(stride), stride, "Invalid pooling stride: must be positive (or 0 for the kernel size).");
        _kernel = kernel;
        _stride = stride == 0 ? kernel : stride;
    }

    private AvgPool2d(string name) : base(name) => _global = true;

    /// <summary>A global average pool: each channel's mean, output <c>[C, 1, 1]</c>.</summary>
    /// <param name="name">Layer name (default "gap").</param>
    public static AvgPool2d Global(string name = "gap") => new(name);

    /// <summary>True for a global average pool.</summary>
    public bool IsGlobal => _global;

    /// <summary>The window geometry (valid once built).</summary>
    public ConvGeometry Geometry => _g;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c> or is smaller than the window.</exception>
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        if (input.Rank != 3) throw new ArgumentException($"AvgPool2d '{Name}' needs [C, H, W] inputs; got {input}.", nameof(input));
        int kh = _global ? input[1] : _kernel, kw = _global ? input[2] : _kernel;
        int sh = _global ? input[1] : _stride, sw = _global ? input[2] : _stride;
        try { _g = new ConvGeometry(input[0], input[1], input[2], kh, kw, sh, sw, 0, 0); }
        catch (ArgumentOutOfRangeException e) { throw new ArgumentException($"AvgPool2d '{Name}' cannot take input {input}: {e.Message}", nameof(input), e); }
        return new TensorShape(input[0], _g.OutH, _g.OutW);
    }

    /// <inheritdoc />
    public override long FlopsPerExample => (long)_g.Channels * _g.OutputPositions * _g.KernelH * _g.KernelW;

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        int planes = a.Batch * _g.Channels, h = _g.Height, w = _g.Width, oh = _g.OutH, ow = _g.OutW;
        int inPlane = h * w, outPlane = oh * ow, kh = _g.KernelH, kw = _g.KernelW, s = _g.StrideH;
        float inv = 1f / (kh * kw);
        if (_global)
        {
            for (int pl = 0; pl < planes; pl++) a.Output[pl] = TensorPrimitives.Sum(a.Input.Slice(pl * inPlane, inPlane)) * inv;
            return;
        }
        for (int pl = 0; pl < planes; pl++)
        {
            var x = a.Input.Slice(pl * inPlane, inPlane);
            var y = a.Output.Slice(pl * outPlane, outPlane);
            for (int r = 0; r < oh; r++)
            for (int c = 0; c < ow; c++)
            {
                float sum = 0;
                int start = r * s * w + c * s;
                for (int i = 0; i < kh; i++)
                    sum += TensorPrimitives.Sum(x.Slice(start + i * w, kw));
                y[r * ow + c] = sum * inv;
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (a.InputGradient.IsEmpty) return;
        int planes = a.Batch * _g.Channels, h = _g.Height, w = _g.Width, oh = _g.OutH, ow = _g.OutW;
        int inPlane = h * w, outPlane = oh * ow, kh = _g.KernelH, kw = _g.KernelW, s = _g.StrideH;
        float inv = 1f / (kh * kw);
        if (_global)
        {
            for (int pl = 0; pl < planes; pl++) a.InputGradient.Slice(pl * inPlane, inPlane).Fill(a.OutputGradient[pl] * inv);
            return;
        }
        a.InputGradient.Slice(0, planes * inPlane).Clear();
        for (int pl = 0; pl < planes; pl++)
        {
            var dx = a.InputGradient.Slice(pl * inPlane, inPlane);
            var dy = a.OutputGradient.Slice(pl * outPlane, outPlane);
            for (int r = 0; r < oh; r++)
            for (int c = 0; c < ow; c++)
            {
                float g = dy[r * ow + c] * inv;
                int start = r * s * w + c * s;
                for (int i = 0; i < kh; i++)
                {
                    var seg = dx.Slice(start + i * w, kw);
                    TensorPrimitives.Add(seg, g, seg);
                }
            }
        }
    }
}
