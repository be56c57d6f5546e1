using System.Numerics.Tensors;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// 2-D convolution (cross-correlation, as in PyTorch's <c>Conv2d</c>) over <c>[C, H, W]</c>
/// examples with zero padding: weights <c>[out, in, kh, kw]</c> (PyTorch's layout), bias <c>[out]</c>.
/// Computed as <c>Y[out, OH·OW] = W[out, C·kh·kw] · im2col(x)</c> with <see cref="Gemm.Multiply"/>;
/// backward as <c>dW += dY·colᵀ</c> and <c>dx = col2im(Wᵀ·dY)</c>. Large feature maps run one
/// example per GEMM (written straight into the NCHW output); small ones put a chunk of examples
/// side by side in one wider column matrix, so the GEMMs stay efficient. Only one chunk's column
/// matrix lives in the scratch and backward recomputes it (cheaper than keeping it).
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

    /// <summary>
    /// Examples whose column matrices share one GEMM: enough to give it about
    /// <see cref="TargetColumns"/> columns (small feature maps make thin GEMMs), capped by the
    /// batch and by <see cref="MaxChunkFloats"/> floats of column matrix (to stay in L2).
    /// </summary>
    private int ChunkExamples(int batch)
    {
        int p = _g.OutputPositions;
        int byColumns = (TargetColumns + p - 1) / p;
        int byMemory = Math.Max(1, MaxChunkFloats / Math.Max(1, _g.PatchSize * p));
        return Math.Max(1, Math.Min(batch, Math.Min(byColumns, byMemory)));
    }

    /// <summary>Target GEMM width (columns) when chunking examples (400–3200 measured within 8% on LeNet's conv2).</summary>
    private const int TargetColumns = 768;

    /// <summary>Largest column matrix of a chunk, in floats (640 KB, within a 1 MB L2).</summary>
    private const int MaxChunkFloats = 160 * 1024;

    // Scratch: [padded image | column matrix of a chunk, row stride e·P + RowOverrun | chunk output/gradient, [out, e·P]]
    private int Ldc(int chunk) => chunk * _g.OutputPositions + Im2Col.RowOverrun;

    /// <inheritdoc />
    public override int ScratchLength(int batch)
    {
        int e = ChunkExamples(batch);
        if (e == 1 && _g.IsPointwise) return 0;
        long n = Im2Col.PaddedLength(_g) + (long)Im2Col.ColumnLength(_g, Ldc(e)) + (e > 1 ? (long)_outChannels * e * _g.OutputPositions : 0);
        return checked((int)n);
    }

    private void Buffers(Span<float> scratch, int chunk, out Span<float> padded, out Span<float> col, out Span<float> outBuf)
    {
        if (chunk == 1 && _g.IsPointwise) { padded = default; col = default; outBuf = default; return; }
        int np = Im2Col.PaddedLength(_g), nc = Im2Col.ColumnLength(_g, Ldc(chunk));
        padded = scratch.Slice(0, np);
        col = scratch.Slice(np, nc);
        outBuf = chunk > 1 ? scratch.Slice(np + nc, _outChannels * chunk * _g.OutputPositions) : default;
    }

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

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        int k = _g.PatchSize, p = _g.OutputPositions, m = _outChannels, inSize = _g.InputSize, outSize = m * p;
        int chunk = ChunkExamples(a.Batch), ldc = Ldc(chunk);
        var w = _w.Slice(a.Parameters);
        ReadOnlySpan<float> bias = _b is null ? default : _b.Slice(a.Parameters);
        Buffers(a.Scratch, chunk, out var padded, out var col, out var outBuf);
        for (int e0 = 0; e0 < a.Batch; e0 += chunk)
        {
            int en = Math.Min(chunk, a.Batch - e0), n = en * p;
            if (chunk == 1)
            {
                // One example: the GEMM writes the NCHW output directly.
                var x = a.Input.Slice(e0 * inSize, inSize);
                var y = a.Output.Slice(e0 * outSize, outSize);
                if (_g.IsPointwise) Gemm.Multiply(false, false, m, p, k, 1f, w, k, x, p, 0f, y, p);
                else
                {
                    Im2Col.Pack(_g, x, padded, col, ldc);
                    Gemm.Multiply(false, false, m, p, k, 1f, w, k, col, ldc, 0f, y, p);
                }
                if (_b is not null)
                    for (int o = 0; o < m; o++)
                    {
                        var row = y.Slice(o * p, p);
                        TensorPrimitives.Add(row, bias[o], row);
                    }
                continue;
            }
            for (int e = 0; e < en; e++) Im2Col.Pack(_g, a.Input.Slice((e0 + e) * inSize, inSize), padded, col.Slice(e * p), ldc);
            Gemm.Multiply(false, false, m, n, k, 1f, w, k, col, ldc, 0f, outBuf, n);
            // [out, e·P] → [e, out, P], adding the bias on the way.
            for (int e = 0; e < en; e++)
            for (int o = 0; o < m; o++)
            {
                var src = outBuf.Slice(o * n + e * p, p);
                var dst = a.Output.Slice((e0 + e) * outSize + o * p, p);
                if (_b is not null) TensorPrimitives.Add(src, bias[o], dst);
                else src.CopyTo(dst);
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        int k = _g.PatchSize, p = _g.OutputPositions, m = _outChannels, inSize = _g.InputSize, outSize = m * p;
        int chunk = ChunkExamples(a.Batch), ldc = Ldc(chunk);
        var w = _w.Slice(a.Parameters);
        var dw = _w.Slice(a.ParameterGradient);
        Span<float> db = _b is null ? default : _b.Slice(a.ParameterGradient);
        db.Clear();
        Buffers(a.Scratch, chunk, out var padded, out var col, out var outBuf);
        bool wantDx = !a.InputGradient.IsEmpty;
        for (int e0 = 0; e0 < a.Batch; e0 += chunk)
        {
            int en = Math.Min(chunk, a.Batch - e0), n = en * p;
            float beta = e0 == 0 ? 0f : 1f;
            // The chunk's output gradient as [out, e·P] and its column matrix.
            ReadOnlySpan<float> dy;
            int ldd;
            if (chunk == 1) { dy = a.OutputGradient.Slice(e0 * outSize, outSize); ldd = p; }
            else
            {
                for (int e = 0; e < en; e++)
                for (int o = 0; o < m; o++)
                    a.OutputGradient.Slice((e0 + e) * outSize + o * p, p).CopyTo(outBuf.Slice(o * n + e * p, p));
                dy = outBuf;
                ldd = n;
            }
            ReadOnlySpan<float> cols;
            int ldb;
            if (chunk == 1 && _g.IsPointwise) { cols = a.Input.Slice(e0 * inSize, inSize); ldb = p; }
            else
            {
                for (int e = 0; e < en; e++) Im2Col.Pack(_g, a.Input.Slice((e0 + e) * inSize, inSize), padded, col.Slice(e * p), ldc);
                cols = col;
                ldb = ldc;
            }
            // dW (+)= dY · colᵀ, db (+)= row sums of dY.
            Gemm.Multiply(false, true, m, k, n, 1f, dy, ldd, cols, ldb, beta, dw, k);
            if (_b is not null)
                for (int o = 0; o < m; o++) db[o] += TensorPrimitives.Sum(dy.Slice(o * ldd, n));
            if (!wantDx) continue;
            if (chunk == 1 && _g.IsPointwise)
            {
                Gemm.Multiply(true, false, k, p, m, 1f, w, k, dy, ldd, 0f, a.InputGradient.Slice(e0 * inSize, inSize), p);
                continue;
            }
            // The column matrix is no longer needed: its buffer takes dcol = Wᵀ · dY.
            Gemm.Multiply(true, false, k, n, m, 1f, w, k, dy, ldd, 0f, col, ldc);
            for (int e = 0; e < en; e++) Im2Col.Unpack(_g, col.Slice(e * p), ldc, padded, a.InputGradient.Slice((e0 + e) * inSize, inSize));
        }
    }
}
