using System.Numerics.Tensors;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// A residual block (He et al., "Deep Residual Learning for Image Recognition", 2016):
/// <c>y = ReLU(body(x) + shortcut(x))</c>, where the shortcut is the identity or a projection
/// layer (typically a strided 1×1 convolution and a normalization) when the body changes the shape.
/// A composite layer: the body's and shortcut's outputs, their scratch and the gradient buffers
/// live in this layer's scratch, as in <see cref="Sequential"/>. Children are renamed
/// <c>{name}.body</c> and <c>{name}.shortcut</c>.
/// </summary>
public sealed class ResidualBlock : Layer
{
    private readonly Sequential _body;
    private readonly Layer? _shortcut;
    private int _in, _out;

    /// <summary>Creates a residual block.</summary>
    /// <param name="body">The residual branch.</param>
    /// <param name="shortcut">The projection shortcut, or null for the identity (then the body must keep the shape).</param>
    /// <param name="name">Layer name (default "res").</param>
    /// <exception cref="ArgumentNullException"><paramref name="body"/> is null.</exception>
    public ResidualBlock(Sequential body, Layer? shortcut = null, string name = "res") : base(name)
    {
        _body = body ?? throw new ArgumentNullException(nameof(body));
        _shortcut = shortcut;
    }

    /// <summary>
    /// The basic block of ResNet-18/20 with group normalization: body = 3×3 conv (stride
    /// <paramref name="stride"/>) → GroupNorm → ReLU → 3×3 conv → GroupNorm; shortcut = identity when
    /// the shape is kept, else a 1×1 conv with stride <paramref name="stride"/> → GroupNorm.
    /// Convolutions have no bias (the normalization's β takes its place).
    /// </summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="stride">Stride of the first convolution (1 or 2 typically).</param>
    /// <param name="groups">GroupNorm groups (must divide <paramref name="outChannels"/>).</param>
    /// <param name="name">Layer name (default "block").</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or <paramref name="groups"/> does not divide <paramref name="outChannels"/>.</exception>
    public static ResidualBlock Basic(int inChannels, int outChannels, int stride, int groups, string name = "block")
    {
        if (inChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Invalid input channels: must be positive.");
        var body = new Sequential("body",
            new Conv2d(outChannels, 3, stride, 1, bias: false, name: "conv1"),
            new GroupNorm(groups, outChannels, name: "gn1"),
            new ReLU(),
            new Conv2d(outChannels, 3, 1, 1, bias: false, name: "conv2"),
            new GroupNorm(groups, outChannels, name: "gn2"));
        Layer? shortcut = stride == 1 && inChannels == outChannels
            ? null
            : new Sequential("shortcut",
                new Conv2d(outChannels, 1, stride, 0, bias: false, name: "conv"),
                new GroupNorm(groups, outChannels, name: "gn"));
        return new ResidualBlock(body, shortcut, name);
    }

    /// <summary>The residual branch.</summary>
    public Sequential Body => _body;

    /// <summary>The projection shortcut, or null for the identity.</summary>
    public Layer? Shortcut => _shortcut;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The body and shortcut outputs differ in shape.</exception>
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        _body.Name = Name + ".body";
        _body.Build(input, layout);
        var shape = _body.OutputShape;
        if (_shortcut is null)
        {
            if (shape != input)
                throw new ArgumentException($"Residual block '{Name}': the body maps {input} to {shape}, so the identity shortcut does not fit; give a projection shortcut.", nameof(input));
        }
        else
        {
            _shortcut.Name = Name + ".shortcut";
            _shortcut.Build(input, layout);
            if (_shortcut.OutputShape != shape)
                throw new ArgumentException($"Residual block '{Name}': the body outputs {shape} but the shortcut outputs {_shortcut.OutputShape}.", nameof(input));
        }
        _in = input.Size;
        _out = shape.Size;
        return shape;
    }

    /// <inheritdoc />
    public override void InitializeParameters(Span<float> parameters, Rng rng)
    {
        _body.InitializeParameters(parameters, rng);
        _shortcut?.InitializeParameters(parameters, rng);
    }

    /// <inheritdoc />
    public override long FlopsPerExample => _body.FlopsPerExample + (_shortcut?.FlopsPerExample ?? 0) + 2L * _out;

    // Scratch: [body output | shortcut output (projection) | summed-output gradient | shortcut input gradient (projection) | body scratch | shortcut scratch]
    private int ShortcutBuffers(int batch) => _shortcut is null ? 0 : batch * (_out + _in);

    /// <inheritdoc />
    public override int ScratchLength(int batch)
    {
        long n = 2L * batch * _out + ShortcutBuffers(batch) + _body.ScratchLength(batch) + (_shortcut?.ScratchLength(batch) ?? 0);
        return checked((int)n);
    }

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        int b = a.Batch, o = b * _out;
        var s = a.Scratch;
        var bodyOut = s.Slice(0, o);
        int pos = 2 * o;
        Span<float> scOut = default;
        if (_shortcut is not null) { scOut = s.Slice(pos, o); pos += o + b * _in; }
        var bodyScratch = s.Slice(pos, _body.ScratchLength(b));
        pos += bodyScratch.Length;
        _body.Forward(new ForwardArgs(a.Parameters, a.Input, bodyOut, bodyScratch, b, a.Context));
        var y = a.Output.Slice(0, o);
        if (_shortcut is null) TensorPrimitives.Add(bodyOut, a.Input.Slice(0, o), y);
        else
        {
            _shortcut.Forward(new ForwardArgs(a.Parameters, a.Input, scOut, s.Slice(pos, _shortcut.ScratchLength(b)), b, a.Context));
            TensorPrimitives.Add(bodyOut, scOut, y);
        }
        TensorPrimitives.Max(y, 0f, y);
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        int b = a.Batch, o = b * _out, n = b * _in;
        var s = a.Scratch;
        var bodyOut = s.Slice(0, o);
        var dz = s.Slice(o, o);
        int pos = 2 * o;
        Span<float> scOut = default, scDx = default;
        if (_shortcut is not null) { scOut = s.Slice(pos, o); scDx = s.Slice(pos + o, n); pos += o + n; }
        var bodyScratch = s.Slice(pos, _body.ScratchLength(b));
        pos += bodyScratch.Length;
        ElementwiseKernels.MaskPositive(a.Output.Slice(0, o), a.OutputGradient.Slice(0, o), dz);
        bool wantDx = !a.InputGradient.IsEmpty;
        Span<float> dx = wantDx ? a.InputGradient.Slice(0, n) : default;
        _body.Backward(new BackwardArgs(a.Parameters, a.Input, bodyOut, dz, dx, a.ParameterGradient, bodyScratch, b, a.Context));
        if (_shortcut is null)
        {
            if (wantDx) TensorPrimitives.Add(dx, dz, dx);
        }
        else
        {
            _shortcut.Backward(new BackwardArgs(a.Parameters, a.Input, scOut, dz, wantDx ? scDx : default, a.ParameterGradient,
                s.Slice(pos, _shortcut.ScratchLength(b)), b, a.Context));
            if (wantDx) TensorPrimitives.Add(dx, scDx, dx);
        }
    }
}
