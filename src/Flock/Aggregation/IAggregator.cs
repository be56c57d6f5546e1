namespace Flock.Aggregation;

/// <summary>
/// An aggregation rule as a pure function of a set of flat vectors: weighted mean, median, Krum,
/// ... A rule holds no per-round state, so one instance serves every node and thread; it never
/// knows whether it runs in a simulation or a deployment.
/// </summary>
public interface IAggregator
{
    /// <summary>Name in the registry (e.g. "mean").</summary>
    string Name { get; }

    /// <summary>
    /// Aggregates <paramref name="inputs"/> (all of <paramref name="output"/>'s length) into
    /// <paramref name="output"/>. <paramref name="weights"/> are non-negative relative weights, one
    /// per input (sample counts, mixing weights); rules that ignore weights say so.
    /// <paramref name="output"/> must not overlap any input.
    /// </summary>
    /// <exception cref="ArgumentException">No inputs, lengths disagree, or the weights are invalid for this rule.</exception>
    void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output);
}
