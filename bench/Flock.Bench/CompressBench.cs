using System.Diagnostics;
using System.Globalization;
using Flock.Compression;
using Flock.Tensors;

namespace Flock.Bench;

/// <summary>
/// Encode + decode throughput of every compressor on one large vector (default 10M floats), against
/// a memcpy of the same vector measured in the same process right before that compressor (memory
/// bandwidth on a shared machine drifts by tens of percent over seconds, so each compressor is
/// compared with its own adjacent memcpy). Prints one line per compressor and, last,
/// <c>slowest_vs_memcpy=&lt;ratio&gt;</c> (the smallest of the compressors' GB/s over their memcpy's GB/s).
/// Compressors use up to <see cref="KernelParallelism.MaxThreads"/> threads on large vectors; the memcpy is
/// the faster of a one-thread copy and a copy split over as many threads (<see cref="BenchUtil.Memcpy"/>).
/// Arguments: <c>--dim N</c> (entries), <c>--reps R</c> (best of R timings, default 5), <c>--only NAME</c>
/// (only the compressors with that registry name, e.g. for profiling), <c>--threads N</c> (threads per
/// kernel; 1 for one core).
/// </summary>
public static class CompressBench
{
    /// <summary>Runs the benchmark; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        int d = 10_000_000, reps = 5;
        string? only = null;
        for (int a = 0; a < args.Length; a++)
        {
            if (args[a] == "--dim" && a + 1 < args.Length) d = int.Parse(args[++a], CultureInfo.InvariantCulture);
            else if (args[a] == "--reps" && a + 1 < args.Length) reps = int.Parse(args[++a], CultureInfo.InvariantCulture);
            else if (args[a] == "--only" && a + 1 < args.Length) only = args[++a];
            else if (args[a] == "--threads" && a + 1 < args.Length && int.TryParse(args[++a], out int t) && t >= 1) KernelParallelism.MaxThreads = t;
            else
            {
                Console.Error.WriteLine($"Unknown or invalid argument '{args[a]}'. Usage: compress [--dim N] [--reps R] [--only NAME] [--threads N ≥ 1]");
                return 2;
            }
        }
        if (d < 1 || reps < 1)
        {
            Console.Error.WriteLine($"Invalid --dim {d} or --reps {reps}; both must be ≥ 1.");
            return 2;
        }

        var input = new float[d];
        var rng = new Rng(42);
        for (int i = 0; i < d; i++) input[i] = (float)rng.NextGaussian() * (1f + (i % 97) * 0.01f);
        var output = new float[d];
        double bytes = 4.0 * d;

        Console.WriteLine(FormattableString.Invariant($"d = {d}, best of {reps}, {KernelParallelism.MaxThreads} kernel thread(s); each compressor against a memcpy of the vector measured just before it"));
        Console.WriteLine($"{"compressor",-34} {"encode ms",10} {"decode ms",10} {"GB/s",8} {"payload B",12} {"ratio",8} {"memcpy GB/s",12} {"vs memcpy",10}");

        ICompressor[] compressors =
        [
            new Identity(),
            new TopK(0.01),
            new TopK(0.001),
            new RandomK(0.01),
            new DeepGradientCompression(finalDensity: 0.001),
            new ErrorFeedback(new ScaledSign()),
            new ScaledSign(),
            new Qsgd(levels: 7, bucketSize: 512),
            new Qsgd(levels: 127, bucketSize: 0),
            new Qsgd(levels: 1, bucketSize: 512),
            new RandomizedQuantization(clipBound: 1f, levels: 16, keepProbability: 0.5f, extension: 0.1f),
            new CountSketch(0.1),
            new CountSketch(0.01),
            new Srht(0.1),
        ];
        if (only is not null) compressors = compressors.Where(c => c.Name == only).ToArray();
        if (compressors.Length == 0)
        {
            Console.Error.WriteLine($"No compressor named '{only}'.");
            return 2;
        }
        WarmUp(compressors);
        double slowest = double.MaxValue;
        foreach (var c in compressors)
        {
            var state = new float[c.StateLength(d)];
            var payload = new byte[c.MaxEncodedLength(d)];
            int length = 0;
            long round = 1000;
            double memcpyGbs = bytes / BenchUtil.Memcpy(reps, input, output) / 1e9;
            double enc = BenchUtil.Best(reps, () => length = c.Encode(input, state, payload, new CompressionContext(7, 3, round++)));
            double dec = BenchUtil.Best(reps, () => c.Decode(payload.AsSpan(0, length), output));
            double gbs = bytes / (enc + dec) / 1e9;
            slowest = Math.Min(slowest, gbs / memcpyGbs);
            string label = c.Name + c switch
            {
                TopK t => FormattableString.Invariant($"({t.Density})"),
                RandomK k => FormattableString.Invariant($"({k.Density})"),
                DeepGradientCompression g => FormattableString.Invariant($"({g.FinalDensity})"),
                Qsgd q => $"(s={q.Levels},B={q.BucketSize})",
                RandomizedQuantization r => $"(m={r.Levels},q={r.KeepProbability.ToString(CultureInfo.InvariantCulture)})",
                CountSketch cs => FormattableString.Invariant($"({cs.Ratio})"),
                Srht h => FormattableString.Invariant($"({h.Ratio})"),
                _ => "",
            };
            Console.WriteLine(FormattableString.Invariant($"{label,-34} {enc * 1e3,10:F2} {dec * 1e3,10:F2} {gbs,8:F2} {length,12} {bytes / length,8:F1} {memcpyGbs,12:F2} {gbs / memcpyGbs,10:F3}"));
        }
        Console.WriteLine(FormattableString.Invariant($"slowest_vs_memcpy={slowest:F3}"));
        return 0;
    }

    /// <summary>
    /// Runs every compressor on a small vector until its methods are compiled at full optimization
    /// (tiered compilation promotes a method after 30 calls, once no new method has been compiled
    /// for 100 ms), so the timed runs measure steady-state code.
    /// </summary>
    private static void WarmUp(ICompressor[] compressors)
    {
        const int d = 1 << 16;
        var x = new float[d];
        new Rng(1).FillGaussian(x);
        var y = new float[d];
        for (int pass = 0; pass < 3; pass++)
        {
            foreach (var c in compressors)
            {
                var state = new float[c.StateLength(d)];
                var payload = new byte[c.MaxEncodedLength(d)];
                for (int r = 0; r < 40; r++)
                {
                    int n = c.Encode(x, state, payload, new CompressionContext(1, 1, r));
                    c.Decode(payload.AsSpan(0, n), y);
                    c.DecodeAdd(payload.AsSpan(0, n), y, 0.5f);
                }
            }
            Thread.Sleep(200);
        }
    }
}
