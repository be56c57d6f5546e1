using System.Diagnostics;
using Flock.Aggregation;
using Flock.Tensors;

namespace Flock.Bench;

/// <summary>
/// Aggregation throughput: Krum, coordinate-wise median and NNM on n vectors of d floats
/// (default 50 × 1M), each reported as effective GB/s (bytes of input read once ÷ best time), against
/// memcpy bandwidth measured in the same process right before that rule (copying n·d floats; memory
/// bandwidth on a shared machine drifts over seconds). Last line: <c>slowest_vs_memcpy=&lt;ratio&gt;</c>
/// (the smallest of the rules' GB/s ÷ their memcpy's GB/s). The rules use
/// <see cref="KernelParallelism.MaxThreads"/> threads (default: every core); the memcpy is the faster
/// of a one-thread copy and a copy split over the same number of threads, so the reference is the
/// machine's memory bandwidth, not one core's.
/// Options: <c>--n=50 --d=1000000 --f=12 --reps=5 --threads=N</c> (threads per kernel; 1 for one core).
/// </summary>
public static class AggBench
{
    /// <summary>Runs the benchmark and prints results; returns 0.</summary>
    public static int Run(string[] args)
    {
        int n = Option(args, "n", 50), d = Option(args, "d", 1_000_000), f = Option(args, "f", 12), reps = Option(args, "reps", 5);
        KernelParallelism.MaxThreads = Option(args, "threads", KernelParallelism.MaxThreads);
        var flat = new float[(long)n * d];
        new Rng(42).FillUniform(flat, -1f, 1f);
        var inputs = new ReadOnlyMemory<float>[n];
        for (int i = 0; i < n; i++) inputs[i] = new ReadOnlyMemory<float>(flat, i * d, d);
        // NNM's outputs laid out as PreAggregated lays them out: pinned, rows on 64-byte boundaries.
        int stride = (d + 15) / 16 * 16;
        var mixed = GC.AllocateUninitializedArray<float>(n * stride + 16, pinned: true);
        int first;
        unsafe
        {
            fixed (float* m0 = mixed) first = (int)((64 - ((nint)m0 & 63)) & 63) / sizeof(float);
        }
        var outs = new Memory<float>[n];
        for (int i = 0; i < n; i++) outs[i] = new Memory<float>(mixed, first + i * stride, d);
        var output = new float[d];
        var outWeights = new float[n];
        double bytes = 4.0 * n * d;

        Console.WriteLine($"aggregation bench: n = {n}, d = {d}, f = {f}, best of {reps}, {KernelParallelism.MaxThreads} kernel thread(s); each rule against a memcpy measured just before it");

        var krum = new Krum(f);
        var median = new CoordinateWiseMedian();
        var nnm = new NearestNeighborMixing(f);
        var rules = new (string Name, Action Run)[]
        {
            ("krum", () => krum.Aggregate(inputs, ReadOnlySpan<float>.Empty, output)),
            ("median", () => median.Aggregate(inputs, ReadOnlySpan<float>.Empty, output)),
            ("nnm", () => nnm.Apply(inputs, ReadOnlySpan<float>.Empty, outs, outWeights, 0)),
        };
        double slowest = double.PositiveInfinity;
        foreach (var (name, run) in rules)
        {
            var (memcpy, one, split) = BenchUtil.MemcpyBoth(reps, flat, mixed.AsMemory(first, flat.Length));
            double memcpyGbs = bytes / memcpy / 1e9;
            double t = BenchUtil.Best(reps, run);
            double gbs = bytes / t / 1e9;
            slowest = Math.Min(slowest, gbs / memcpyGbs);
            Console.WriteLine($"{name,-16} {t * 1e3,8:F1} ms  {gbs,6:F2} GB/s  (memcpy {memcpy * 1e3:F1} ms = {memcpyGbs:F2} GB/s [1 thread {one * 1e3:F1} ms, split {split * 1e3:F1} ms]; {gbs / memcpyGbs:F2} × memcpy)");
        }
        Console.WriteLine($"slowest_vs_memcpy={slowest:F3}");
        return 0;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        foreach (var a in args)
            if (a.StartsWith($"--{name}=", StringComparison.Ordinal) && int.TryParse(a.AsSpan(name.Length + 3), out int v)) return v;
        return fallback;
    }
}
