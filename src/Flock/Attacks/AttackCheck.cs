namespace Flock.Attacks;

/// <summary>Validation helpers shared by the attacks: messages name the bad value and the allowed range.</summary>
internal static class AttackCheck
{
    public static float Finite(float value, string paramName, string what)
    {
        if (!float.IsFinite(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"Invalid {what}: {value}; must be a finite value.");
        return value;
    }

    public static float NonNegative(float value, string paramName, string what)
    {
        if (!(value >= 0) || float.IsPositiveInfinity(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"Invalid {what}: {value}; must be a finite value ≥ 0.");
        return value;
    }

    public static float Positive(float value, string paramName, string what)
    {
        if (!(value > 0) || float.IsPositiveInfinity(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"Invalid {what}: {value}; must be a finite value > 0.");
        return value;
    }

    public static int AtLeast(int value, int min, string paramName, string what)
    {
        if (value < min)
            throw new ArgumentOutOfRangeException(paramName, value, $"Invalid {what}: {value}; must be ≥ {min}.");
        return value;
    }

    /// <summary>Checks a context against an output buffer: every vector has the output's length, 0 ≤ f ≤ n.</summary>
    public static void Context(AttackContext context, int outputLength, string attack)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Own.Length != outputLength)
            throw new ArgumentException($"{attack}: the output has {outputLength} elements but the attacker's own vector has {context.Own.Length}.", "output");
        var honest = context.Honest;
        for (int i = 0; i < honest.Count; i++)
            if (honest[i].Length != outputLength)
                throw new ArgumentException($"{attack}: honest vector {i} has {honest[i].Length} elements; expected {outputLength} (the output's length).", nameof(context));
        if (context.NodeCount < 1)
            throw new ArgumentOutOfRangeException(nameof(context), context.NodeCount, $"{attack}: invalid node count n = {context.NodeCount}; must be ≥ 1.");
        if (context.ByzantineCount < 0 || context.ByzantineCount > context.NodeCount)
            throw new ArgumentOutOfRangeException(nameof(context), context.ByzantineCount, $"{attack}: invalid Byzantine count f = {context.ByzantineCount}; must be in [0, n = {context.NodeCount}].");
    }
}
