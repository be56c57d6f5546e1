using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float LossAndGradient(ReadOnlySpan<float> outputs, int batch, int c, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, Span<float> grad)
    {
        if (Avx512F.IsSupported && c <= Vector512<float>.Count && c > 0 && outputs.Length >= batch * c && grad.Length >= batch * c && labels.Length >= batch)
            return FewClassesLossAndGradient(outputs, batch, c, labels, grad);
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

    /// <summary>
    /// <see cref="LossAndGradient"/> for at most 16 classes: each row of logits is one masked zmm
    /// (lanes past <paramref name="c"/> read as −∞, so they add exp(−∞) = 0 to the sum), which
    /// replaces five short vector calls per row by a handful of instructions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe float FewClassesLossAndGradient(ReadOnlySpan<float> outputs, int batch, int c, ReadOnlySpan<int> labels, Span<float> grad)
    {
        double total = 0;
        float inv = 1f / batch;
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(c)).AsSingle();
        var negInf = Vector512.Create(float.NegativeInfinity);
        fixed (float* zp = outputs)
        fixed (float* gp = grad)
        {
            for (int i = 0; i < batch; i++)
            {
                var z = Avx512F.MaskLoad(zp + i * c, mask, negInf);
                var m256 = Vector256.Max(z.GetLower(), z.GetUpper());
                var m128 = Vector128.Max(m256.GetLower(), m256.GetUpper());
                float max = MathF.Max(MathF.Max(m128[0], m128[1]), MathF.Max(m128[2], m128[3]));
                var e = Vector512.Exp(z - Vector512.Create(max));
                float sum = Vector512.Sum(e);
                int y = labels[i];
                if ((uint)y >= (uint)c) throw new ArgumentOutOfRangeException(nameof(labels), y, $"Invalid label {y} of example {i}: must be in [0, {c}).");
                total += Math.Log(sum) - (zp[i * c + y] - max);
                Avx512F.MaskStore(gp + i * c, mask, e * Vector512.Create(inv / sum));
                gp[i * c + y] -= inv;
            }
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
