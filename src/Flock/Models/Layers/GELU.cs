using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// Gaussian error linear unit <c>y = x·Φ(x) = ½x(1 + erf(x/√2))</c> (Hendrycks and Gimpel,
/// "Gaussian Error Linear Units (GELUs)", 2016), the exact form that is PyTorch's default
/// (<c>nn.GELU(approximate='none')</c>), not the tanh approximation. Computed in double precision
/// with <see cref="ActivationKernels.Erf(double)"/>; backward from the input,
/// <c>dx = dy·(Φ(x) + x·φ(x))</c>.
/// </summary>
public sealed class GELU : Layer
{
    /// <summary>Creates a GELU layer.</summary>
    public GELU(string name = "gelu") : base(name) { }

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout) => input;

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a) => ActivationKernels.Gelu(a.Input, a.Output);

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (a.InputGradient.IsEmpty) return;
        ActivationKernels.GeluBackward(a.Input, a.OutputGradient, a.InputGradient);
    }
}
