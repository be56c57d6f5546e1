using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// Reshapes each example to a vector: <c>[d₁, …, dₖ] → [d₁·…·dₖ]</c>. The engine's tensors are
/// row-major and flat already, so forward copies the input and backward copies the gradient
/// (PyTorch's <c>nn.Flatten(start_dim=1)</c>). No parameters, no scratch.
/// </summary>
public sealed class Flatten : Layer
{
    /// <summary>Creates a flatten layer.</summary>
    public Flatten(string name = "flatten") : base(name) { }

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout) => new(input.Size);

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a) => a.Input.CopyTo(a.Output);

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (!a.InputGradient.IsEmpty) a.OutputGradient.CopyTo(a.InputGradient);
    }
}
