using System.Numerics.Tensors;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// Layer normalization (Ba, Kiros and Hinton, "Layer Normalization", 2016), as PyTorch's
/// <c>nn.LayerNorm(normalized_shape)</c>: each group of the last <see cref="NormalizedRank"/>
/// dimensions of an example is normalized to mean 0 and (biased) variance 1,
/// <c>y = (x − mean)/√(var + ε)·γ + β</c>, with γ (<c>.weight</c>, init 1) and β (<c>.bias</c>, init 0)
/// of the normalized shape. With the default (all dimensions) a feature vector is normalized as a
/// whole; with <c>normalizedRank: 1</c> a <c>[sequence, dim]</c> example is normalized per position.
/// Scratch keeps the normalized input x̂ and 1/√(var + ε) of every group for backward.
/// </summary>
public sealed class LayerNorm : Layer
{
    private readonly int _normalizedRank;
    private ParameterTensor? _gamma, _beta;
    private int _groupSize;   // D: elements normalized together
    private int _groups;      // groups per example

    /// <summary>Creates a layer normalization.</summary>
    /// <param name="normalizedRank">How many trailing dimensions are normalized together; 0 (default) means all dimensions of the example.</param>
    /// <param name="epsilon">ε added to the variance (default 1e-5, PyTorch's); finite and positive.</param>
    /// <param name="affine">Whether to learn γ and β (PyTorch's <c>elementwise_affine</c>, default true).</param>
    /// <param name="name">Layer name (default "layer_norm").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="normalizedRank"/> is negative or <paramref name="epsilon"/> is not finite and positive.</exception>
    public LayerNorm(int normalizedRank = 0, float epsilon = 1e-5f, bool affine = true, string name = "layer_norm") : base(name)
    {
        if (normalizedRank < 0) throw new ArgumentOutOfRangeException(nameof(normalizedRank), normalizedRank, $"Invalid normalized rank: {normalizedRank}; must be ≥ 0 (0 = all dimensions).");
        if (!(epsilon > 0f) || !float.IsFinite(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Invalid layer-norm epsilon: {epsilon}; must be finite and > 0.");
        _normalizedRank = normalizedRank;
        Epsilon = epsilon;
        Affine = affine;
    }

    /// <summary>ε added to the variance.</summary>
    public float Epsilon { get; }

    /// <summary>Whether γ and β are learned.</summary>
    public bool Affine { get; }

    /// <summary>Trailing dimensions normalized together (resolved at build; the input rank for "all").</summary>
    public int NormalizedRank { get; private set; }

    /// <summary>γ (<c>.weight</c>), or null without affine parameters.</summary>
    public ParameterTensor? Weight => _gamma;

    /// <summary>β (<c>.bias</c>), or null without affine parameters.</summary>
    public ParameterTensor? Bias => _beta;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The normalized rank exceeds the input rank.</exception>
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        if (_normalizedRank > input.Rank)
            throw new ArgumentException($"Layer '{Name}': normalized rank {_normalizedRank} exceeds the rank of the input shape {input}.");
        NormalizedRank = _normalizedRank == 0 ? input.Rank : _normalizedRank;
        int[] normalizedShape = input.Dims.Slice(input.Rank - NormalizedRank).ToArray();
        _groupSize = new TensorShape(normalizedShape).Size;
        _groups = input.Size / _groupSize;
        if (Affine)
        {
            _gamma = layout.Add(Name + ".weight", normalizedShape);
            _beta = layout.Add(Name + ".bias", normalizedShape);
        }
        return input;
    }

    /// <inheritdoc />
    public override long FlopsPerExample => 8L * InputShape.Size;

    /// <inheritdoc />
    public override void InitializeParameters(Span<float> parameters, Rng rng)
    {
        if (_gamma is null || _beta is null) return;
        _gamma.Slice(parameters).Fill(1f);
        _beta.Slice(parameters).Clear();
    }

    /// <inheritdoc />
    public override int ScratchLength(int batch) => checked(batch * (InputShape.Size + _groups));

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        int d = _groupSize, rows = a.Batch * _groups;
        Span<float> xhat = a.Scratch.Slice(0, rows * d);
        Span<float> rstd = a.Scratch.Slice(rows * d, rows);
        ReadOnlySpan<float> gamma = _gamma is null ? default : _gamma.Slice(a.Parameters);
        ReadOnlySpan<float> beta = _beta is null ? default : _beta.Slice(a.Parameters);
        float invD = 1f / d;
        for (int r = 0; r < rows; r++)
        {
            var x = a.Input.Slice(r * d, d);
            var xh = xhat.Slice(r * d, d);
            float mean = TensorPrimitives.Sum(x) * invD;
            TensorPrimitives.Subtract(x, mean, xh);
            float variance = TensorPrimitives.SumOfSquares(xh) * invD;
            float rs = 1f / MathF.Sqrt(variance + Epsilon);
            TensorPrimitives.Multiply(xh, rs, xh);
            rstd[r] = rs;
            var y = a.Output.Slice(r * d, d);
            if (Affine) TensorPrimitives.FusedMultiplyAdd(xh, gamma, beta, y);
            else xh.CopyTo(y);
        }
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        int d = _groupSize, rows = a.Batch * _groups;
        ReadOnlySpan<float> xhat = a.Scratch.Slice(0, rows * d);
        ReadOnlySpan<float> rstd = a.Scratch.Slice(rows * d, rows);
        if (_gamma is not null && _beta is not null)
        {
            var dGamma = _gamma.Slice(a.ParameterGradient);
            var dBeta = _beta.Slice(a.ParameterGradient);
            dGamma.Clear();
            dBeta.Clear();
            for (int r = 0; r < rows; r++)
            {
                var dy = a.OutputGradient.Slice(r * d, d);
                TensorPrimitives.FusedMultiplyAdd(dy, xhat.Slice(r * d, d), dGamma, dGamma);
                TensorPrimitives.Add(dBeta, dy, dBeta);
            }
        }
        if (a.InputGradient.IsEmpty) return;
        ReadOnlySpan<float> gamma = _gamma is null ? default : _gamma.Slice(a.Parameters);
        float invD = 1f / d;
        for (int r = 0; r < rows; r++)
        {
            // dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ
            var dy = a.OutputGradient.Slice(r * d, d);
            var xh = xhat.Slice(r * d, d);
            var g = a.InputGradient.Slice(r * d, d);
            if (Affine) TensorPrimitives.Multiply(dy, gamma, g);
            else dy.CopyTo(g);
            float meanG = TensorPrimitives.Sum(g) * invD;
            float meanGx = TensorPrimitives.Dot(g, xh) * invD;
            TensorPrimitives.MultiplyAdd(xh, -meanGx, g, g);
            TensorPrimitives.Add(g, -meanG, g);
            TensorPrimitives.Multiply(g, rstd[r], g);
        }
    }
}
