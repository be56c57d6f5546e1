using System.Diagnostics;
using System.Globalization;
using Flock.Compression;
using Flock.Data;
using Flock.Data.Partitioning;
using Flock.Models;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;

namespace Flock.Bench;

/// <summary>
/// `bench/run.sh compproto`: Fashion-MNIST, 16 nodes (IID), MLP 784-128-10, the same seed and the
/// same budget for every method — R rounds, each node touching one minibatch of 32 per round
/// (one gradient, or for SPSA two forward passes) — comparing dense synchronous SGD, DGC at 99.9%
/// sparsity after warm-up, QSGD, count sketch, one-byte SPSA and CHOCO-SGD on a ring. Reports
/// final test accuracy and bytes per node per round (uplink/downlink for the star protocols).
/// </summary>
public static class CompressionProtocolsBench
{
    private const int Nodes = 16, Batch = 32;

    /// <summary>Runs the comparison; args: [--rounds R (default 1500)] [--only name,name].</summary>
    public static int Run(string[] args)
    {
        int rounds = 1500;
        float chocoGamma = 0.1f;
        HashSet<string>? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds") rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--only") only = args[++i].Split(',').ToHashSet();
            else if (args[i] == "--choco-gamma") chocoGamma = float.Parse(args[++i], CultureInfo.InvariantCulture);
        }
        GaussianSpeed();
        const ulong seed = 1;
        var (train, test) = FashionMnist.Load(options: new FashionMnistOptions { Normalize = true });
        var learner = Mlp.CreateClassifier(train.ExampleShape, new[] { 128 }, 10);
        int d = learner.Layout.Length;
        var parts = new IidPartitioner().Partition(train, Nodes, seed);
        var testView = test.All();
        int roundsPerEpoch = train.Count / (Nodes * Batch);
        Console.WriteLine($"Fashion-MNIST, {Nodes} nodes, MLP 784-128-10 (d = {d}), batch {Batch}, {rounds} rounds (≈{rounds / (double)roundsPerEpoch:F1} epochs), seed {seed}");
        Console.WriteLine("B/node/rd = bytes per node per round: up = sent by a client (star) or by a peer; down = sent by the coordinator per client;");
        Console.WriteLine("last20% = uplink bytes per node per round over the last 20% of the rounds (after DGC's warm-up); ×dense compares it to dense.");
        Console.WriteLine($"{"method",-22} {"acc",7} {"up B/node/rd",13} {"down B/node/rd",15} {"total B/node/rd",16} {"up last20%",11} {"×dense",8} {"wall s",7}");

        var methods = new List<(string Name, Func<INodeBehavior[]> Build, bool Star)>
        {
            ("dense-sgd", () => Star(learner, new MomentumSgd(0.1f, 0.9f), parts, new Identity(), null, rounds), true),
            ("dgc-99.9", () => Star(learner, new Sgd(0.1f), parts,
                new DeepGradientCompression(0.001, 0.9f, warmupRoundsPerStage: Math.Max(1, roundsPerEpoch / 2)), null, rounds), true),
            ("dgc-99.9+topk-down", () => Star(learner, new Sgd(0.1f), parts,
                new DeepGradientCompression(0.001, 0.9f, warmupRoundsPerStage: Math.Max(1, roundsPerEpoch / 2)), new TopK(0.02), rounds), true),
            ("qsgd-7", () => Star(learner, new MomentumSgd(0.1f, 0.9f), parts, new Qsgd(7), null, rounds), true),
            ("count-sketch-10%", () => Star(learner, new MomentumSgd(0.1f, 0.9f), parts, new CountSketch(0.1), null, rounds), true),
            ("one-byte-spsa", () => OneByteSpsa.CreateNodes(learner, new Sgd(1e-3f), parts,
                new OneByteSpsaOptions { Samples = 1, BatchSize = Batch, Rounds = rounds, Clip = 10f }, seed), false),
            ("dsgd-ring-dense", () => Choco(learner, parts, new Identity(), 1f, rounds, seed), false),
            ("choco-ring-top1%", () => Choco(learner, parts, new TopK(0.01), chocoGamma, rounds, seed), false),
        };
        var summary = new List<string>();
        double denseTotal = double.NaN;
        foreach (var (name, build, star) in methods)
        {
            if (only is not null && !only.Contains(name)) continue;
            var nodes = build();
            var sim = new Simulator(nodes, new SimulationOptions
            {
                Seed = seed,
                MaxRounds = rounds,
                Metrics = new MetricsOptions { EveryRounds = rounds, Learner = learner, TestSet = testView, MaxEvaluatedNodes = star ? 0 : 4 },
            });
            var sw = Stopwatch.StartNew();
            MetricsRow? last = null;
            sim.RowRecorded += r => last = r;
            long tailStart = rounds - rounds / 5, upAtTail = 0;
            long Up() => star ? Enumerable.Range(0, Nodes).Sum(i => sim.BytesSentBy(i)) : sim.BytesSent;
            sim.Progress += p => { if (p.Round == tailStart) upAtTail = Up(); };
            sim.Run();
            double wall = sw.Elapsed.TotalSeconds;
            double up, down;
            if (star)
            {
                up = Enumerable.Range(0, Nodes).Sum(i => (double)sim.BytesSentBy(i)) / Nodes / rounds;
                down = sim.BytesSentBy(Nodes) / (double)Nodes / rounds;
            }
            else
            {
                up = sim.BytesSent / (double)Nodes / rounds;
                down = 0;
            }
            double total = sim.BytesSent / (double)Nodes / rounds;
            double tail = (Up() - upAtTail) / (double)Nodes / (rounds - tailStart);
            if (name == "dense-sgd") denseTotal = tail;
            double acc = last?.AccuracyMean ?? double.NaN;
            Console.WriteLine($"{name,-22} {acc,7:F4} {up,13:F0} {down,15:F0} {total,16:F0} {tail,11:F0} {denseTotal / tail,8:F1} {wall,7:F1}");
            summary.Add(FormattableString.Invariant($"{name}_acc={acc:F4} {name}_up_bytes={up:F0} {name}_up_tail_bytes={tail:F0} {name}_total_bytes={total:F0}"));
        }
        Console.WriteLine(string.Join(" ", summary));
        return 0;
    }

    /// <summary>Regenerating perturbations: FastGaussian (fill, fused add) vs Rng.FillGaussian, ns per sample (medians of 9).</summary>
    private static void GaussianSpeed()
    {
        var buf = new float[1 << 20];
        double Time(Action a)
        {
            a();
            var t = new List<double>();
            for (int r = 0; r < 9; r++) { var sw = Stopwatch.StartNew(); a(); t.Add(sw.Elapsed.TotalSeconds * 1e9 / buf.Length); }
            t.Sort();
            return t[4];
        }
        ulong s = 0;
        double fill = Time(() => FastGaussian.Fill(++s, buf));
        double add = Time(() => FastGaussian.AddScaled(++s, 0.5f, buf));
        double rng = Time(() => new Flock.Tensors.Rng(++s).FillGaussian(buf));
        Console.WriteLine($"z ~ N(0, I), 2^20 floats: FastGaussian.Fill {fill:F2} ns/sample, AddScaled {add:F2} ns/sample, Rng.FillGaussian {rng:F2} ns/sample ({rng / fill:F0}× slower)");
    }

    private static INodeBehavior[] Star(ILearner learner, IOptimizer serverOptimizer, DatasetView[] parts, ICompressor uplink, ICompressor? downlink, int rounds) =>
        CompressedFedAvg.CreateNodes(learner, serverOptimizer, parts, new CompressedFedAvgOptions
        {
            Update = ClientUpdateKind.Gradient, BatchSize = Batch, Uplink = uplink, Downlink = downlink, Rounds = rounds,
        }, 1);

    private static INodeBehavior[] Choco(ILearner learner, DatasetView[] parts, ICompressor q, float gamma, int rounds, ulong seed)
    {
        var nb = new int[Nodes][];
        var w = new double[Nodes][];
        for (int i = 0; i < Nodes; i++)
        {
            nb[i] = new[] { (i + 1) % Nodes, (i + Nodes - 1) % Nodes };
            w[i] = new[] { 1.0 / 3, 1.0 / 3 };
        }
        return ChocoSgd.CreateNodes(learner, new MomentumSgd(0.1f / Nodes * 4, 0.9f), parts, nb, w,
            new ChocoSgdOptions { LocalSteps = 1, BatchSize = Batch, Compressor = q, ConsensusStepSize = gamma, Rounds = rounds }, seed);
    }
}
