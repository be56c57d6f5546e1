using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersB;

public class PoolTests
{
    /// <summary>Distinct values (a shuffled ramp) so no window has a tie and ±eps never flips an argmax.</summary>
    private static float[] DistinctInput(int n, ulong seed)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (i - n / 2) * 0.1f;
        new Rng(seed).Shuffle(x.AsSpan());
        return x;
    }

    [Theory]
    [InlineData(2, 3, 8, 8, 2, 2)]
    [InlineData(2, 2, 7, 9, 3, 2)]
    [InlineData(1, 2, 5, 6, 2, 1)]
    [InlineData(2, 1, 7, 5, 2, 2)]
    [InlineData(1, 2, 9, 9, 3, 3)]
    public void MaxPool_gradient_matches_finite_differences(int batch, int c, int h, int w, int k, int s)
    {
        var hs = new LayerHarness(new MaxPool2d(k, s), new TensorShape(c, h, w), batch);
        var x = DistinctInput(hs.InputLength, 4);
        var r = LayerHarness.Random(hs.OutputLength, 5);
        var (ex, _) = hs.MaxRelativeErrors(x, r, eps: 1e-2f);
        Assert.True(ex < 1e-3, $"input gradient relative error {ex}");
    }

    [Fact]
    public void MaxPool_takes_window_maxima_and_first_of_ties()
    {
        var hs = new LayerHarness(new MaxPool2d(2), new TensorShape(1, 2, 4), 1);
        var x = new float[] { 1, 5, 2, 2, 3, 4, 2, 0 };
        var (y, dx, _) = hs.ForwardBackward(x, new float[] { 10, 20 });
        Assert.Equal(new float[] { 5, 2 }, y);
        Assert.Equal(new float[] { 0, 10, 20, 0, 0, 0, 0, 0 }, dx);
    }

    [Theory]
    [InlineData(2, 34, 36, 2, 2)]
    [InlineData(3, 9, 41, 2, 2)]
    [InlineData(1, 20, 70, 2, 2)]
    [InlineData(2, 13, 40, 3, 2)]
    public void MaxPool_matches_naive_reference_with_ties_and_nans(int c, int h, int w, int k, int s)
    {
        var hs = new LayerHarness(new MaxPool2d(k, s), new TensorShape(c, h, w), 2);
        var rng = new Rng(8);
        var x = new float[hs.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(5); // many ties
        x[7] = float.NaN;
        x[3 * w + 10] = float.NaN;
        var dy = LayerHarness.Random(hs.OutputLength, 9);
        var (y, dx, _) = hs.ForwardBackward(x, dy);
        int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        var edx = new float[x.Length];
        for (int pl = 0; pl < 2 * c; pl++)
        for (int r = 0; r < oh; r++)
        for (int q = 0; q < ow; q++)
        {
            int bi = -1; float bv = float.NegativeInfinity;
            for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                int t = pl * h * w + (r * s + i) * w + q * s + j;
                if (bi < 0 || x[t] > bv || float.IsNaN(x[t])) { bv = x[t]; bi = t; }
            }
            int o = (pl * oh + r) * ow + q;
            Assert.Equal(bv, y[o]);
            edx[bi] += dy[o];
        }
        Assert.Equal(edx, dx);
    }

    [Fact]
    public void MaxPool_propagates_nan()
    {
        var hs = new LayerHarness(new MaxPool2d(2), new TensorShape(1, 2, 2), 1);
        Assert.True(float.IsNaN(hs.Forward(new float[] { 1, float.NaN, 3, 2 })[0]));
        var hs3 = new LayerHarness(new MaxPool2d(3, 1), new TensorShape(1, 3, 3), 1);
        Assert.True(float.IsNaN(hs3.Forward(new float[] { float.NaN, 1, 2, 3, 4, 5, 6, 7, 8 })[0]));
    }

    [Theory]
    [InlineData(2, 3, 8, 8, 2, 2)]
    [InlineData(2, 2, 7, 9, 3, 2)]
    [InlineData(1, 2, 5, 6, 2, 1)]
    public void AvgPool_gradient_matches_finite_differences(int batch, int c, int h, int w, int k, int s)
    {
        var hs = new LayerHarness(new AvgPool2d(k, s), new TensorShape(c, h, w), batch);
        var x = LayerHarness.Random(hs.InputLength, 4);
        var r = LayerHarness.Random(hs.OutputLength, 5);
        var (ex, _) = hs.MaxRelativeErrors(x, r);
        Assert.True(ex < 1e-3, $"input gradient relative error {ex}");
    }

    [Fact]
    public void Global_average_pool_is_channel_mean()
    {
        var gap = AvgPool2d.Global();
        var hs = new LayerHarness(gap, new TensorShape(2, 2, 3), 1);
        Assert.Equal(new TensorShape(2, 1, 1), gap.OutputShape);
        var x = new float[] { 1, 2, 3, 4, 5, 6, -1, -1, -1, -1, -1, 5 };
        var (y, dx, _) = hs.ForwardBackward(x, new float[] { 6, 12 });
        Assert.Equal(new float[] { 3.5f, 0f }, y);
        Assert.Equal(new float[] { 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2 }, dx);
        var (ex, _) = new LayerHarness(AvgPool2d.Global(), new TensorShape(3, 4, 5), 2).MaxRelativeErrors(LayerHarness.Random(120, 1), LayerHarness.Random(6, 2));
        Assert.True(ex < 1e-3, $"input gradient relative error {ex}");
    }

    [Fact]
    public void Rejects_bad_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPool2d(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPool2d(2, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AvgPool2d(0));
        Assert.Throws<ArgumentException>(() => new MaxPool2d(3).Build(new TensorShape(1, 2, 2), new ParameterLayoutBuilder()));
        Assert.Throws<ArgumentException>(() => new AvgPool2d(2).Build(new TensorShape(4), new ParameterLayoutBuilder()));
    }

    [Theory]
    [MemberData(nameof(GoldenNames))]
    public void Matches_pytorch(string name)
    {
        var c = Golden.Case("pool", name);
        var inShape = Golden.Ints(c.GetProperty("input"));
        int k = c.GetProperty("kernel").GetInt32(), s = c.GetProperty("stride").GetInt32();
        Layer layer = c.GetProperty("kind").GetString() switch
        {
            "max" => new MaxPool2d(k, s),
            "avg" => new AvgPool2d(k, s),
            _ => AvgPool2d.Global(),
        };
        var hs = new LayerHarness(layer, new TensorShape(inShape[1], inShape[2], inShape[3]), inShape[0]);
        Assert.Equal(Golden.Ints(c.GetProperty("output")).Skip(1).ToArray(), layer.OutputShape.Dims.ToArray());
        var x = Golden.Val(hs.InputLength, 1000, 2.0);
        var dy = Golden.Val(hs.OutputLength, 2000, 2.0);
        var (y, dx, _) = hs.ForwardBackward(x, dy);
        Golden.AssertClose(Golden.Floats(c.GetProperty("y")), y, name + " y");
        Golden.AssertClose(Golden.Floats(c.GetProperty("dx")), dx, name + " dx");
    }

    public static object[][] GoldenNames => Golden.Names("pool");
}
