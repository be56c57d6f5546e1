namespace Flock.Aggregation.Kernels;

/// <summary>Argument checks shared by every rule; messages name the rule and the bad value.</summary>
internal static class AggregationGuard
{
    /// <summary>Checks inputs, weights and output; returns n.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException">No inputs, a length mismatch, or a weight count that is neither 0 nor n.</exception>
    public static int Validate(string rule, IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, int outputLength)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int n = inputs.Count;
        if (n == 0) throw new ArgumentException($"{rule}: no inputs to aggregate; at least one vector is required.", nameof(inputs));
        for (int i = 0; i < n; i++)
        {
            int len = inputs[i].Length;
            if (len != outputLength)
                throw new ArgumentException($"{rule}: input {i} has length {len} but the output has length {outputLength}; all vectors must have the same length.", nameof(inputs));
        }
        if (weights.Length != 0 && weights.Length != n)
            throw new ArgumentException($"{rule}: got {weights.Length} weights for {n} inputs; pass one weight per input or none (uniform).", nameof(weights));
        return n;
    }

    /// <summary>Checks a pre-aggregator's inputs (non-empty, equal lengths) and weights; returns n and the length d.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException">No inputs, a length mismatch, or a weight count that is neither 0 nor n.</exception>
    public static int ValidateInputs(string name, IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, out int d)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException($"{name}: no inputs; at least one vector is required.", nameof(inputs));
        d = inputs[0].Length;
        int n = inputs.Count;
        for (int i = 1; i < n; i++)
            if (inputs[i].Length != d)
                throw new ArgumentException($"{name}: input {i} has length {inputs[i].Length} but input 0 has length {d}; all vectors must have the same length.", nameof(inputs));
        if (weights.Length != 0 && weights.Length != n)
            throw new ArgumentException($"{name}: got {weights.Length} weights for {n} inputs; pass one weight per input or none (uniform).", nameof(weights));
        return n;
    }

    /// <summary>Checks a pre-aggregator's destinations: exactly <paramref name="count"/> vectors of length d and as many weights.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="outputs"/> is null.</exception>
    /// <exception cref="ArgumentException">Wrong count or length.</exception>
    public static void ValidateOutputs(string name, int n, int d, IReadOnlyList<Memory<float>> outputs, int outputWeightCount, int count)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Count != count)
            throw new ArgumentException($"{name}: got {outputs.Count} output vectors for {n} inputs; needs exactly {count}.", nameof(outputs));
        if (outputWeightCount != count)
            throw new ArgumentException($"{name}: got {outputWeightCount} output weights for {count} output vectors; needs exactly {count}.", "outputWeights");
        for (int k = 0; k < count; k++)
            if (outputs[k].Length != d)
                throw new ArgumentException($"{name}: output {k} has length {outputs[k].Length} but the inputs have length {d}.", nameof(outputs));
    }

    /// <summary>Checks that weights are finite, ≥ 0 and not all zero (empty means uniform).</summary>
    /// <exception cref="ArgumentException">A bad weight or a zero total.</exception>
    public static void ValidateWeightValues(string rule, ReadOnlySpan<float> weights)
    {
        double total = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i];
            if (!(w >= 0) || float.IsPositiveInfinity(w))
                throw new ArgumentException($"{rule}: invalid weight {w} for input {i}; weights must be finite and ≥ 0.", nameof(weights));
            total += w;
        }
        if (weights.Length != 0 && !(total > 0))
            throw new ArgumentException($"{rule}: all {weights.Length} weights are zero; at least one must be positive.", nameof(weights));
    }

    /// <summary>Checks a Byzantine count f ≥ 0 at construction.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="f"/> is negative.</exception>
    public static int NonNegativeF(string rule, int f) =>
        f >= 0 ? f : throw new ArgumentOutOfRangeException(nameof(f), f, $"{rule}: invalid number of Byzantine inputs f = {f}; must be ≥ 0.");

    /// <summary>Throws the standard precondition error: "<paramref name="rule"/> needs <paramref name="bound"/>: got n = …, f = …".</summary>
    /// <exception cref="ArgumentException">Always.</exception>
    public static Exception Precondition(string rule, string bound, int n, int f, string? detail = null) =>
        new ArgumentException($"{rule} needs {bound}, but got n = {n} inputs with f = {f}{(detail is null ? "" : " " + detail)}.");

    /// <summary>The i-th weight, or 1 when <paramref name="weights"/> is empty.</summary>
    public static float WeightAt(ReadOnlySpan<float> weights, int i) => weights.Length == 0 ? 1f : weights[i];
}
