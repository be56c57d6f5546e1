namespace Flock.Aggregation;

/// <summary>
/// A pre-aggregator: maps the n input vectors to <see cref="OutputCount"/>(n) vectors that are then
/// fed to any aggregation rule (see <see cref="PreAggregated"/>). Pure: no state between calls;
/// randomised pre-aggregators (bucketing) draw only from the <c>seed</c> argument, so the same
/// inputs and seed always give the same result.
/// </summary>
public interface IPreAggregator
{
    /// <summary>Name in the registry (e.g. "nnm", "bucketing").</summary>
    string Name { get; }

    /// <summary>Number of vectors produced from <paramref name="inputCount"/> inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputCount"/> is not positive.</exception>
    int OutputCount(int inputCount);

    /// <summary>
    /// Transforms <paramref name="inputs"/> into <see cref="OutputCount"/>(n) vectors written to
    /// <paramref name="outputs"/> (each of the inputs' length, none overlapping an input), and
    /// writes one weight per output to <paramref name="outputWeights"/> (what the following rule
    /// receives as its weights).
    /// </summary>
    /// <param name="inputs">The n input vectors, all of the same length.</param>
    /// <param name="weights">Per-input weights (sample counts), or empty for uniform.</param>
    /// <param name="outputs">Destination vectors; exactly <see cref="OutputCount"/>(n) of them.</param>
    /// <param name="outputWeights">Destination weights; exactly <see cref="OutputCount"/>(n) of them.</param>
    /// <param name="seed">Seed of the call's randomness (ignored by deterministic pre-aggregators);
    /// derive it per node and round, e.g. with <c>Rng.DeriveSeed</c>.</param>
    /// <exception cref="ArgumentException">No inputs, lengths disagree, wrong output count, or a
    /// precondition of the pre-aggregator (e.g. NNM's f &lt; n) does not hold.</exception>
    void Apply(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights,
        IReadOnlyList<Memory<float>> outputs, Span<float> outputWeights, ulong seed);
}
