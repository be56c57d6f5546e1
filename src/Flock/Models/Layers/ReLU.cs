using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>Rectified linear unit <c>y = max(x, 0)</c>.</summary>
public sealed class ReLU : Layer
{
    /// <summary>Creates a ReLU.</summary>
    public ReLU(string name = "relu") : base(name) { }

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout) => input;

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a) => ElementwiseKernels.Relu(a.Input, a.Output);

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (a.InputGradient.IsEmpty) return;
        ElementwiseKernels.MaskPositive(a.Output, a.OutputGradient, a.InputGradient);
    }
}
