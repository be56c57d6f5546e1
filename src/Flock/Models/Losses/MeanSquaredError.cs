using System.Numerics.Tensors;

namespace Flock.Models.Losses;

/// <summary>
/// Mean squared error against regression targets, averaged over the batch AND the output
/// dimensions, as PyTorch's <c>MSELoss(reduction='mean')</c>:
/// <c>L = 1/(B·D) Σᵢ Σⱼ (yᵢⱼ − tᵢⱼ)²</c>, gradient <c>2(y − t)/(B·D)</c>, for a batch of B rows of
/// D outputs. (So for D &gt; 1 it is 1/D times the per-example squared norm averaged over the batch;
/// the minimizer is the same.) Reads <c>targets</c> (exactly B·D values, row-major, so a dataset whose
/// target dimension differs from the output size is rejected rather than misaligned), ignores labels.
/// </summary>
public sealed class MeanSquaredError : ILoss
{
    /// <summary>Shared instance (stateless).</summary>
    public static MeanSquaredError Instance { get; } = new();

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Not exactly batch × outputSize targets (e.g. a classification dataset, or another target dimension), or a short buffer.</exception>
    public float LossAndGradient(ReadOnlySpan<float> outputs, int batch, int outputSize, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, Span<float> outputGradient)
    {
        int n = Check(outputs, batch, outputSize, targets);
        if (outputGradient.Length < n) throw new ArgumentException($"Output gradient buffer of {outputGradient.Length} is shorter than {batch} × {outputSize} = {n}.", nameof(outputGradient));
        var diff = outputGradient.Slice(0, n);
        TensorPrimitives.Subtract(outputs.Slice(0, n), targets.Slice(0, n), diff);
        double sum = 0;
        for (int i = 0; i < batch; i++) sum += TensorPrimitives.SumOfSquares(diff.Slice(i * outputSize, outputSize));
        TensorPrimitives.Multiply(diff, (float)(2.0 / n), diff);
        return (float)(sum / n);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Not exactly batch × outputSize targets (e.g. a classification dataset, or another target dimension), or a short buffer.</exception>
    public float Loss(ReadOnlySpan<float> outputs, int batch, int outputSize, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets)
    {
        int n = Check(outputs, batch, outputSize, targets);
        double sum = 0;
        for (int i = 0; i < batch; i++)
        {
            double dist = TensorPrimitives.Distance(outputs.Slice(i * outputSize, outputSize), targets.Slice(i * outputSize, outputSize));
            sum += dist * dist;
        }
        return (float)(sum / n);
    }

    private static int Check(ReadOnlySpan<float> outputs, int batch, int outputSize, ReadOnlySpan<float> targets)
    {
        if (batch <= 0) throw new ArgumentException($"Invalid batch size: {batch}; must be positive.", nameof(batch));
        int n = checked(batch * outputSize);
        if (outputs.Length < n) throw new ArgumentException($"Output buffer of {outputs.Length} is shorter than {batch} × {outputSize} = {n}.", nameof(outputs));
        if (targets.Length != n)
            throw new ArgumentException($"Mean squared error needs exactly {batch} × {outputSize} = {n} regression targets but got {targets.Length}; the dataset must be a regression set whose target dimension equals the model's {outputSize} outputs.", nameof(targets));
        return n;
    }
}
