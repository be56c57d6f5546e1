using System.Globalization;

namespace Flock.Topology.Generators;

/// <summary>Validation helpers shared by the generators.</summary>
internal static class GeneratorChecks
{
    public static void NodeCountAtLeast(int nodeCount, int min, string generator, string why)
    {
        if (nodeCount < min)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount,
                $"Invalid node count for {generator}: {nodeCount}; must be ≥ {min} ({why}).");
    }

    public static int Positive(int value, string name, string generator)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"Invalid {name} for {generator}: {value}; must be an integer ≥ 1.");
        return value;
    }

    public static int Attempts(int maxAttempts, string generator)
    {
        if (maxAttempts < 1 || maxAttempts > 1_000_000)
            throw new ArgumentOutOfRangeException(nameof(maxAttempts), maxAttempts, $"Invalid max-attempts for {generator}: {maxAttempts}; must be in [1, 1000000].");
        return maxAttempts;
    }

    public static string F(double x) => x.ToString("G4", CultureInfo.InvariantCulture);
}
