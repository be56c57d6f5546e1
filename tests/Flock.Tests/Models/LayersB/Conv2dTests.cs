using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersB;

public class Conv2dTests
{
    public static object[][] Configs => new object[][]
    {
        // batch, C, H, W, out, kh, kw, stride, stride W, pad, bias
        new object[] { 2, 1, 6, 6, 2, 3, 3, 1, 1, 0, true },
        new object[] { 2, 3, 7, 5, 4, 3, 3, 2, 2, 1, true },
        new object[] { 2, 2, 5, 7, 3, 5, 5, 1, 1, 2, true },
        new object[] { 1, 2, 9, 8, 3, 3, 3, 2, 2, 0, false },
        new object[] { 2, 3, 5, 5, 4, 1, 1, 1, 1, 0, true },
        new object[] { 2, 2, 7, 6, 3, 1, 1, 2, 2, 0, false },
        new object[] { 2, 2, 7, 9, 2, 3, 2, 2, 1, 1, true },
        new object[] { 1, 2, 4, 4, 2, 3, 3, 3, 3, 2, true },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Gradients_match_finite_differences(int batch, int c, int h, int w, int oc, int kh, int kw, int sh, int sw, int pad, bool bias)
    {
        var conv = new Conv2d(oc, (kh, kw), (sh, sw), (pad, kw == kh ? pad : 0), bias);
        var hs = new LayerHarness(conv, new TensorShape(c, h, w), batch);
        conv.InitializeParameters(hs.Parameters, new Rng(3));
        if (bias) new Rng(4).FillGaussian(conv.Bias!.Slice(hs.Parameters.AsSpan()), 0, 0.5f);
        var x = LayerHarness.Random(hs.InputLength, 5);
        var r = LayerHarness.Random(hs.OutputLength, 6);
        var (ex, ep) = hs.MaxRelativeErrors(x, r, eps: 1e-2f);
        Assert.True(ex < 1e-2, $"input gradient relative error {ex}");
        Assert.True(ep < 1e-2, $"parameter gradient relative error {ep}");
    }

    [Fact]
    public void Forward_matches_direct_convolution()
    {
        // Direct six-loop convolution as the definition.
        int b = 2, c = 3, h = 7, w = 6, oc = 4, k = 3, s = 2, p = 1;
        var conv = new Conv2d(oc, k, s, p);
        var hs = new LayerHarness(conv, new TensorShape(c, h, w), b);
        new Rng(1).FillGaussian(hs.Parameters);
        var x = LayerHarness.Random(hs.InputLength, 2);
        var y = hs.Forward(x);
        var wt = conv.Weight.Slice(hs.Parameters.AsSpan()).ToArray();
        var bs = conv.Bias!.Slice(hs.Parameters.AsSpan()).ToArray();
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        Assert.Equal(new TensorShape(oc, oh, ow), conv.OutputShape);
        for (int e = 0; e < b; e++)
        for (int o = 0; o < oc; o++)
        for (int r = 0; r < oh; r++)
        for (int q = 0; q < ow; q++)
        {
            double sum = bs[o];
            for (int ci = 0; ci < c; ci++)
            for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                int ih = r * s - p + i, iw = q * s - p + j;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                sum += (double)wt[((o * c + ci) * k + i) * k + j] * x[((e * c + ci) * h + ih) * w + iw];
            }
            Assert.Equal(sum, y[((e * oc + o) * oh + r) * ow + q], 4);
        }
    }

    [Theory]
    [InlineData(2, 12, 12, 3, 1, 0, 11)]  // P = 100: chunks of 8 examples, then 3
    [InlineData(3, 5, 5, 1, 1, 0, 40)]    // pointwise, P = 25: chunks of 31, then 9
    [InlineData(2, 9, 9, 3, 2, 1, 13)]    // strided, P = 25
    [InlineData(1, 28, 28, 5, 1, 2, 3)]   // P = 784: one example per GEMM
    [InlineData(4, 28, 30, 1, 1, 0, 2)]   // pointwise, P = 840: the input is the column matrix
    public void Batches_equal_the_sum_of_single_examples(int c, int h, int w, int k, int s, int p, int batch)
    {
        // Chunking examples side by side must not change anything.
        var conv = new Conv2d(3, k, s, p);
        var hs = new LayerHarness(conv, new TensorShape(c, h, w), batch);
        new Rng(1).FillGaussian(hs.Parameters);
        var x = LayerHarness.Random(hs.InputLength, 2);
        var dy = LayerHarness.Random(hs.OutputLength, 3);
        var (y, dx, dp) = hs.ForwardBackward(x, dy);
        var one = new LayerHarness(new Conv2d(3, k, s, p), new TensorShape(c, h, w), 1);
        hs.Parameters.CopyTo(one.Parameters, 0);
        var sum = new double[dp.Length];
        int inSize = hs.InputLength / batch, outSize = hs.OutputLength / batch;
        for (int e = 0; e < batch; e++)
        {
            var (y1, dx1, dp1) = one.ForwardBackward(x.AsSpan(e * inSize, inSize).ToArray(), dy.AsSpan(e * outSize, outSize).ToArray());
            for (int i = 0; i < outSize; i++) Assert.Equal(y1[i], y[e * outSize + i], 4);
            for (int i = 0; i < inSize; i++) Assert.Equal(dx1[i], dx[e * inSize + i], 4);
            for (int i = 0; i < dp.Length; i++) sum[i] += dp1[i];
        }
        for (int i = 0; i < dp.Length; i++) Assert.True(Math.Abs(sum[i] - dp[i]) <= 1e-4 * (1 + Math.Abs(sum[i])), $"dp[{i}] = {dp[i]}, expected {sum[i]}");
    }

    [Fact]
    public void Backward_overwrites_gradients_and_is_repeatable()
    {
        var conv = new Conv2d(3, 3, 1, 1);
        var hs = new LayerHarness(conv, new TensorShape(2, 5, 5), 3);
        conv.InitializeParameters(hs.Parameters, new Rng(1));
        var x = LayerHarness.Random(hs.InputLength, 2);
        var dy = LayerHarness.Random(hs.OutputLength, 3);
        var (_, dx1, dp1) = hs.ForwardBackward(x, dy);
        var (_, dx2, dp2) = hs.ForwardBackward(x, dy);
        Assert.Equal(dx1, dx2);
        Assert.Equal(dp1, dp2);
        // Without an input gradient the parameter gradient is the same.
        var (_, _, dp3) = hs.ForwardBackward(x, dy, wantDx: false);
        Assert.Equal(dp1, dp3);
    }

    [Fact]
    public void Shapes_parameters_and_flops()
    {
        var conv = new Conv2d(16, 5, name: "c");
        var layout = new ParameterLayoutBuilder();
        conv.Build(new TensorShape(6, 14, 14), layout);
        var l = layout.Build();
        Assert.Equal(new TensorShape(16, 10, 10), conv.OutputShape);
        Assert.Equal(new TensorShape(16, 6, 5, 5), l["c.weight"].Shape);
        Assert.Equal(16 * 6 * 25 + 16, l.Length);
        Assert.Equal(2L * 16 * 150 * 100, conv.FlopsPerExample);
    }

    [Fact]
    public void Rejects_bad_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(2, 3, stride: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(2, 3, padding: -1));
        Assert.Throws<ArgumentException>(() => new Conv2d(2, 5).Build(new TensorShape(1, 4, 4), new ParameterLayoutBuilder()));
        Assert.Throws<ArgumentException>(() => new Conv2d(2, 1).Build(new TensorShape(16), new ParameterLayoutBuilder()));
    }

    [Theory]
    [MemberData(nameof(GoldenNames))]
    public void Matches_pytorch(string name)
    {
        var c = Golden.Case("conv", name);
        var inShape = Golden.Ints(c.GetProperty("input"));
        var k = Golden.Ints(c.GetProperty("kernel"));
        var s = Golden.Ints(c.GetProperty("stride"));
        var p = Golden.Ints(c.GetProperty("padding"));
        var conv = new Conv2d(c.GetProperty("outChannels").GetInt32(), (k[0], k[1]), (s[0], s[1]), (p[0], p[1]), c.GetProperty("bias").GetBoolean(), name: "m");
        var hs = new LayerHarness(conv, new TensorShape(inShape[1], inShape[2], inShape[3]), inShape[0]);
        Assert.Equal(Golden.Ints(c.GetProperty("output")).Skip(1).ToArray(), conv.OutputShape.Dims.ToArray());
        Golden.InitializeParameters(hs.Layout, hs.Parameters);
        var x = Golden.Val(hs.InputLength, 1000, 2.0);
        var dy = Golden.Val(hs.OutputLength, 2000, 2.0);
        var (y, dx, dp) = hs.ForwardBackward(x, dy);
        Golden.AssertClose(Golden.Floats(c.GetProperty("y")), y, name + " y");
        Golden.AssertClose(Golden.Floats(c.GetProperty("dx")), dx, name + " dx");
        Golden.AssertClose(Golden.Floats(c.GetProperty("params").GetProperty("weight")), conv.Weight.Slice(dp), name + " dW");
        if (conv.Bias is not null)
            Golden.AssertClose(Golden.Floats(c.GetProperty("params").GetProperty("bias")), conv.Bias.Slice(dp), name + " db");
    }

    public static object[][] GoldenNames => Golden.Names("conv");
}
