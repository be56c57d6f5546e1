namespace Flock.Optimizers;

/// <summary>Validation helpers shared by the optimizers: messages name the bad value and the allowed range.</summary>
internal static class Check
{
    public static float LearningRate(float value, string paramName)
    {
        if (!(value >= 0) || float.IsPositiveInfinity(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"Invalid learning rate: {value}; must be a finite value ≥ 0.");
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

    /// <summary>Value in [0, 1) (or [0, 1] when <paramref name="includeOne"/>).</summary>
    public static float Unit(float value, string paramName, string what, bool includeOne = false)
    {
        bool ok = value >= 0 && (includeOne ? value <= 1 : value < 1);
        if (!ok)
            throw new ArgumentOutOfRangeException(paramName, value, $"Invalid {what}: {value}; must be in [0, 1{(includeOne ? "]" : ")")}.");
        return value;
    }

    public static int ParameterCount(int parameterCount)
    {
        if (parameterCount < 0) throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, $"Invalid parameter count: {parameterCount}; must be ≥ 0.");
        return parameterCount;
    }

    /// <summary>Checks the buffers and step counter of a <c>Step</c> call.</summary>
    public static void StepArguments(ReadOnlySpan<float> parameters, ReadOnlySpan<float> gradient, ReadOnlySpan<float> state, int expectedState, long step)
    {
        if (gradient.Length != parameters.Length) throw new ArgumentException($"Gradient length {gradient.Length} differs from parameter length {parameters.Length}.", nameof(gradient));
        if (state.Length != expectedState) throw new ArgumentException($"State length {state.Length} differs from the {expectedState} floats this optimizer needs for {parameters.Length} parameters.", nameof(state));
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, $"Invalid step: {step}; steps are 1-based (must be ≥ 1).");
    }

    public static void SameLength(int expected, int actual, string paramName, string what)
    {
        if (actual != expected) throw new ArgumentException($"The {what} has {actual} elements but the parameters have {expected}.", paramName);
    }
}
