using Flock.Aggregation;

namespace Flock.Tests.Attacks;

/// <summary>Plain (unweighted) mean, written independently of the Aggregation layer for the attack tests; counts its calls.</summary>
internal sealed class TestMean : IAggregator
{
    public int Calls { get; private set; }

    public string Name => "test-mean";

    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output)
    {
        Calls++;
        Assert.Equal(inputs.Count, weights.Length);
        for (int j = 0; j < output.Length; j++)
        {
            double s = 0;
            for (int i = 0; i < inputs.Count; i++) s += inputs[i].Span[j];
            output[j] = (float)(s / inputs.Count);
        }
    }
}

/// <summary>Coordinate-wise median (mean of the two middle values for an even count), for the attack tests; counts its calls.</summary>
internal sealed class TestCoordinateWiseMedian : IAggregator
{
    public int Calls { get; private set; }

    public string Name => "test-median";

    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output)
    {
        Calls++;
        int k = inputs.Count;
        var column = new float[k];
        for (int j = 0; j < output.Length; j++)
        {
            for (int i = 0; i < k; i++) column[i] = inputs[i].Span[j];
            Array.Sort(column);
            output[j] = k % 2 == 1 ? column[k / 2] : 0.5f * (column[k / 2 - 1] + column[k / 2]);
        }
    }
}
