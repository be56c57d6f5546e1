using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Weighted mean <c>Σᵢ wᵢ xᵢ / Σᵢ wᵢ</c>: FedAvg's sample-count-weighted average and D-SGD's
/// mixing step (with the weights renormalised over the inputs present). Computed in float, inputs
/// accumulated in the order given, so the result is reproducible.
/// </summary>
public sealed class Mean : IAggregator
{
    /// <summary>The shared instance.</summary>
    public static Mean Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "mean";

    /// <inheritdoc />
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("Cannot average zero vectors.", nameof(inputs));
        if (weights.Length != inputs.Count) throw new ArgumentException($"Got {weights.Length} weights for {inputs.Count} inputs.", nameof(weights));
        double total = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i];
            if (!(w >= 0) || float.IsInfinity(w)) throw new ArgumentException($"Invalid weight {w} for input {i}; weights must be finite and ≥ 0.", nameof(weights));
            if (inputs[i].Length != output.Length) throw new ArgumentException($"Input {i} has {inputs[i].Length} elements but the output has {output.Length}.", nameof(inputs));
            total += w;
        }
        if (!(total > 0)) throw new ArgumentException("The weights sum to 0; at least one must be positive.", nameof(weights));
        Span<float> coefs = inputs.Count <= 64 ? stackalloc float[inputs.Count] : new float[inputs.Count];
        for (int i = 0; i < coefs.Length; i++) coefs[i] = weights[i] == 0 ? 0f : (float)(weights[i] / total);
        ScaledSum.Run(inputs, coefs, output);
    }
}
