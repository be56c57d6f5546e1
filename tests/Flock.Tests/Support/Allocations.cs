namespace Flock.Tests;

/// <summary>Allocation measurements for steady-state tests.</summary>
internal static class Allocations
{
    /// <summary>
    /// Bytes <paramref name="run"/> allocates on this thread once warm: one untimed call, then the
    /// fewest bytes of <paramref name="attempts"/> timed calls. The runtime itself (tiered JIT,
    /// on-stack replacement) occasionally allocates on the calling thread; code that allocates on
    /// every call still shows it in every attempt.
    /// </summary>
    public static long SteadyState(Action run, int attempts = 3)
    {
        run();
        long fewest = long.MaxValue;
        for (int a = 0; a < attempts && fewest > 0; a++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            run();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
