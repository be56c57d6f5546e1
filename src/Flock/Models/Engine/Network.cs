using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Models.Engine;

/// <summary>
/// A built feed-forward network: an immutable architecture (a root <see cref="Sequential"/>) plus
/// its <see cref="ParameterLayout"/>. It owns no parameters and no activations, so one instance
/// serves every node on every thread; each thread runs it through its own <see cref="Workspace"/>.
/// </summary>
public sealed class Network
{
    /// <summary>Builds a network for per-example inputs of <paramref name="inputShape"/>.</summary>
    /// <exception cref="ArgumentException">A layer does not accept the shape it receives.</exception>
    public Network(TensorShape inputShape, params Layer[] layers)
    {
        InputShape = inputShape;
        Root = new Sequential("", layers);
        var builder = new ParameterLayoutBuilder();
        Root.Build(inputShape, builder);
        Layout = builder.Build();
        OutputShape = Root.OutputShape;
    }

    /// <summary>The root sequence of layers.</summary>
    public Sequential Root { get; }

    /// <summary>Per-example input shape.</summary>
    public TensorShape InputShape { get; }

    /// <summary>Per-example output shape (logits for classifiers).</summary>
    public TensorShape OutputShape { get; }

    /// <summary>Where each parameter tensor sits in the flat vector.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>Forward FLOPs per example.</summary>
    public long FlopsPerExample => Root.FlopsPerExample;

    /// <summary>Initializes a flat parameter vector from a seed (same seed ⇒ same parameters).</summary>
    /// <exception cref="ArgumentException">Wrong vector length.</exception>
    public void InitializeParameters(Span<float> parameters, ulong seed)
    {
        Layout.Validate(parameters);
        parameters.Clear();
        Root.InitializeParameters(parameters, new Rng(Rng.DeriveSeed(seed, 0x1417)));
    }

    /// <summary>Runs a forward pass on the first <paramref name="batch"/> inputs of the workspace; returns the outputs.</summary>
    public Span<float> Forward(ReadOnlySpan<float> parameters, Workspace ws, int batch, bool training)
    {
        ws.EnsureFor(this, batch);
        ws.Context.Training = training;
        var output = ws.Output.AsSpan(0, batch * OutputShape.Size);
        Root.Forward(new ForwardArgs(parameters, ws.Input.AsSpan(0, batch * InputShape.Size), output, ws.ScratchFor(batch), batch, ws.Context));
        return output;
    }

    /// <summary>
    /// Back-propagates <see cref="Workspace.OutputGradient"/> after <see cref="Forward"/> with the
    /// same batch; overwrites <paramref name="gradient"/> (the whole flat vector).
    /// </summary>
    public void Backward(ReadOnlySpan<float> parameters, Workspace ws, int batch, Span<float> gradient)
    {
        Root.Backward(new BackwardArgs(parameters, ws.Input.AsSpan(0, batch * InputShape.Size), ws.Output.AsSpan(0, batch * OutputShape.Size),
            ws.OutputGradient.AsSpan(0, batch * OutputShape.Size), Span<float>.Empty, gradient, ws.ScratchFor(batch), batch, ws.Context));
    }
}
