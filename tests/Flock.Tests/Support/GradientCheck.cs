using Flock.Data;
using Flock.Models;
using Flock.Tensors;

namespace Flock.Tests.Support;

/// <summary>Central finite-difference checks of analytic gradients (double-checked in float with relative tolerance).</summary>
public static class GradientCheck
{
    /// <summary>
    /// Compares <see cref="ILearner.LossAndGradient"/> with central differences on up to
    /// <paramref name="maxChecks"/> coordinates of every parameter tensor. Returns the worst relative error.
    /// </summary>
    public static double MaxRelativeError(ILearner learner, float[] parameters, DatasetView data, int[] positions,
        float eps = 1e-2f, int maxChecks = 40, ulong seed = 1)
    {
        var grad = new float[parameters.Length];
        learner.LossAndGradient(parameters, data, positions, grad);
        var rng = new Rng(seed);
        double worst = 0;
        foreach (var t in learner.Layout.Tensors)
        {
            int checks = Math.Min(maxChecks, t.Length);
            for (int c = 0; c < checks; c++)
            {
                int idx = t.Offset + (checks == t.Length ? c : rng.NextInt(t.Length));
                float orig = parameters[idx];
                parameters[idx] = orig + eps;
                double lp = learner.Loss(parameters, data, positions);
                parameters[idx] = orig - eps;
                double lm = learner.Loss(parameters, data, positions);
                parameters[idx] = orig;
                double fd = (lp - lm) / (2 * eps);
                double err = Math.Abs(fd - grad[idx]) / Math.Max(1e-2, Math.Abs(fd) + Math.Abs(grad[idx]));
                worst = Math.Max(worst, err);
            }
        }
        return worst;
    }

    /// <summary>A random classification dataset for gradient checks.</summary>
    public static DatasetView RandomClassification(TensorShape shape, int count, int classes, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[count * shape.Size];
        rng.FillGaussian(x);
        var y = new int[count];
        for (int i = 0; i < count; i++) y[i] = rng.NextInt(classes);
        return Dataset.Classification("random", x, shape, y, classes).All();
    }
}
