using System.Numerics.Tensors;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>Logistic sigmoid <c>y = 1/(1 + e^(−x))</c>; backward from the output, <c>dx = dy·y·(1 − y)</c>.</summary>
public sealed class Sigmoid : Layer
{
    /// <summary>Creates a sigmoid layer.</summary>
    public Sigmoid(string name = "sigmoid") : base(name) { }

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout) => input;

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a) => TensorPrimitives.Sigmoid(a.Input, a.Output);

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (a.InputGradient.IsEmpty) return;
        ActivationKernels.SigmoidBackward(a.Output, a.OutputGradient, a.InputGradient);
    }
}
