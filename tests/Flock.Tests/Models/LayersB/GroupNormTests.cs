using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersB;

public class GroupNormTests
{
    [Theory]
    [InlineData(2, 6, 4, 5, 3)]
    [InlineData(2, 4, 3, 3, 1)]
    [InlineData(1, 6, 2, 3, 6)]
    [InlineData(3, 8, 5, 4, 2)]
    public void Gradients_match_finite_differences(int batch, int c, int h, int w, int groups)
    {
        var gn = new GroupNorm(groups, c);
        var hs = new LayerHarness(gn, new TensorShape(c, h, w), batch);
        new Rng(1).FillGaussian(gn.Weight.Slice(hs.Parameters.AsSpan()), 1, 0.3f);
        new Rng(2).FillGaussian(gn.Bias.Slice(hs.Parameters.AsSpan()), 0, 0.3f);
        var x = LayerHarness.Random(hs.InputLength, 3, 2f);
        var r = LayerHarness.Random(hs.OutputLength, 4);
        var (ex, ep) = hs.MaxRelativeErrors(x, r, eps: 1e-2f);
        Assert.True(ex < 2e-2, $"input gradient relative error {ex}");
        Assert.True(ep < 1e-2, $"parameter gradient relative error {ep}");
    }

    [Fact]
    public void Normalizes_each_group_of_each_example()
    {
        var gn = new GroupNorm(2, 4);
        var hs = new LayerHarness(gn, new TensorShape(4, 3, 3), 2);
        gn.InitializeParameters(hs.Parameters, new Rng(0));
        Assert.Equal(new float[] { 1, 1, 1, 1, 0, 0, 0, 0 }, hs.Parameters);
        var x = LayerHarness.Random(hs.InputLength, 7, 3f);
        for (int i = 0; i < 18; i++) x[i] += 10; // first group of example 0 is far from zero
        var y = hs.Forward(x);
        for (int g = 0; g < 4; g++)
        {
            var s = y.AsSpan(g * 18, 18);
            double mean = 0, sq = 0;
            foreach (float v in s) mean += v;
            mean /= 18;
            foreach (float v in s) sq += (v - mean) * (v - mean);
            Assert.Equal(0, mean, 5);
            Assert.Equal(1, sq / 18, 3); // var/(var+eps) ≈ 1
        }
    }

    [Fact]
    public void Rejects_bad_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupNorm(0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupNorm(3, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupNorm(2, 4, eps: 0));
        Assert.Throws<ArgumentException>(() => new GroupNorm(2, 4).Build(new TensorShape(6, 2, 2), new ParameterLayoutBuilder()));
    }

    [Theory]
    [MemberData(nameof(GoldenNames))]
    public void Matches_pytorch(string name)
    {
        var c = Golden.Case("groupnorm", name);
        var inShape = Golden.Ints(c.GetProperty("input"));
        var gn = new GroupNorm(c.GetProperty("groups").GetInt32(), inShape[1], name: "m");
        var hs = new LayerHarness(gn, new TensorShape(inShape[1], inShape[2], inShape[3]), inShape[0]);
        Golden.InitializeParameters(hs.Layout, hs.Parameters);
        var x = Golden.Val(hs.InputLength, 1000, 2.0);
        var dy = Golden.Val(hs.OutputLength, 2000, 2.0);
        var (y, dx, dp) = hs.ForwardBackward(x, dy);
        Golden.AssertClose(Golden.Floats(c.GetProperty("y")), y, name + " y");
        Golden.AssertClose(Golden.Floats(c.GetProperty("dx")), dx, name + " dx");
        Golden.AssertClose(Golden.Floats(c.GetProperty("params").GetProperty("weight")), gn.Weight.Slice(dp), name + " dγ");
        Golden.AssertClose(Golden.Floats(c.GetProperty("params").GetProperty("bias")), gn.Bias.Slice(dp), name + " dβ");
    }

    public static object[][] GoldenNames => Golden.Names("groupnorm");
}
