namespace Flock.Aggregation;

// Temporary copy of the aggregator contract so the Attacks layer compiles on its own; the real file
// (owned by the aggregation helper, identical interface) replaces it at merge.

/// <summary>Aggregates vectors (models or updates) into one. Pure: no state between calls.</summary>
public interface IAggregator
{
    /// <summary>Name in the registry (e.g. "krum").</summary>
    string Name { get; }

    /// <summary>Aggregates <paramref name="inputs"/> (weighted by <paramref name="weights"/>) into <paramref name="output"/>.</summary>
    void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output);
}
