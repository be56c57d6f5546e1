using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// Layers applied one after another. Intermediate activations, the layers' scratch and two
/// ping-pong gradient buffers live in this layer's own scratch, so a <see cref="Sequential"/> can
/// be nested (residual bodies) and is itself the root of every <see cref="Network"/>.
/// Children are renamed <c>{name}.{index}.{childName}</c> (or <c>{index}.{childName}</c> at the root).
/// </summary>
public sealed class Sequential : Layer
{
    private readonly Layer[] _layers;
    private int _maxInner;   // largest intermediate activation per example
    private int _actPerExample;

    /// <summary>Creates a sequence of at least one layer.</summary>
    /// <exception cref="ArgumentException">No layers.</exception>
    public Sequential(string name, params Layer[] layers) : base(name)
    {
        if (layers.Length == 0) throw new ArgumentException("A Sequential needs at least one layer.", nameof(layers));
        _layers = layers;
    }

    /// <summary>The child layers in order.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        string prefix = Name.Length > 0 ? Name + "." : "";
        var shape = input;
        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i].Name = $"{prefix}{i}.{_layers[i].Name}";
            _layers[i].Build(shape, layout);
            shape = _layers[i].OutputShape;
            if (i < _layers.Length - 1)
            {
                _maxInner = Math.Max(_maxInner, shape.Size);
                _actPerExample += shape.Size;
            }
        }
        return shape;
    }

    /// <inheritdoc />
    public override void InitializeParameters(Span<float> parameters, Rng rng)
    {
        foreach (var l in _layers) l.InitializeParameters(parameters, rng);
    }

    /// <inheritdoc />
    public override long FlopsPerExample => _layers.Sum(l => l.FlopsPerExample);

    /// <inheritdoc />
    public override int ScratchLength(int batch)
    {
        long n = (long)batch * _actPerExample + 2L * batch * _maxInner;
        foreach (var l in _layers) n += l.ScratchLength(batch);
        return checked((int)n);
    }

    private Span<float> Activation(Span<float> scratch, int batch, int i)
    {
        // activation after layer i (i < count-1)
        int off = 0;
        for (int j = 0; j < i; j++) off += batch * _layers[j].OutputShape.Size;
        return scratch.Slice(off, batch * _layers[i].OutputShape.Size);
    }

    private Span<float> LayerScratch(Span<float> scratch, int batch, int i)
    {
        int off = batch * _actPerExample + 2 * batch * _maxInner;
        for (int j = 0; j < i; j++) off += _layers[j].ScratchLength(batch);
        return scratch.Slice(off, _layers[i].ScratchLength(batch));
    }

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        ReadOnlySpan<float> x = a.Input;
        for (int i = 0; i < _layers.Length; i++)
        {
            Span<float> y = i == _layers.Length - 1 ? a.Output : Activation(a.Scratch, a.Batch, i);
            _layers[i].Forward(new ForwardArgs(a.Parameters, x, y, LayerScratch(a.Scratch, a.Batch, i), a.Batch, a.Context));
            x = y;
        }
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        int b = a.Batch;
        int gradBase = b * _actPerExample;
        Span<float> bufA = a.Scratch.Slice(gradBase, b * _maxInner);
        Span<float> bufB = a.Scratch.Slice(gradBase + b * _maxInner, b * _maxInner);
        ReadOnlySpan<float> dy = a.OutputGradient;
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            var layer = _layers[i];
            ReadOnlySpan<float> x = i == 0 ? a.Input : Activation(a.Scratch, b, i - 1);
            ReadOnlySpan<float> y = i == _layers.Length - 1 ? a.Output : Activation(a.Scratch, b, i);
            Span<float> dx = i == 0 ? a.InputGradient : bufA.Slice(0, b * layer.InputShape.Size);
            layer.Backward(new BackwardArgs(a.Parameters, x, y, dy, dx, a.ParameterGradient, LayerScratch(a.Scratch, b, i), b, a.Context));
            dy = dx;
            var t = bufA; bufA = bufB; bufB = t;
        }
    }
}
