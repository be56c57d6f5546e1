using System.Text.Json;
using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Models.Losses;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersA;

/// <summary>Forward outputs and gradients against PyTorch (bench/reference/layers_a_golden.py, float64 reference).</summary>
public class GoldenTests
{
    private static readonly Lazy<JsonElement> Golden = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "layers", "layers_a_golden.json"))).RootElement);

    private static float[] Floats(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
    private static double[] Doubles(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();
    private static int[] Ints(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static void Close(double[] expected, ReadOnlySpan<float> actual, string what, double tol = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Erf_matches_python()
    {
        foreach (var c in Golden.Value.GetProperty("erf").EnumerateArray())
        {
            double x = c.GetProperty("x").GetDouble(), expected = c.GetProperty("erf").GetDouble();
            Assert.True(Math.Abs(ActivationKernels.Erf(x) - expected) < 1e-9, $"erf({x}) = {ActivationKernels.Erf(x)}, expected {expected}");
        }
    }

    [Theory]
    [InlineData("gelu")]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    [InlineData("leaky_relu_0.01")]
    [InlineData("leaky_relu_0.2")]
    public void Elementwise_matches_pytorch(string name)
    {
        var c = Golden.Value.GetProperty("elementwise").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var shape = Ints(c, "shape");
        Layer layer = name switch
        {
            "gelu" => new GELU(),
            "tanh" => new Tanh(),
            "sigmoid" => new Sigmoid(),
            "leaky_relu_0.01" => new LeakyReLU(),
            _ => new LeakyReLU(0.2f),
        };
        var h = new LayerHarness(layer, new TensorShape(shape[1]), shape[0]);
        var (y, dx, _) = h.ForwardBackward(Floats(c, "x"), Floats(c, "g"));
        Close(Doubles(c, "y"), y, name + ".y");
        Close(Doubles(c, "dx"), dx, name + ".dx");
    }

    [Theory]
    [InlineData("vector")]
    [InlineData("last_dim")]
    [InlineData("all_dims")]
    public void LayerNorm_matches_pytorch(string name)
    {
        var c = Golden.Value.GetProperty("layerNorm").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var ln = new LayerNorm(c.GetProperty("normalizedRank").GetInt32());
        var h = new LayerHarness(ln, new TensorShape(Ints(c, "exampleShape")), c.GetProperty("batch").GetInt32());
        Floats(c, "weight").CopyTo(ln.Weight!.Slice(h.Parameters.AsSpan()));
        Floats(c, "bias").CopyTo(ln.Bias!.Slice(h.Parameters.AsSpan()));
        var (y, dx, dp) = h.ForwardBackward(Floats(c, "x"), Floats(c, "g"));
        Close(Doubles(c, "y"), y, "y");
        Close(Doubles(c, "dx"), dx, "dx");
        Close(Doubles(c, "dWeight"), ln.Weight.Slice(dp.AsSpan()), "dWeight");
        Close(Doubles(c, "dBias"), ln.Bias.Slice(dp.AsSpan()), "dBias");
    }

    [Fact]
    public void Embedding_matches_pytorch()
    {
        var c = Golden.Value.GetProperty("embedding");
        var emb = new Embedding(c.GetProperty("vocab").GetInt32(), c.GetProperty("dim").GetInt32());
        var h = new LayerHarness(emb, new TensorShape(c.GetProperty("seq").GetInt32()), c.GetProperty("batch").GetInt32());
        Floats(c, "weight").CopyTo(h.Parameters, 0);
        var ids = Ints(c, "ids").Select(v => (float)v).ToArray();
        var (y, _, dp) = h.ForwardBackward(ids, Floats(c, "g"));
        Close(Doubles(c, "y"), y, "y");
        Close(Doubles(c, "dWeight"), dp, "dWeight");
    }

    [Fact]
    public void Mse_matches_pytorch()
    {
        var c = Golden.Value.GetProperty("mse");
        int b = c.GetProperty("batch").GetInt32(), d = c.GetProperty("dim").GetInt32();
        var grad = new float[b * d];
        float loss = MeanSquaredError.Instance.LossAndGradient(Floats(c, "outputs"), b, d, default, Floats(c, "targets"), grad);
        Close([c.GetProperty("loss").GetDouble()], [loss], "loss");
        Close(Doubles(c, "grad"), grad, "grad");
    }
}
