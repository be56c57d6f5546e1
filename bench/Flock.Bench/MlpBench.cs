using System.Diagnostics;
using System.Globalization;
using Flock.Data;
using Flock.Models.Engine;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Bench;

/// <summary>
/// `bench/run.sh mlp`: MLP 784-128-10 (ReLU), SGD lr 0.05, batch 32, one epoch of Fashion-MNIST,
/// Flock vs PyTorch (bench/reference/mlp_epoch.py), one thread each, alternating runs; medians.
/// Both time only the training loop (batch gathering included), not data loading or evaluation.
/// Accuracies are the mean over the repetitions (each has its own seed: one epoch varies by about a point).
/// </summary>
public static class MlpBench
{
    /// <summary>Runs the benchmark; args: [repetitions (default 3)].</summary>
    public static int Run(string[] args)
    {
        int reps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        var (train, test) = FashionMnist.Load();
        var flockTimes = new List<double>();
        var torchTimes = new List<double>();
        double flockAcc = 0, torchAcc = 0, flockAccSum = 0, torchAccSum = 0;
        for (int r = 0; r < reps; r++)
        {
            var (sec, acc) = FlockEpoch(train, test, (ulong)(r + 1));
            flockTimes.Add(sec);
            flockAcc = acc;
            flockAccSum += acc;
            var py = PythonReference.Run("mlp_epoch.py", (r + 1).ToString(CultureInfo.InvariantCulture));
            double ps = double.Parse(py["pytorch_seconds"], CultureInfo.InvariantCulture);
            torchTimes.Add(ps);
            torchAcc = double.Parse(py["pytorch_acc"], CultureInfo.InvariantCulture);
            torchAccSum += torchAcc;
            Console.WriteLine($"run {r + 1}: flock {BenchUtil.F(sec)} s (acc {BenchUtil.F(acc, 4)}), pytorch {BenchUtil.F(ps)} s (acc {BenchUtil.F(torchAcc, 4)})");
        }
        double f = BenchUtil.Median(flockTimes), t = BenchUtil.Median(torchTimes);
        Console.WriteLine($"per step: flock {BenchUtil.F(f / 1875 * 1e6, 1)} µs, pytorch {BenchUtil.F(t / 1875 * 1e6, 1)} µs");
        Console.WriteLine($"flock_vs_pytorch={BenchUtil.F(t / f, 2)} flock_seconds={BenchUtil.F(f, 4)} pytorch_seconds={BenchUtil.F(t, 4)} flock_acc={BenchUtil.F(flockAccSum / reps, 4)} pytorch_acc={BenchUtil.F(torchAccSum / reps, 4)}");
        return 0;
    }

    private static (double Seconds, double Accuracy) FlockEpoch(Dataset train, Dataset test, ulong seed)
    {
        var learner = Mlp.CreateClassifier(train.ExampleShape, new[] { 128 }, 10, WeightInit.TorchDefault);
        var p = new float[learner.Layout.Length];
        var g = new float[p.Length];
        learner.InitializeParameters(p, seed);
        var sgd = new Sgd(0.05f);
        var view = train.All();
        var order = Enumerable.Range(0, train.Count).ToArray();
        new Rng(seed).Shuffle(order.AsSpan());
        const int batch = 32;
        // Warm up on a throwaway copy until the JIT has promoted the hot methods to optimized code
        // (tiered compilation waits ~100 ms before recompiling what was called often), so the timed
        // epoch measures steady-state training, as PyTorch's precompiled kernels do.
        var warm = (float[])p.Clone();
        double warmSeconds = double.Parse(Environment.GetEnvironmentVariable("FLOCK_BENCH_WARMUP") ?? "0.5", CultureInfo.InvariantCulture);
        var warmClock = Stopwatch.StartNew();
        for (int i = 0, s = 0; warmClock.Elapsed.TotalSeconds < warmSeconds; i = (i + batch) % (order.Length - batch), s++)
        {
            learner.LossAndGradient(warm, view, order.AsSpan(i, batch), g);
            sgd.Step(warm, g, Span<float>.Empty, s + 1);
        }
        var sw = Stopwatch.StartNew();
        long step = 0;
        for (int i = 0; i + batch <= order.Length; i += batch)
        {
            learner.LossAndGradient(p, view, order.AsSpan(i, batch), g);
            sgd.Step(p, g, Span<float>.Empty, ++step);
        }
        double seconds = sw.Elapsed.TotalSeconds;
        return (seconds, learner.Evaluate(p, test.All()).Accuracy);
    }
}
