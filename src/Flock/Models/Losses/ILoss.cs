namespace Flock.Models.Losses;

/// <summary>A loss over a batch of network outputs: returns the mean loss and writes d(mean loss)/d(output).</summary>
public interface ILoss
{
    /// <summary>
    /// Computes the mean loss over <paramref name="batch"/> rows of <paramref name="outputs"/>
    /// (each <paramref name="outputSize"/> wide) and overwrites <paramref name="outputGradient"/>.
    /// Classification losses read <paramref name="labels"/>, regression losses <paramref name="targets"/>.
    /// </summary>
    float LossAndGradient(ReadOnlySpan<float> outputs, int batch, int outputSize, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, Span<float> outputGradient);

    /// <summary>Mean loss only (no gradient).</summary>
    float Loss(ReadOnlySpan<float> outputs, int batch, int outputSize, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets);
}
