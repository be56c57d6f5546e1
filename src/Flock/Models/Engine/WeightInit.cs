using Flock.Tensors;

namespace Flock.Models.Engine;

/// <summary>Weight initialization schemes, drawn from a seeded <see cref="Rng"/>.</summary>
public enum WeightInit
{
    /// <summary>He/Kaiming normal: N(0, 2/fanIn). Default for ReLU networks.</summary>
    HeNormal,
    /// <summary>He/Kaiming uniform: U(±√(6/fanIn)).</summary>
    HeUniform,
    /// <summary>Xavier/Glorot normal: N(0, 2/(fanIn+fanOut)).</summary>
    XavierNormal,
    /// <summary>Xavier/Glorot uniform: U(±√(6/(fanIn+fanOut))).</summary>
    XavierUniform,
    /// <summary>PyTorch's default for Linear/Conv: U(±1/√fanIn) (kaiming_uniform with a=√5).</summary>
    TorchDefault,
    /// <summary>All zeros (convex models).</summary>
    Zeros,
}

/// <summary>Fills weight tensors according to a <see cref="WeightInit"/>.</summary>
public static class WeightInitializer
{
    /// <summary>Fills <paramref name="weights"/> for a tensor with the given fan-in and fan-out.</summary>
    public static void Fill(Span<float> weights, WeightInit init, int fanIn, int fanOut, Rng rng)
    {
        switch (init)
        {
            case WeightInit.HeNormal: rng.FillGaussian(weights, 0, MathF.Sqrt(2f / fanIn)); break;
            case WeightInit.HeUniform: { float b = MathF.Sqrt(6f / fanIn); rng.FillUniform(weights, -b, b); break; }
            case WeightInit.XavierNormal: rng.FillGaussian(weights, 0, MathF.Sqrt(2f / (fanIn + fanOut))); break;
            case WeightInit.XavierUniform: { float b = MathF.Sqrt(6f / (fanIn + fanOut)); rng.FillUniform(weights, -b, b); break; }
            case WeightInit.TorchDefault: { float b = 1f / MathF.Sqrt(fanIn); rng.FillUniform(weights, -b, b); break; }
            case WeightInit.Zeros: weights.Clear(); break;
            default: throw new ArgumentOutOfRangeException(nameof(init), init, "Unknown weight init.");
        }
    }
}
