using Flock.Tensors;

namespace Flock.Models.Engine;

/// <summary>
/// A layer of the managed engine. Layers hold no parameters and no activations: parameters are
/// slices of a flat vector (described by the <see cref="ParameterLayout"/> the layer registers
/// into), activations and scratch live in a per-thread <see cref="Workspace"/>. A built layer is
/// therefore immutable and shared by every node and thread.
/// </summary>
/// <remarks>
/// Contract for implementers:
/// <list type="bullet">
/// <item><see cref="OnBuild"/> registers parameter tensors (names prefixed with <see cref="Name"/>) and returns the per-example output shape.</item>
/// <item><see cref="Forward"/> writes the whole output; it may store what backward needs in its scratch (<see cref="ScratchLength"/> floats).</item>
/// <item><see cref="Backward"/> overwrites this layer's own slices of the parameter gradient (never accumulates across calls)
/// and, when <see cref="BackwardArgs.InputGradient"/> is not empty, overwrites the input gradient.</item>
/// <item>No allocation in forward or backward.</item>
/// </list>
/// </remarks>
public abstract class Layer
{
    /// <summary>Creates a layer with a name used as the prefix of its parameter tensors.</summary>
    protected Layer(string name) => Name = name;

    /// <summary>Name, unique within a network (prefix of parameter names).</summary>
    public string Name { get; internal set; }

    /// <summary>Per-example input shape (set by <see cref="Build"/>).</summary>
    public TensorShape InputShape { get; private set; }

    /// <summary>Per-example output shape (set by <see cref="Build"/>).</summary>
    public TensorShape OutputShape { get; private set; }

    /// <summary>True once <see cref="Build"/> has run.</summary>
    public bool IsBuilt { get; private set; }

    /// <summary>Builds the layer for an input shape, registering its parameters. Called once by the network.</summary>
    /// <exception cref="InvalidOperationException">Built twice.</exception>
    /// <exception cref="ArgumentException">The input shape does not suit the layer.</exception>
    public void Build(TensorShape input, ParameterLayoutBuilder layout)
    {
        if (IsBuilt) throw new InvalidOperationException($"Layer '{Name}' is already built; layers cannot be shared between networks.");
        InputShape = input;
        OutputShape = OnBuild(input, layout);
        IsBuilt = true;
    }

    /// <summary>Registers parameters and returns the per-example output shape.</summary>
    protected abstract TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout);

    /// <summary>Initializes this layer's slices of a flat parameter vector.</summary>
    public virtual void InitializeParameters(Span<float> parameters, Rng rng) { }

    /// <summary>Floats of per-thread scratch this layer needs for a batch (kept from forward to backward).</summary>
    public virtual int ScratchLength(int batch) => 0;

    /// <summary>Multiply-adds ×2 (FLOPs) of one example's forward pass.</summary>
    public virtual long FlopsPerExample => 0;

    /// <summary>Computes the output of a batch.</summary>
    public abstract void Forward(in ForwardArgs args);

    /// <summary>Back-propagates a batch: parameter gradients and, if requested, the input gradient.</summary>
    public abstract void Backward(in BackwardArgs args);
}

/// <summary>Execution flags shared by the layers of one forward/backward pass.</summary>
public sealed class LayerContext
{
    /// <summary>True in training (dropout active); false in evaluation.</summary>
    public bool Training { get; set; }

    /// <summary>Random source for stochastic layers (dropout); set per call for reproducibility.</summary>
    public Rng Random { get; set; } = new(0);
}

/// <summary>Arguments of <see cref="Layer.Forward"/>.</summary>
public readonly ref struct ForwardArgs
{
    /// <summary>Creates forward arguments.</summary>
    public ForwardArgs(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, Span<float> scratch, int batch, LayerContext context)
    {
        Parameters = parameters; Input = input; Output = output; Scratch = scratch; Batch = batch; Context = context;
    }

    /// <summary>The whole flat parameter vector (the layer reads its own slices).</summary>
    public ReadOnlySpan<float> Parameters { get; }

    /// <summary>Batch × InputShape.Size inputs.</summary>
    public ReadOnlySpan<float> Input { get; }

    /// <summary>Batch × OutputShape.Size outputs to write.</summary>
    public Span<float> Output { get; }

    /// <summary>This layer's scratch (<see cref="Layer.ScratchLength"/> floats).</summary>
    public Span<float> Scratch { get; }

    /// <summary>Number of examples.</summary>
    public int Batch { get; }

    /// <summary>Training flag and random source.</summary>
    public LayerContext Context { get; }
}

/// <summary>Arguments of <see cref="Layer.Backward"/>.</summary>
public readonly ref struct BackwardArgs
{
    /// <summary>Creates backward arguments.</summary>
    public BackwardArgs(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output,
        ReadOnlySpan<float> outputGradient, Span<float> inputGradient, Span<float> parameterGradient, Span<float> scratch, int batch, LayerContext context)
    {
        Parameters = parameters; Input = input; Output = output; OutputGradient = outputGradient;
        InputGradient = inputGradient; ParameterGradient = parameterGradient; Scratch = scratch; Batch = batch; Context = context;
    }

    /// <summary>The whole flat parameter vector.</summary>
    public ReadOnlySpan<float> Parameters { get; }

    /// <summary>The forward input.</summary>
    public ReadOnlySpan<float> Input { get; }

    /// <summary>The forward output.</summary>
    public ReadOnlySpan<float> Output { get; }

    /// <summary>dLoss/dOutput.</summary>
    public ReadOnlySpan<float> OutputGradient { get; }

    /// <summary>dLoss/dInput to overwrite, or empty when not needed (first layer).</summary>
    public Span<float> InputGradient { get; }

    /// <summary>The whole flat gradient vector; the layer overwrites its own slices.</summary>
    public Span<float> ParameterGradient { get; }

    /// <summary>This layer's scratch, as forward left it.</summary>
    public Span<float> Scratch { get; }

    /// <summary>Number of examples.</summary>
    public int Batch { get; }

    /// <summary>Training flag and random source.</summary>
    public LayerContext Context { get; }
}
