using System.Numerics.Tensors;

namespace Flock.Models.Losses;

/// <summary>
/// Softmax followed by the negative log-likelihood of the true class, averaged over the batch
/// (PyTorch's <c>CrossEntropyLoss</c>), computed stably with the log-sum-exp shift.
/// Gradient: <c>(softmax(z) − onehot(y)) / batch</c>.
/// </summary>
public sealed class SoftmaxCrossEntropy : ILoss
{
    /// <summary>Shared instance (stateless).</summary>
    public static SoftmaxCrossEntropy Instance { get; } = new();

    /// <inheritdoc />
    public float LossAndGradient(ReadOnlySpan<float> outputs, int batch, int c, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, Span<float> grad)
    {
        double total = 0;
        float inv = 1f / batch;
        for (int i = 0; i < batch; i++)
        {
            var z = outputs.Slice(i * c, c);
            var g = grad.Slice(i * c, c);
            float max = TensorPrimitives.Max(z);
            TensorPrimitives.Subtract(z, max, g);
            TensorPrimitives.Exp(g, g);
            float sum = TensorPrimitives.Sum(g);
            int y = labels[i];
            total += Math.Log(sum) - (z[y] - max);
            TensorPrimitives.Multiply(g, inv / sum, g);
            g[y] -= inv;
        }
        return (float)(total / batch);
    }

    /// <inheritdoc />
    public float Loss(ReadOnlySpan<float> outputs, int batch, int c, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets)
    {
        double total = 0;
        for (int i = 0; i < batch; i++)
        {
            var z = outputs.Slice(i * c, c);
            float max = TensorPrimitives.Max(z);
            double sum = 0;
            for (int j = 0; j < c; j++) sum += Math.Exp(z[j] - max);
            total += Math.Log(sum) - (z[labels[i]] - max);
        }
        return (float)(total / batch);
    }
}
