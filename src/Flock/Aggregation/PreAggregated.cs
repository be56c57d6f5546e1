using Flock.Aggregation.Kernels;
using Flock.Tensors;

namespace Flock.Aggregation;

/// <summary>
/// A pre-aggregator followed by an aggregation rule, itself a rule: named
/// "<c>pre</c>+<c>rule</c>" (e.g. "nnm+trimmed-mean"). The rule's preconditions apply to the
/// pre-aggregator's output count (bucketing shrinks n to ⌈n/s⌉). The intermediate vectors live in a
/// per-thread scratch buffer reused across calls (about n·d floats for NNM), pinned during the call,
/// each starting on a 64-byte boundary.
/// <para>
/// Randomness (bucketing): <see cref="Aggregate(IReadOnlyList{ReadOnlyMemory{float}}, ReadOnlySpan{float}, Span{float}, ulong)"/>
/// takes the call's seed explicitly — protocols should derive it per node and round. The
/// <see cref="IAggregator"/> overload derives it from <see cref="Seed"/> and a hash of the inputs
/// (count, length and a few sampled coordinates), so it is deterministic and changes from round to
/// round; an omniscient adversary could in principle grind that hash, so prefer the explicit seed.
/// </para>
/// </summary>
public sealed class PreAggregated : IAggregator
{
    /// <summary>Composes <paramref name="pre"/> then <paramref name="rule"/>.</summary>
    /// <param name="pre">The pre-aggregator.</param>
    /// <param name="rule">The rule applied to the pre-aggregator's outputs.</param>
    /// <param name="seed">Base seed for randomised pre-aggregators when no per-call seed is given.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pre"/> or <paramref name="rule"/> is null.</exception>
    public PreAggregated(IPreAggregator pre, IAggregator rule, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(pre);
        ArgumentNullException.ThrowIfNull(rule);
        Pre = pre;
        Rule = rule;
        Seed = seed;
    }

    /// <summary>The pre-aggregator.</summary>
    public IPreAggregator Pre { get; }

    /// <summary>The aggregation rule.</summary>
    public IAggregator Rule { get; }

    /// <summary>Base seed of the <see cref="IAggregator"/> overload.</summary>
    public ulong Seed { get; }

    /// <inheritdoc />
    public string Name => $"{Pre.Name}+{Rule.Name}";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Invalid inputs, or a precondition of the pre-aggregator or the rule fails.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output)
    {
        AggregationGuard.Validate(Name, inputs, weights, output.Length);
        Aggregate(inputs, weights, output, CallSeed(inputs));
    }

    /// <summary>Runs the pre-aggregator with randomness from <paramref name="seed"/>, then the rule.</summary>
    /// <exception cref="ArgumentException">Invalid inputs, the intermediate vectors exceeding the largest array,
    /// or a precondition of the pre-aggregator or the rule fails.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, ulong seed)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        int d = output.Length;
        int m = Pre.OutputCount(n);
        // Rows start on 64-byte boundaries (stride rounded up to 16 floats) so kernels can stream them.
        long stride = (d + 15) / 16 * 16;
        long total = m * stride + 16;
        if (total > Array.MaxLength)
            throw new ArgumentException($"{Name}: {m} intermediate vectors of {d} floats exceed the largest array ({Array.MaxLength} elements).", nameof(inputs));
        var buffer = ScratchPool<float>.Rent((int)total);
        var outWeights = ScratchPool<float>.Rent(m);
        try
        {
            unsafe
            {
                fixed (float* b = buffer)
                {
                    int first = (int)((64 - ((nint)b & 63)) & 63) / sizeof(float);
                    var outs = new Memory<float>[m];
                    var ins = new ReadOnlyMemory<float>[m];
                    for (int k = 0; k < m; k++) ins[k] = outs[k] = new Memory<float>(buffer, first + (int)(k * stride), d);
                    Pre.Apply(inputs, weights, outs, outWeights.AsSpan(0, m), seed);
                    Rule.Aggregate(ins, outWeights.AsSpan(0, m), output);
                }
            }
        }
        finally
        {
            ScratchPool<float>.Return(buffer);
            ScratchPool<float>.Return(outWeights);
        }
    }

    private ulong CallSeed(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        int n = inputs.Count, d = inputs[0].Length;
        ulong h = Rng.DeriveSeed(Seed, (ulong)n, (ulong)d);
        Span<ulong> bits = stackalloc ulong[4];
        for (int i = 0; i < n; i++)
        {
            var s = inputs[i].Span;
            for (int q = 0; q < 4; q++)
                bits[q] = d == 0 ? 0 : (ulong)BitConverter.SingleToUInt32Bits(s[(int)((long)(d - 1) * q / 3)]);
            h = Rng.DeriveSeed(h, bits);
        }
        return h;
    }
}
