using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// Fully connected layer <c>y = x·Wᵀ + b</c> with W stored [out, in] (PyTorch's layout) and b [out].
/// Inputs of any shape are flattened per example.
/// </summary>
public sealed class Linear : Layer
{
    private readonly int _outFeatures;
    private readonly bool _bias;
    private readonly WeightInit _init;
    private ParameterTensor _w = null!;
    private ParameterTensor? _b;
    private int _in;

    /// <summary>Creates a linear layer.</summary>
    /// <param name="outFeatures">Output features (positive).</param>
    /// <param name="bias">Whether to add a bias (default true).</param>
    /// <param name="init">Weight init (default He normal); the bias starts at zero except for <see cref="WeightInit.TorchDefault"/>.</param>
    /// <param name="name">Layer name (default "linear").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outFeatures"/> is not positive.</exception>
    public Linear(int outFeatures, bool bias = true, WeightInit init = WeightInit.HeNormal, string name = "linear") : base(name)
    {
        if (outFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(outFeatures), outFeatures, "Invalid output features: must be positive.");
        _outFeatures = outFeatures;
        _bias = bias;
        _init = init;
    }

    /// <summary>The weight tensor descriptor.</summary>
    public ParameterTensor Weight => _w;

    /// <summary>The bias tensor descriptor, or null.</summary>
    public ParameterTensor? Bias => _b;

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        _in = input.Size;
        _w = layout.Add(Name + ".weight", _outFeatures, _in);
        if (_bias) _b = layout.Add(Name + ".bias", _outFeatures);
        return new TensorShape(_outFeatures);
    }

    /// <inheritdoc />
    public override long FlopsPerExample => 2L * _in * _outFeatures;

    /// <inheritdoc />
    public override void InitializeParameters(Span<float> p, Rng rng)
    {
        WeightInitializer.Fill(_w.Slice(p), _init, _in, _outFeatures, rng);
        if (_b is not null)
        {
            if (_init == WeightInit.TorchDefault) WeightInitializer.Fill(_b.Slice(p), _init, _in, _outFeatures, rng);
            else _b.Slice(p).Clear();
        }
    }

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        int n = _outFeatures;
        Gemm.Multiply(false, true, a.Batch, n, _in, 1f, a.Input, _in, _w.Slice(a.Parameters), _in, 0f, a.Output, n);
        if (_b is not null) ElementwiseKernels.AddToRows(a.Output.Slice(0, a.Batch * n), _b.Slice(a.Parameters));
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        int n = _outFeatures;
        // dW = dYᵀ · X
        Gemm.Multiply(true, false, n, _in, a.Batch, 1f, a.OutputGradient, n, a.Input, _in, 0f, _w.Slice(a.ParameterGradient), _in);
        if (_b is not null)
        {
            ElementwiseKernels.SumRows(a.OutputGradient.Slice(0, a.Batch * n), _b.Slice(a.ParameterGradient));
        }
        if (!a.InputGradient.IsEmpty)
            Gemm.Multiply(false, false, a.Batch, _in, n, 1f, a.OutputGradient, n, _w.Slice(a.Parameters), _in, 0f, a.InputGradient, _in);
    }
}
