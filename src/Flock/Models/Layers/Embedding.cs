using System.Numerics.Tensors;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// A lookup table of <see cref="Vocabulary"/> vectors of size <see cref="Dimension"/> (PyTorch's
/// <c>nn.Embedding</c>, weight <c>[vocabulary, dimension]</c>, init N(0, 1)). The input features are
/// token ids stored as floats (an example of shape <c>[sequence]</c>, or any shape); the output
/// appends a dimension: <c>[sequence, dimension]</c>. Backward accumulates each position's output
/// gradient into its token's weight row. Ids are not differentiable: a requested input gradient is
/// zero.
/// </summary>
public sealed class Embedding : Layer
{
    private ParameterTensor _w = null!;

    /// <summary>Creates an embedding table.</summary>
    /// <param name="vocabulary">Number of token ids (positive); valid ids are 0 … vocabulary − 1.</param>
    /// <param name="dimension">Size of each vector (positive).</param>
    /// <param name="name">Layer name (default "embedding").</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Embedding(int vocabulary, int dimension, string name = "embedding") : base(name)
    {
        if (vocabulary <= 0) throw new ArgumentOutOfRangeException(nameof(vocabulary), vocabulary, $"Invalid vocabulary size: {vocabulary}; must be positive.");
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Invalid embedding dimension: {dimension}; must be positive.");
        Vocabulary = vocabulary;
        Dimension = dimension;
    }

    /// <summary>Number of token ids.</summary>
    public int Vocabulary { get; }

    /// <summary>Size of each embedding vector.</summary>
    public int Dimension { get; }

    /// <summary>The weight tensor descriptor, <c>[vocabulary, dimension]</c>.</summary>
    public ParameterTensor Weight => _w;

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        _w = layout.Add(Name + ".weight", Vocabulary, Dimension);
        var dims = new int[input.Rank + 1];
        input.Dims.CopyTo(dims);
        dims[^1] = Dimension;
        return new TensorShape(dims);
    }

    /// <inheritdoc />
    public override void InitializeParameters(Span<float> parameters, Rng rng) => rng.FillGaussian(_w.Slice(parameters));

    /// <inheritdoc />
    /// <exception cref="ArgumentException">An input is not an integer id in [0, <see cref="Vocabulary"/>).</exception>
    public override void Forward(in ForwardArgs a)
    {
        int d = Dimension, perExample = InputShape.Size;
        var w = _w.Slice(a.Parameters);
        for (int t = 0; t < a.Input.Length; t++)
        {
            int id = TokenId(a.Input[t], t, perExample);
            w.Slice(id * d, d).CopyTo(a.Output.Slice(t * d, d));
        }
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        int d = Dimension, perExample = InputShape.Size;
        var dw = _w.Slice(a.ParameterGradient);
        dw.Clear();
        for (int t = 0; t < a.Input.Length; t++)
        {
            var row = dw.Slice(TokenId(a.Input[t], t, perExample) * d, d);
            TensorPrimitives.Add(row, a.OutputGradient.Slice(t * d, d), row);
        }
        a.InputGradient.Clear();
    }

    private int TokenId(float value, int flatIndex, int perExample)
    {
        int id = (int)value;
        if (id != value || (uint)id >= (uint)Vocabulary)
            throw new ArgumentException($"Layer '{Name}': invalid token id {value} at example {flatIndex / perExample}, position {flatIndex % perExample}; ids must be integers in [0, {Vocabulary}).");
        return id;
    }
}
