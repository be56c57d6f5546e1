using System.Numerics.Tensors;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>Hyperbolic tangent <c>y = tanh(x)</c>; backward from the output, <c>dx = dy·(1 − y²)</c>.</summary>
public sealed class Tanh : Layer
{
    /// <summary>Creates a tanh layer.</summary>
    public Tanh(string name = "tanh") : base(name) { }

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout) => input;

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a) => TensorPrimitives.Tanh(a.Input, a.Output);

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (a.InputGradient.IsEmpty) return;
        ActivationKernels.TanhBackward(a.Output, a.OutputGradient, a.InputGradient);
    }
}
