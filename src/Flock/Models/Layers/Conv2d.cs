using System.Numerics.Tensors;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// 2-D convolution (cross-correlation, as in PyTorch's <c>Conv2d</c>) over <c>[C, H, W]</c>
/// examples with zero padding: weights <c>[out, in, kh, kw]</c> (PyTorch's layout), bias <c>[out]</c>.
/// Computed per example as <c>Y[out, OH·OW] = W[out, C·kh·kw] · im2col(x)</c> with
/// <see cref="Gemm.Multiply"/>; backward as <c>dW += dY·colᵀ</c> and
/// <c>dx = col2im(Wᵀ·dY)</c>. Only one example's column matrix lives in the scratch.
/// </summary>
public sealed class Conv2d : Layer
{
    private readonly int _outChannels;
    private readonly int _kh, _kw, _sh, _sw, _ph, _pw;
    private readonly bool _bias;
    private readonly WeightInit _init;
    private ParameterTensor _w = null!;
    private ParameterTensor? _b;
    private ConvGeometry _g;

    /// <summary>Creates a convolution with a square kernel, stride and padding.</summary>
    /// <param name="outChannels">Output channels (positive).</param>
    /// <param name="kernel">Kernel size (positive).</param>
    /// <param name="stride">Stride (positive, default 1).</param>
    /// <param name="padding">Zero padding on every side (≥ 0, default 0).</param>
    /// <param name="bias">Whether to add a per-channel bias (default true).</param>
    /// <param name="init">Weight init (default He normal, fan-in <c>C·kh·kw</c>); the bias starts at zero except for <see cref="WeightInit.TorchDefault"/>.</param>
    /// <param name="name">Layer name (default "conv").</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the padding is negative.</exception>
    public Conv2d(int outChannels, int kernel, int stride = 1, int padding = 0, bool bias = true, WeightInit init = WeightInit.HeNormal, string name = "conv")
        : this(outChannels, (kernel, kernel), (stride, stride), (padding, padding), bias, init, name) { }

    /// <summary>Creates a convolution with separate vertical and horizontal kernel, stride and padding.</summary>
    /// <param name="outChannels">Output channels (positive).</param>
    /// <param name="kernel">Kernel (height, width), both positive.</param>
    /// <param name="stride">Stride (vertical, horizontal), both positive.</param>
    /// <param name="padding">Zero padding (vertical, horizontal), both ≥ 0.</param>
    /// <param name="bias">Whether to add a per-channel bias.</param>
    /// <param name="init">Weight init (fan-in <c>C·kh·kw</c>).</param>
    /// <param name="name">Layer name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or a padding is negative.</exception>
    public Conv2d(int outChannels, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, bool bias = true, WeightInit init = WeightInit.HeNormal, string name = "conv")
        : base(name)
    {
        if (outChannels <= 0) throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, "Invalid output channels: must be positive.");
        if (kernel.H <= 0 || kernel.W <= 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Invalid kernel size: both sides must be positive.");
        if (stride.H <= 0 || stride.W <= 0) throw new ArgumentOutOfRangeException(nameof(stride), stride, "Invalid stride: both must be positive.");
        if (padding.H < 0 || padding.W < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "Invalid padding: both must be ≥ 0.");
        _outChannels = outChannels;
        (_kh, _kw) = kernel;
        (_sh, _sw) = stride;
        (_ph, _pw) = padding;
        _bias = bias;
        _init = init;
    }

    /// <summary>The weight tensor descriptor (<c>[out, in, kh, kw]</c>).</summary>
    public ParameterTensor Weight => _w;

    /// <summary>The bias tensor descriptor, or null.</summary>
    public ParameterTensor? Bias => _b;

    /// <summary>The window geometry (valid once built).</summary>
    public ConvGeometry Geometry => _g;

    /// <summary>Output channels.</summary>
    public int OutChannels => _outChannels;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c> or is smaller than the kernel.</exception>
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        if (input.Rank != 3) throw new ArgumentException($"Conv2d '{Name}' needs [C, H, W] inputs; got {input}.", nameof(input));
        try { _g = new ConvGeometry(input[0], input[1], input[2], _kh, _kw, _sh, _sw, _ph, _pw); }
        catch (ArgumentOutOfRangeException e) { throw new ArgumentException($"Conv2d '{Name}' cannot take input {input}: {e.Message}", nameof(input), e); }
        _w = layout.Add(Name + ".weight", _outChannels, input[0], _kh, _kw);
        if (_bias) _b = layout.Add(Name + ".bias", _outChannels);
        return new TensorShape(_outChannels, _g.OutH, _g.OutW);
    }

    /// <inheritdoc />
    public override long FlopsPerExample => 2L * _outChannels * _g.PatchSize * _g.OutputPositions;

    /// <inheritdoc />
    public override int ScratchLength(int batch) => _g.IsPointwise ? 0 : Im2Col.PaddedLength(_g) + Im2Col.ColumnLength(_g);

    /// <inheritdoc />
    public override void InitializeParameters(Span<float> p, Rng rng)
    {
        int fanIn = _g.PatchSize, fanOut = _outChannels * _kh * _kw;
        WeightInitializer.Fill(_w.Slice(p), _init, fanIn, fanOut, rng);
        if (_b is not null)
        {
            if (_init == WeightInit.TorchDefault) WeightInitializer.Fill(_b.Slice(p), _init, fanIn, fanOut, rng);
            else _b.Slice(p).Clear();
        }
    }

    private void Buffers(Span<float> scratch, out Span<float> padded, out Span<float> col)
    {
        if (_g.IsPointwise) { padded = default; col = default; return; }
        int np = Im2Col.PaddedLength(_g);
        padded = scratch.Slice(0, np);
        col = scratch.Slice(np, Im2Col.ColumnLength(_g));
    }

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        int k = _g.PatchSize, n = _g.OutputPositions, m = _outChannels, inSize = _g.InputSize, outSize = m * n;
        var w = _w.Slice(a.Parameters);
        ReadOnlySpan<float> bias = _b is null ? default : _b.Slice(a.Parameters);
        Buffers(a.Scratch, out var padded, out var colBuf);
        for (int e = 0; e < a.Batch; e++)
        {
            var x = a.Input.Slice(e * inSize, inSize);
            var y = a.Output.Slice(e * outSize, outSize);
            ReadOnlySpan<float> col = x;
            if (!_g.IsPointwise)
            {
                Im2Col.Pack(_g, x, padded, colBuf);
                col = colBuf;
            }
            Gemm.Multiply(false, false, m, n, k, 1f, w, k, col, n, 0f, y, n);
            if (_b is not null)
                for (int o = 0; o < m; o++)
                {
                    var row = y.Slice(o * n, n);
                    TensorPrimitives.Add(row, bias[o], row);
                }
        }
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        int k = _g.PatchSize, n = _g.OutputPositions, m = _outChannels, inSize = _g.InputSize, outSize = m * n;
        var w = _w.Slice(a.Parameters);
        var dw = _w.Slice(a.ParameterGradient);
        Span<float> db = _b is null ? default : _b.Slice(a.ParameterGradient);
        db.Clear();
        Buffers(a.Scratch, out var padded, out var colBuf);
        for (int e = 0; e < a.Batch; e++)
        {
            var x = a.Input.Slice(e * inSize, inSize);
            var dy = a.OutputGradient.Slice(e * outSize, outSize);
            ReadOnlySpan<float> col = x;
            if (!_g.IsPointwise)
            {
                Im2Col.Pack(_g, x, padded, colBuf);
                col = colBuf;
            }
            // dW (+)= dY · colᵀ
            Gemm.Multiply(false, true, m, k, n, 1f, dy, n, col, n, e == 0 ? 0f : 1f, dw, k);
            if (_b is not null)
                for (int o = 0; o < m; o++) db[o] += TensorPrimitives.Sum(dy.Slice(o * n, n));
            if (a.InputGradient.IsEmpty) continue;
            var dx = a.InputGradient.Slice(e * inSize, inSize);
            if (_g.IsPointwise)
                Gemm.Multiply(true, false, k, n, m, 1f, w, k, dy, n, 0f, dx, n);
            else
            {
                // The column matrix is no longer needed: reuse its buffer for dcol = Wᵀ · dY.
                Gemm.Multiply(true, false, k, n, m, 1f, w, k, dy, n, 0f, colBuf, n);
                Im2Col.Unpack(_g, colBuf, padded, dx);
            }
        }
    }
}
