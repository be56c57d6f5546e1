using System.Numerics.Tensors;
using Flock.Aggregation;
using Flock.Tensors;

namespace Flock.Tests.Aggregation;

public class MeanFusedTests
{
    [Theory]
    [InlineData(1, 5)]
    [InlineData(5, 101_770)]
    [InlineData(3, 2049)]
    [InlineData(9, 17)]
    public void Mean_is_bit_identical_to_one_pass_per_input(int k, int d)
    {
        // The fused block-wise kernel must reproduce x₀·c₀ then (+ xᵢ·cᵢ) per input, rounding each step.
        var rng = new Rng((ulong)(k * 7919 + d));
        var inputs = new ReadOnlyMemory<float>[k];
        var weights = new float[k];
        for (int i = 0; i < k; i++)
        {
            var x = new float[d];
            rng.FillUniform(x, -3f, 3f);
            inputs[i] = x;
            weights[i] = i == 1 ? 0f : 0.25f + i;
        }
        if (k == 1) weights[0] = 2f;
        double total = weights.Sum(w => (double)w);
        var expected = new float[d];
        int first = 0;
        while (weights[first] == 0) first++;
        TensorPrimitives.Multiply(inputs[first].Span, (float)(weights[first] / total), expected);
        for (int i = first + 1; i < k; i++)
            if (weights[i] != 0) TensorPrimitives.MultiplyAdd(inputs[i].Span, (float)(weights[i] / total), expected, expected);
        var got = new float[d];
        Mean.Instance.Aggregate(inputs, weights, got);
        Assert.Equal(expected, got);
    }

    [Fact]
    public void Zero_weight_input_is_not_read()
    {
        var output = new float[2];
        Mean.Instance.Aggregate(new ReadOnlyMemory<float>[] { new[] { float.NaN, float.NaN }, new float[] { 2, 4 } }, new float[] { 0, 3 }, output);
        Assert.Equal(new float[] { 2, 4 }, output);
    }
}

public class MeanLongVectorTests
{
    [Theory]
    [InlineData(1 << 16)]
    [InlineData((1 << 17) + 37)]
    [InlineData(300_001)]
    public void Long_vectors_are_bit_identical_to_one_pass_per_input(int d)
    {
        var rng = new Flock.Tensors.Rng((ulong)d);
        var xs = Enumerable.Range(0, 5).Select(_ => { var a = new float[d]; rng.FillGaussian(a); return a; }).ToArray();
        float[] w = { 0.2f, 0.3f, 0f, 0.1f, 0.4f };
        var got = new float[d];
        Flock.Aggregation.Mean.Instance.Aggregate(xs.Select(x => (ReadOnlyMemory<float>)x).ToArray(), w, got);
        double total = w.Sum(v => (double)v);
        var expected = new float[d];
        bool first = true;
        for (int i = 0; i < xs.Length; i++)
        {
            if (w[i] == 0) continue;
            float c = (float)(w[i] / total);
            for (int j = 0; j < d; j++) expected[j] = first ? xs[i][j] * c : expected[j] + xs[i][j] * c;
            first = false;
        }
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), got.Select(BitConverter.SingleToInt32Bits));
    }
}
