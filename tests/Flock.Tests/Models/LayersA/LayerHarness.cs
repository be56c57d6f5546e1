using Flock.Data;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersA;

/// <summary>
/// Runs one layer on its own (built into a private layout, with its own scratch) and checks its
/// input and parameter gradients against central finite differences of <c>f = Σ g·y</c> for a fixed
/// upstream gradient g. The layer context's random source is re-seeded before every forward pass,
/// so stochastic layers (dropout) see the same mask in every evaluation.
/// </summary>
internal sealed class LayerHarness
{
    private readonly float[] _scratch;

    public LayerHarness(Layer layer, TensorShape inputShape, int batch, ulong initSeed = 1)
    {
        Layer = layer;
        Batch = batch;
        var builder = new ParameterLayoutBuilder();
        layer.Build(inputShape, builder);
        Layout = builder.Build();
        Parameters = new float[Layout.Length];
        layer.InitializeParameters(Parameters, new Rng(initSeed));
        _scratch = new float[layer.ScratchLength(batch)];
    }

    public Layer Layer { get; }
    public int Batch { get; }
    public ParameterLayout Layout { get; }
    public float[] Parameters { get; }
    public LayerContext Context { get; } = new() { Training = true };
    public ulong RandomSeed { get; set; } = 99;
    public int InputLength => Batch * Layer.InputShape.Size;
    public int OutputLength => Batch * Layer.OutputShape.Size;

    public float[] Forward(float[] x)
    {
        Context.Random = new Rng(RandomSeed);
        var y = new float[OutputLength];
        Layer.Forward(new ForwardArgs(Parameters, x, y, _scratch, Batch, Context));
        return y;
    }

    /// <summary>Forward then backward; returns (y, dx, parameter gradient). dx is null when not requested.</summary>
    public (float[] Y, float[]? Dx, float[] DParams) ForwardBackward(float[] x, float[] g, bool inputGradient = true, float fillGradients = float.NaN)
    {
        var y = Forward(x);
        float[]? dx = inputGradient ? new float[InputLength] : null;
        if (dx is not null) Array.Fill(dx, fillGradients);
        var dp = new float[Layout.Length];
        Array.Fill(dp, fillGradients);   // layers must overwrite, not accumulate
        Layer.Backward(new BackwardArgs(Parameters, x, y, g, dx ?? Span<float>.Empty, dp, _scratch, Batch, Context));
        return (y, dx, dp);
    }

    public double Objective(float[] x, float[] g)
    {
        var y = Forward(x);
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += (double)g[i] * y[i];
        return s;
    }

    public static double RelativeError(double fd, double analytic, double floor) =>
        Math.Abs(fd - analytic) / Math.Max(floor, Math.Abs(fd) + Math.Abs(analytic));

    /// <summary>Worst relative error of dx over every input coordinate.</summary>
    public double MaxInputGradientError(float[] x, float[] g, float eps = 1e-2f, double floor = 1e-2)
    {
        var (_, dx, _) = ForwardBackward(x, g);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float orig = x[i];
            x[i] = orig + eps; double fp = Objective(x, g);
            x[i] = orig - eps; double fm = Objective(x, g);
            x[i] = orig;
            worst = Math.Max(worst, RelativeError((fp - fm) / (2 * eps), dx![i], floor));
        }
        return worst;
    }

    /// <summary>Worst relative error of the parameter gradient over every parameter.</summary>
    public double MaxParameterGradientError(float[] x, float[] g, float eps = 1e-2f, double floor = 1e-2)
    {
        var (_, _, dp) = ForwardBackward(x, g);
        var p = Parameters;
        double worst = 0;
        for (int i = 0; i < p.Length; i++)
        {
            float orig = p[i];
            p[i] = orig + eps; double fp = Objective(x, g);
            p[i] = orig - eps; double fm = Objective(x, g);
            p[i] = orig;
            worst = Math.Max(worst, RelativeError((fp - fm) / (2 * eps), dp[i], floor));
        }
        return worst;
    }

    /// <summary>Gaussian values scaled by <paramref name="scale"/>, pushed at least <paramref name="minAbs"/> away from 0 (kinks).</summary>
    public static float[] Random(int n, ulong seed, float scale = 1f, float minAbs = 0f)
    {
        var v = new float[n];
        new Rng(seed).FillGaussian(v, 0, scale);
        for (int i = 0; i < n; i++)
            if (MathF.Abs(v[i]) < minAbs) v[i] = v[i] < 0 ? v[i] - minAbs : v[i] + minAbs;
        return v;
    }

    /// <summary>A random regression dataset (features N(0,1), targets N(0,1)).</summary>
    public static DatasetView RandomRegression(TensorShape shape, int count, int targetDim, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[count * shape.Size];
        rng.FillGaussian(x);
        var t = new float[count * targetDim];
        rng.FillGaussian(t);
        return Dataset.Regression("random-regression", x, shape, t, targetDim).All();
    }
}
