namespace Flock.Aggregation;

// Temporary copy of the aggregator contract so this folder compiles on its own; the file
// IAggregator.cs (created by another helper, identical) replaces it at merge.

/// <summary>Aggregates vectors (models or updates) into one. Pure: no state between calls.</summary>
public interface IAggregator
{
    /// <summary>Name in the registry (e.g. "krum", "nnm+trimmed-mean").</summary>
    string Name { get; }

    /// <summary>
    /// Aggregates <paramref name="inputs"/> (all of the output's length) into <paramref name="output"/>.
    /// <paramref name="weights"/> are per-input sample counts or mixing weights (one per input, or
    /// empty for uniform); robust rules ignore them unless documented otherwise.
    /// </summary>
    void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output);
}
