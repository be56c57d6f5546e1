using System.Diagnostics;
using System.Globalization;
using Flock.Data;
using Flock.Models;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Bench;

/// <summary>
/// `bench/run.sh cnn`: LeNet-5 (Models/Zoo/LeNet5.cs) on Fashion-MNIST 28×28, SGD lr 0.01, batch 32:
/// training steps per second (batch gathering, forward, backward, update), Flock vs PyTorch
/// (bench/reference/cnn_steps.py, same architecture), one thread each, alternating runs; medians.
/// Both warm up before timing (Flock until the JIT has tiered up the hot methods).
/// Last line: <c>flock_vs_pytorch=… flock_steps_per_second=… pytorch_steps_per_second=…</c>.
/// </summary>
public static class CnnBench
{
    /// <summary>Runs the benchmark; args: [repetitions (default 3)] [steps per run (default 400)].</summary>
    public static int Run(string[] args)
    {
        int reps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 400;
        var (train, _) = FashionMnist.Load();
        var learner = LeNet5.CreateClassifier(new TensorShape(1, 28, 28));
        var flock = new List<double>();
        var torch = new List<double>();
        for (int r = 0; r < reps; r++)
        {
            double f = FlockRate(learner, train, (ulong)(r + 1), steps);
            flock.Add(f);
            var py = PythonReference.Run("cnn_steps.py", (r + 1).ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture));
            double t = double.Parse(py["pytorch_steps_per_second"], CultureInfo.InvariantCulture);
            torch.Add(t);
            Console.WriteLine($"run {r + 1}: flock {BenchUtil.F(f, 1)} steps/s, pytorch {BenchUtil.F(t, 1)} steps/s");
        }
        double fm = BenchUtil.Median(flock), tm = BenchUtil.Median(torch);
        Console.WriteLine($"per step: flock {BenchUtil.F(1e6 / fm, 1)} µs, pytorch {BenchUtil.F(1e6 / tm, 1)} µs");
        Console.WriteLine($"flock_vs_pytorch={BenchUtil.F(fm / tm, 2)} flock_steps_per_second={BenchUtil.F(fm, 1)} pytorch_steps_per_second={BenchUtil.F(tm, 1)}");
        return 0;
    }

    private static double FlockRate(NetworkLearner learner, Dataset train, ulong seed, int steps)
    {
        var p = new float[learner.Layout.Length];
        var g = new float[p.Length];
        learner.InitializeParameters(p, seed);
        var sgd = new Sgd(0.01f);
        var view = train.All(); // examples are [1, 28, 28], as the reference reshapes them
        var order = Enumerable.Range(0, train.Count).ToArray();
        new Rng(seed).Shuffle(order.AsSpan());
        const int batch = 32;
        int Offset(int i) => (int)((long)i * batch % (order.Length - batch));
        var warm = (float[])p.Clone();
        var clock = Stopwatch.StartNew();
        for (int i = 0; clock.Elapsed.TotalSeconds < 0.5; i++)
        {
            learner.LossAndGradient(warm, view, order.AsSpan(Offset(i), batch), g);
            sgd.Step(warm, g, Span<float>.Empty, i + 1);
        }
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            learner.LossAndGradient(p, view, order.AsSpan(Offset(i), batch), g);
            sgd.Step(p, g, Span<float>.Empty, i + 1);
        }
        return steps / sw.Elapsed.TotalSeconds;
    }
}
