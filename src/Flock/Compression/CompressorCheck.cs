using System.Globalization;

namespace Flock.Compression;

/// <summary>Argument validation shared by the compressors: messages name the bad value and what is allowed.</summary>
internal static class CompressorCheck
{
    public static int Dimension(int dimension)
    {
        if (dimension < 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Invalid dimension: {dimension}; must be ≥ 0.");
        return dimension;
    }

    /// <summary>Converts a byte or float count computed in 64 bits to int, or throws if no array can hold it.</summary>
    public static int Length(long length, int dimension, string what)
    {
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Dimension {dimension} is too large: the {what} would need {length} elements, more than the largest array ({Array.MaxLength}).");
        return (int)length;
    }

    public static void EncodeArguments(ICompressor compressor, ReadOnlySpan<float> input, ReadOnlySpan<float> state, Span<byte> destination)
    {
        int expectedState = compressor.StateLength(input.Length);
        if (state.Length != expectedState)
            throw new ArgumentException($"State length {state.Length} differs from the {expectedState} floats '{compressor.Name}' needs for {input.Length} entries.", nameof(state));
        int max = compressor.MaxEncodedLength(input.Length);
        if (destination.Length < max)
            throw new ArgumentException($"Destination has {destination.Length} bytes but '{compressor.Name}' needs MaxEncodedLength = {max} bytes for {input.Length} entries.", nameof(destination));
    }

    public static double Density(double density, string paramName)
    {
        if (!(density > 0 && density <= 1))
            throw new ArgumentOutOfRangeException(paramName, density, $"Invalid density: {density.ToString(CultureInfo.InvariantCulture)}; must be in (0, 1] (fraction of entries kept).");
        return density;
    }

    public static int Count(int count, string paramName, string what)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(paramName, count, $"Invalid {what}: {count}; must be ≥ 1.");
        return count;
    }

    /// <summary>k = clamp(⌈density·d⌉, 1, d) (0 when d = 0): DGC's <c>ceil(numel · ratio)</c>.</summary>
    public static int CountFromDensity(double density, int dimension)
    {
        if (dimension == 0) return 0;
        double k = Math.Ceiling(density * dimension);
        return (int)Math.Clamp(k, 1, dimension);
    }

    public static float PositiveFinite(float value, string paramName, string what)
    {
        if (!(value > 0) || float.IsPositiveInfinity(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"Invalid {what}: {value.ToString(CultureInfo.InvariantCulture)}; must be a finite value > 0.");
        return value;
    }

    public static float NonNegativeFinite(float value, string paramName, string what)
    {
        if (!(value >= 0) || float.IsPositiveInfinity(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"Invalid {what}: {value.ToString(CultureInfo.InvariantCulture)}; must be a finite value ≥ 0.");
        return value;
    }
}
