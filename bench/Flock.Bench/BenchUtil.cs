using System.Diagnostics;

namespace Flock.Bench;

/// <summary>Small helpers shared by the benchmarks.</summary>
internal static class BenchUtil
{
    /// <summary>The repository root (the folder holding Flock.slnx), found from the working directory or the binary.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Flock.slnx"))) return d.FullName;
        }
        throw new InvalidOperationException("Cannot find the repository root (Flock.slnx) above the working directory or the binary.");
    }

    /// <summary>Median of a list (the list is sorted in place).</summary>
    public static double Median(List<double> xs)
    {
        xs.Sort();
        int n = xs.Count;
        return n % 2 == 1 ? xs[n / 2] : 0.5 * (xs[n / 2 - 1] + xs[n / 2]);
    }

    /// <summary>Best (smallest) seconds of <paramref name="reps"/> timed calls of <paramref name="action"/>, after one untimed warm-up call (JIT, pools, page faults).</summary>
    public static double Best(int reps, Action action)
    {
        action();
        double best = double.PositiveInfinity;
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return best;
    }

    /// <summary>
    /// Best seconds of copying <paramref name="source"/> into <paramref name="destination"/>: the faster of a
    /// one-thread copy and a copy split into <see cref="Flock.Tensors.KernelParallelism.MaxThreads"/> contiguous
    /// parts on as many threads (best of <paramref name="reps"/> each). Benchmarks whose kernels use several
    /// threads compare against this, the machine's copy bandwidth rather than one core's.
    /// </summary>
    public static double Memcpy<T>(int reps, T[] source, Memory<T> destination) => MemcpyBoth(reps, source, destination).Best;

    /// <summary><see cref="Memcpy"/> with both timings: one thread, and split over the kernel threads (NaN with one kernel thread).</summary>
    public static (double Best, double One, double Split) MemcpyBoth<T>(int reps, T[] source, Memory<T> destination)
    {
        double one = Best(reps, () => source.AsSpan().CopyTo(destination.Span));
        int threads = Flock.Tensors.KernelParallelism.MaxThreads;
        if (threads < 2) return (one, one, double.NaN);
        int part = (source.Length + threads - 1) / threads;
        double split = Best(reps, () => Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, k =>
        {
            int start = Math.Min(source.Length, k * part), len = Math.Min(part, source.Length - start);
            source.AsSpan(start, len).CopyTo(destination.Span.Slice(start, len));
        }));
        return (Math.Min(one, split), one, split);
    }

    /// <summary>Seconds per call of <paramref name="action"/>, averaged over <paramref name="reps"/> back-to-back calls.</summary>
    public static double TimePerCall(Action action, int reps)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < reps; i++) action();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds / reps;
    }

    /// <summary>Number of repetitions so that one batch takes about <paramref name="targetSeconds"/>.</summary>
    public static int RepsFor(Action action, double targetSeconds)
    {
        double t = TimePerCall(action, 1);
        return (int)Math.Clamp(targetSeconds / Math.Max(t, 1e-9), 1, 1_000_000);
    }

    /// <summary>Formats a double with invariant culture and the given number of decimals.</summary>
    public static string F(double x, int decimals = 3) => x.ToString("F" + decimals, System.Globalization.CultureInfo.InvariantCulture);
}
