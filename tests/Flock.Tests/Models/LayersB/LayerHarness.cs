using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersB;

/// <summary>
/// Runs one layer outside a network (so its input gradient is requested), with NaN-poisoned
/// output, gradient and scratch buffers to catch reads of stale memory, and checks gradients of
/// <c>L = Σ y·r</c> (r fixed) against central differences.
/// </summary>
public sealed class LayerHarness
{
    private readonly LayerContext _ctx = new() { Training = true };

    public LayerHarness(Layer layer, TensorShape input, int batch)
    {
        Layer = layer;
        Batch = batch;
        var builder = new ParameterLayoutBuilder();
        layer.Build(input, builder);
        Layout = builder.Build();
        Parameters = new float[Layout.Length];
        Scratch = new float[layer.ScratchLength(batch)];
    }

    public Layer Layer { get; }
    public int Batch { get; }
    public ParameterLayout Layout { get; }
    public float[] Parameters { get; }
    public float[] Scratch { get; }
    public int InputLength => Batch * Layer.InputShape.Size;
    public int OutputLength => Batch * Layer.OutputShape.Size;

    public float[] Forward(float[] x)
    {
        Array.Fill(Scratch, float.NaN);
        var y = new float[OutputLength];
        Array.Fill(y, float.NaN);
        Layer.Forward(new ForwardArgs(Parameters, x, y, Scratch, Batch, _ctx));
        return y;
    }

    /// <summary>Forward then backward of dy; returns (y, dx, dParameters). dx is skipped when <paramref name="wantDx"/> is false.</summary>
    public (float[] Y, float[] Dx, float[] Dp) ForwardBackward(float[] x, float[] dy, bool wantDx = true)
    {
        var y = Forward(x);
        var dx = new float[InputLength];
        Array.Fill(dx, float.NaN);
        var dp = new float[Layout.Length];
        Array.Fill(dp, float.NaN);
        Layer.Backward(new BackwardArgs(Parameters, x, y, dy, wantDx ? dx : Span<float>.Empty, dp, Scratch, Batch, _ctx));
        return (y, dx, dp);
    }

    public double Loss(float[] x, float[] r)
    {
        var y = Forward(x);
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += (double)y[i] * r[i];
        return s;
    }

    /// <summary>Worst relative error of dx and dParameters against central differences (all coordinates up to <paramref name="maxChecks"/> per tensor).</summary>
    public (double Input, double Params) MaxRelativeErrors(float[] x, float[] r, float eps = 1e-2f, int maxChecks = 400)
    {
        var (_, dx, dp) = ForwardBackward(x, r);
        foreach (float v in dx) Assert.False(float.IsNaN(v), "input gradient not fully written");
        foreach (float v in dp) Assert.False(float.IsNaN(v), "parameter gradient not fully written");
        double worstX = 0, worstP = 0;
        var rng = new Rng(99);
        int nx = Math.Min(maxChecks, x.Length);
        for (int c = 0; c < nx; c++)
        {
            int i = nx == x.Length ? c : rng.NextInt(x.Length);
            worstX = Math.Max(worstX, Check(x, i, dx[i], () => Loss(x, r), eps));
        }
        foreach (var t in Layout.Tensors)
        {
            int n = Math.Min(maxChecks, t.Length);
            for (int c = 0; c < n; c++)
            {
                int i = t.Offset + (n == t.Length ? c : rng.NextInt(t.Length));
                worstP = Math.Max(worstP, Check(Parameters, i, dp[i], () => Loss(x, r), eps));
            }
        }
        return (worstX, worstP);
    }

    private static double Check(float[] v, int i, float analytic, Func<double> loss, float eps)
    {
        float orig = v[i];
        v[i] = orig + eps; double lp = loss();
        v[i] = orig - eps; double lm = loss();
        v[i] = orig;
        double fd = (lp - lm) / (2.0 * eps);
        return Math.Abs(fd - analytic) / Math.Max(1e-2, Math.Abs(fd) + Math.Abs(analytic));
    }

    public static float[] Random(int n, ulong seed, float std = 1f)
    {
        var a = new float[n];
        new Rng(seed).FillGaussian(a, 0, std);
        return a;
    }
}
