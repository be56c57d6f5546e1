using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersB;

public class ResidualBlockTests
{
    private static void RandomizeAffine(LayerHarness hs, ulong seed)
    {
        // Non-trivial γ/β so the check covers them; weights from He init.
        hs.Layer.InitializeParameters(hs.Parameters, new Rng(seed));
        var rng = new Rng(seed + 1);
        foreach (var t in hs.Layout.Tensors)
            if (t.Shape.Rank == 1) rng.FillGaussian(t.Slice(hs.Parameters.AsSpan()), t.Name.EndsWith(".weight") ? 1 : 0, 0.3f);
    }

    [Fact]
    public void Identity_shortcut_gradients_match_finite_differences()
    {
        var block = new ResidualBlock(new Sequential("body",
            new Conv2d(3, 3, 1, 1, name: "c1"), new GroupNorm(1, 3), new ReLU(), new Conv2d(3, 3, 1, 1, name: "c2")));
        var hs = new LayerHarness(block, new TensorShape(3, 5, 4), 2);
        Assert.Null(block.Shortcut);
        RandomizeAffine(hs, 1);
        var x = LayerHarness.Random(hs.InputLength, 2);
        var r = LayerHarness.Random(hs.OutputLength, 3);
        var (ex, ep) = hs.MaxRelativeErrors(x, r, eps: 1e-3f, maxChecks: 60);
        Assert.True(ex < 3e-2, $"input gradient relative error {ex}");
        Assert.True(ep < 3e-2, $"parameter gradient relative error {ep}");
    }

    [Fact]
    public void Projection_shortcut_gradients_match_finite_differences()
    {
        var block = ResidualBlock.Basic(2, 4, 2, 2);
        var hs = new LayerHarness(block, new TensorShape(2, 7, 6), 2);
        Assert.NotNull(block.Shortcut);
        Assert.Equal(new TensorShape(4, 4, 3), block.OutputShape);
        RandomizeAffine(hs, 4);
        var x = LayerHarness.Random(hs.InputLength, 5);
        var r = LayerHarness.Random(hs.OutputLength, 6);
        var (ex, ep) = hs.MaxRelativeErrors(x, r, eps: 1e-3f, maxChecks: 60);
        Assert.True(ex < 3e-2, $"input gradient relative error {ex}");
        Assert.True(ep < 3e-2, $"parameter gradient relative error {ep}");
    }

    [Fact]
    public void Forward_is_relu_of_body_plus_shortcut()
    {
        var body = new Sequential("body", new Conv2d(2, 3, 1, 1, name: "c"));
        var block = new ResidualBlock(body);
        var hs = new LayerHarness(block, new TensorShape(2, 4, 4), 2);
        new Rng(1).FillGaussian(hs.Parameters);
        var x = LayerHarness.Random(hs.InputLength, 2);
        var y = hs.Forward(x);
        var conv = (Conv2d)body.Layers[0];
        var alone = new LayerHarness(new Conv2d(2, 3, 1, 1), new TensorShape(2, 4, 4), 2);
        hs.Parameters.CopyTo(alone.Parameters, 0);
        var z = alone.Forward(x);
        for (int i = 0; i < y.Length; i++) Assert.Equal(Math.Max(0f, z[i] + x[i]), y[i], 5);
        Assert.Equal("res.body.0.c.weight", hs.Layout.Tensors[0].Name);
        Assert.Same(conv, body.Layers[0]);
    }

    [Fact]
    public void Basic_names_parameters_and_rejects_mismatched_identity()
    {
        var net = new Network(new TensorShape(2, 6, 6), ResidualBlock.Basic(2, 4, 2, 2, name: "b"));
        var names = net.Layout.Tensors.Select(t => t.Name).ToArray();
        Assert.Equal(new[]
        {
            "0.b.body.0.conv1.weight", "0.b.body.1.gn1.weight", "0.b.body.1.gn1.bias", "0.b.body.3.conv2.weight",
            "0.b.body.4.gn2.weight", "0.b.body.4.gn2.bias", "0.b.shortcut.0.conv.weight", "0.b.shortcut.1.gn.weight", "0.b.shortcut.1.gn.bias",
        }, names);
        Assert.Throws<ArgumentException>(() => new ResidualBlock(new Sequential("body", new Conv2d(3, 3, 1, 1))).Build(new TensorShape(2, 4, 4), new ParameterLayoutBuilder()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResidualBlock.Basic(0, 4, 1, 2));
    }
}
