using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// Leaky rectified linear unit <c>y = x &gt; 0 ? x : slope·x</c> (Maas, Hannun and Ng, "Rectifier
/// Nonlinearities Improve Neural Network Acoustic Models", 2013); PyTorch's <c>nn.LeakyReLU</c>,
/// whose gradient at exactly 0 is <c>slope</c>.
/// </summary>
public sealed class LeakyReLU : Layer
{
    /// <summary>Creates a leaky ReLU.</summary>
    /// <param name="slope">Slope for negative inputs (default 0.01, PyTorch's <c>negative_slope</c>); any finite value.</param>
    /// <param name="name">Layer name (default "leaky_relu").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slope"/> is NaN or infinite.</exception>
    public LeakyReLU(float slope = 0.01f, string name = "leaky_relu") : base(name)
    {
        if (!float.IsFinite(slope)) throw new ArgumentOutOfRangeException(nameof(slope), slope, $"Invalid leaky ReLU slope: {slope}; must be finite.");
        Slope = slope;
    }

    /// <summary>Slope for negative inputs.</summary>
    public float Slope { get; }

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout) => input;

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a) => ActivationKernels.LeakyRelu(a.Input, Slope, a.Output);

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (a.InputGradient.IsEmpty) return;
        ActivationKernels.LeakyReluBackward(a.Input, a.OutputGradient, Slope, a.InputGradient);
    }
}
