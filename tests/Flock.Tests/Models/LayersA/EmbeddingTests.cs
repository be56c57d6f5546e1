using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersA;

public class EmbeddingTests
{
    [Fact]
    public void Forward_looks_up_rows_and_appends_a_dimension()
    {
        var emb = new Embedding(5, 3);
        var h = new LayerHarness(emb, new TensorShape(4), 2);
        Assert.Equal(new TensorShape(4, 3), emb.OutputShape);
        Assert.Equal("embedding.weight", emb.Weight.Name);
        Assert.Equal(new TensorShape(5, 3), emb.Weight.Shape);
        for (int i = 0; i < 15; i++) h.Parameters[i] = i;   // row r = [3r, 3r+1, 3r+2]
        var y = h.Forward([4f, 0f, 2f, 2f, 1f, 3f, 0f, 4f]);
        Assert.Equal([12f, 13f, 14f, 0f, 1f, 2f, 6f, 7f, 8f, 6f, 7f, 8f, 3f, 4f, 5f, 9f, 10f, 11f, 0f, 1f, 2f, 12f, 13f, 14f], y);
    }

    [Fact]
    public void Backward_accumulates_repeated_ids_overwrites_and_zeroes_the_input_gradient()
    {
        var emb = new Embedding(4, 2);
        var h = new LayerHarness(emb, new TensorShape(3), 2);
        float[] ids = [1f, 3f, 1f, 0f, 1f, 3f];
        float[] g = [1f, 2f, 10f, 20f, 100f, 200f, 3f, 4f, 5f, 6f, 7f, 8f];
        var (_, dx, dp) = h.ForwardBackward(ids, g, fillGradients: 123f);
        Assert.Equal([3f, 4f, 106f, 208f, 0f, 0f, 17f, 28f], dp);
        Assert.All(dx!, v => Assert.Equal(0f, v));
        var (_, _, again) = h.ForwardBackward(ids, g, fillGradients: -5f);
        Assert.Equal(dp, again);
    }

    [Fact]
    public void Weight_gradient_matches_finite_differences()
    {
        var h = new LayerHarness(new Embedding(6, 5), new TensorShape(7), 3, initSeed: 4);
        var rng = new Rng(2);
        var ids = new float[h.InputLength];
        for (int i = 0; i < ids.Length; i++) ids[i] = rng.NextInt(5);   // id 5 never used: zero gradient row
        var g = LayerHarness.Random(h.OutputLength, 3);
        Assert.True(h.MaxParameterGradientError(ids, g) < 1e-3);
    }

    [Theory]
    [InlineData(5f, "5")]
    [InlineData(-1f, "-1")]
    [InlineData(1.5f, "1.5")]
    [InlineData(float.NaN, "NaN")]
    public void Rejects_invalid_ids_with_id_and_position(float bad, string text)
    {
        var h = new LayerHarness(new Embedding(5, 2), new TensorShape(3), 2);
        var e = Assert.Throws<ArgumentException>(() => h.Forward([0f, 1f, 2f, 3f, bad, 4f]));
        Assert.Contains($"token id {text} at example 1, position 1", e.Message);
    }

    [Fact]
    public void Validation_and_init()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(3, -1));
        var h = new LayerHarness(new Embedding(100, 40), new TensorShape(1), 1);
        double mean = h.Parameters.Average(v => (double)v);
        double variance = h.Parameters.Average(v => (v - mean) * (v - mean));
        Assert.True(Math.Abs(mean) < 0.05 && Math.Abs(variance - 1) < 0.05, $"init mean {mean} variance {variance}");   // N(0, 1) as PyTorch
    }
}
