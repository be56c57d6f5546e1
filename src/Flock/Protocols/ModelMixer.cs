using Flock.Aggregation;

namespace Flock.Protocols;

/// <summary>
/// How a decentralized node combines its own model with the models it received in a round (the
/// mixing step of <see cref="DSgdNode"/>). Inputs come in node-id order with the node's own model
/// at <c>self</c>; the weights are the mixing weights (all 1 in the robust mode).
/// </summary>
internal abstract class ModelMixer
{
    /// <summary>
    /// Writes the mixed model to <paramref name="output"/> (which overlaps no input). May run on any
    /// thread: it depends only on its arguments; <paramref name="seed"/> keys randomised rules
    /// (derived per node and round by the caller).
    /// </summary>
    public abstract void Mix(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, int self, Span<float> output, ulong seed);

    /// <summary>The aggregator an optimised attack should target (the rule in use, or its closest <see cref="IAggregator"/> form).</summary>
    public abstract IAggregator TargetAggregator { get; }

    private readonly Dictionary<int, bool> _fits = new();

    /// <summary>Coordinates of the probe vectors of <see cref="CanMix"/> (enough for rules that need d ≥ a rank).</summary>
    internal const int ProbeDimension = 64;

    /// <summary>
    /// Whether the rule accepts <paramref name="inputs"/> models (its preconditions, e.g. 2f &lt; n
    /// for a trimmed mean, depend only on the count): tried once per count on distinct
    /// <see cref="ProbeDimension"/>-coordinate vectors and remembered. Thread-safe.
    /// </summary>
    public bool CanMix(int inputs)
    {
        lock (_fits)
        {
            if (_fits.TryGetValue(inputs, out bool ok)) return ok;
            var vectors = new ReadOnlyMemory<float>[inputs];
            for (int i = 0; i < inputs; i++)
            {
                var v = new float[ProbeDimension];
                for (int c = 0; c < v.Length; c++) v[c] = MathF.Sin(1.7f * i + 0.3f * c + 0.1f * i * c);
                vectors[i] = v;
            }
            var weights = new float[inputs];
            Array.Fill(weights, 1f);
            try
            {
                Mix(vectors, weights, 0, new float[ProbeDimension], 0);
                ok = true;
            }
            catch (ArgumentException)
            {
                ok = false;
            }
            _fits[inputs] = ok;
            return ok;
        }
    }

    /// <summary>Mixing with an <see cref="IAggregator"/> (D-SGD).</summary>
    public static ModelMixer For(IAggregator aggregator) => new AggregatorMixer(aggregator);

    private sealed class AggregatorMixer(IAggregator aggregator) : ModelMixer
    {
        public override IAggregator TargetAggregator => aggregator;

        public override void Mix(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, int self, Span<float> output, ulong seed)
        {
            // Randomised pre-aggregators (bucketing) draw from a seed derived per node and round.
            if (aggregator is PreAggregated pre) pre.Aggregate(inputs, weights, output, seed);
            else aggregator.Aggregate(inputs, weights, output);
        }
    }
}
