using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Tests.Optimizers;

/// <summary>State layout, statelessness of the shared instance, SIMD vs scalar paths, allocations.</summary>
public sealed class KernelTests
{
    [Fact]
    public void State_lengths()
    {
        Assert.Equal(0, new Sgd().StateLength(100));
        Assert.Equal(100, new MomentumSgd().StateLength(100));
        Assert.Equal(200, new Adam().StateLength(100));
        Assert.Equal(300, new Adam(amsgrad: true).StateLength(100));
        Assert.Equal(200, new AdamW().StateLength(100));
        Assert.Equal(300, new AdamW(amsgrad: true).StateLength(100));
        Assert.Equal(300, new GradientNormClipping(new Adam(amsgrad: true)).StateLength(100));
        Assert.Equal(0, new Adam().StateLength(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(amsgrad: true).StateLength(int.MaxValue / 2));
    }

    [Theory]
    [InlineData("momentum")]
    [InlineData("adam")]
    [InlineData("amsgrad")]
    [InlineData("adamw")]
    public void Zero_gradient_on_zero_state_keeps_parameters_and_state_zero(string name)
    {
        // With a zero gradient, zero state and no weight decay, nothing moves (Adam: 0/(0 + ε) = 0).
        var opt = name switch
        {
            "momentum" => (IOptimizer)new MomentumSgd(0.1f),
            "adam" => new Adam(0.1f),
            "amsgrad" => new Adam(0.1f, amsgrad: true),
            _ => new AdamW(0.1f, weightDecay: 0f),
        };
        float[] p = [1f, -2f, 3f], s = new float[opt.StateLength(3)];
        for (int t = 1; t <= 3; t++) opt.Step(p, new float[3], s, t);
        Assert.Equal(new[] { 1f, -2f, 3f }, p);
        Assert.All(s, x => Assert.Equal(0f, x));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("momentum")]
    [InlineData("nesterov")]
    [InlineData("adam")]
    [InlineData("amsgrad")]
    [InlineData("adamw")]
    [InlineData("clip")]
    public void One_instance_serves_interleaved_nodes(string name)
    {
        // Two nodes stepping alternately through one shared instance end exactly where they end alone.
        const int n = 45;
        var shared = ValidationTests.Create(name);
        float[] Solo(ulong seed)
        {
            var opt = ValidationTests.Create(name);
            var (p, s, g) = (new float[n], new float[opt.StateLength(n)], new float[n]);
            new Rng(seed).FillGaussian(p);
            for (int t = 1; t <= 10; t++) { GoldenTrajectoryTests.Gradient(p, g); opt.Step(p, g, s, t); }
            return p;
        }
        var (pa, sa, pb, sb, g) = (new float[n], new float[shared.StateLength(n)], new float[n], new float[shared.StateLength(n)], new float[n]);
        new Rng(1).FillGaussian(pa);
        new Rng(2).FillGaussian(pb);
        for (int t = 1; t <= 10; t++)
        {
            GoldenTrajectoryTests.Gradient(pa, g); shared.Step(pa, g, sa, t);
            GoldenTrajectoryTests.Gradient(pb, g); shared.Step(pb, g, sb, t);
        }
        Assert.Equal(Solo(1), pa);
        Assert.Equal(Solo(2), pb);
    }

    /// <summary>Steps an element-wise optimizer over the whole vector (SIMD body) and element by element (scalar tail only).</summary>
    [Theory]
    [InlineData("sgd")]
    [InlineData("momentum")]
    [InlineData("nesterov")]
    [InlineData("adam")]
    [InlineData("amsgrad")]
    [InlineData("adamw")]
    public void Simd_paths_equal_the_scalar_path_bit_for_bit(string name)
    {
        const int n = 16 * 7 + 8 + 5; // Vector512 body, one Vector256 block, scalar tail
        var opt = ValidationTests.Create(name);
        int k = opt.StateLength(n) / n;
        var rng = new Rng(42);
        var p = new float[n];
        rng.FillGaussian(p);
        var q = (float[])p.Clone();
        var s = new float[k * n];
        var sElem = new float[k * n];
        var g = new float[n];
        var one = new float[k];
        for (int t = 1; t <= 5; t++)
        {
            rng.FillGaussian(g, 0f, 2f);
            var gCopy = (float[])g.Clone();
            opt.Step(p, g, s, t);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < k; j++) one[j] = sElem[j * n + i];
                opt.Step(q.AsSpan(i, 1), gCopy.AsSpan(i, 1), one, t);
                for (int j = 0; j < k; j++) sElem[j * n + i] = one[j];
            }
        }
        Assert.Equal(q, p);
        Assert.Equal(sElem, s);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    [InlineData("amsgrad")]
    [InlineData("adamw")]
    [InlineData("clip")]
    public void Steps_do_not_allocate(string name)
    {
        const int n = 1000;
        var opt = ValidationTests.Create(name);
        var (p, g, s) = (new float[n], new float[n], new float[opt.StateLength(n)]);
        new Rng(7).FillGaussian(g);
        opt.Step(p, g, s, 1);
        opt.Step(p, g, s, 2, 0.005f);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 3; t < 100; t++) { opt.Step(p, g, s, t); opt.Step(p, g, s, t, 0.001f); }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Clipping_a_non_finite_gradient_gives_non_finite_values_like_pytorch()
    {
        float[] g = [float.PositiveInfinity, 1f];
        float norm = GradientNormClipping.Clip(g, 1f);
        Assert.True(float.IsPositiveInfinity(norm));
        Assert.True(float.IsNaN(g[0]) || float.IsInfinity(g[0]));
    }
}
