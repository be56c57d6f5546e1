using System.Diagnostics;
using System.Globalization;
using Flock.Aggregation;
using Flock.Attacks;
using Flock.Data;
using Flock.Data.Partitioning;
using Flock.Models.Zoo;
using Flock.Protocols;
using Flock.Runtime.Simulation;

namespace Flock.Bench;

/// <summary>
/// `bench/run.sh robust`: Byzantine robustness on Fashion-MNIST. n = 26 nodes, f = 5 Byzantine
/// (random, seeded), complete graph, Dirichlet α = 1, MLP 784-32-10, every node's local optimizer
/// MoNNA's momentum (lr 0.1, β 0.9, L2 1e-4), K local steps of batch 25 per round. Rows: clean
/// D-SGD (uniform mean), then the mean, MoNNA and NNM+trimmed-mean under sign flipping, ALIE
/// (z from n and f) and optimal ALIE (z line-searched against the rule in use); honest mean and
/// worst accuracy on the test set after the last round.
/// Not a test: a quick real check of the expected shape (the mean collapses, MoNNA and NNM+TM stay
/// near clean). Options: --rounds R (50), --local-steps K (5), --test N (2000), --hidden H (32).
/// </summary>
public static class RobustBench
{
    /// <summary>Runs the benchmark.</summary>
    public static int Run(string[] args)
    {
        int rounds = Arg(args, "--rounds", 50), steps = Arg(args, "--local-steps", 5), testCount = Arg(args, "--test", 2000), hidden = Arg(args, "--hidden", 32);
        const int n = 26, f = 5;
        const ulong seed = 1;
        var (train, testSet) = FashionMnist.Load();
        var test = new DatasetView(testSet, Enumerable.Range(0, Math.Min(testCount, testSet.Count)).ToArray());
        var parts = new DirichletPartitioner(1.0).Partition(train, n, seed);
        var learner = Mlp.CreateClassifier(train.ExampleShape, new[] { hidden }, FashionMnist.NumClasses);
        var neighbors = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Where(j => j != i).ToArray()).ToArray();
        var byz = ByzantineSetup.SelectNodes(n, f, AttackerPlacement.Random, seed);
        Console.WriteLine($"n = {n}, f = {f} (nodes {string.Join(",", byz)}), {rounds} rounds × {steps} steps, MLP 784-{hidden}-10 ({learner.Layout.Length} parameters), test {test.Count}");
        var nnmTm = new PreAggregated(new NearestNeighborMixing(f), new TrimmedMean(f));
        var momentum = new MonnaMomentum(0.1f, 0.9f, 1e-4f);
        ByzantineSetup Attack(IModelAttack a) => new() { Nodes = byz, Attack = a };
        INodeBehavior[] DSgdNodes(IAggregator agg, IModelAttack? a) => DSgd.CreateNodes(learner, momentum, parts, neighbors,
            new DSgdOptions { LocalSteps = steps, BatchSize = 25, Rounds = rounds, Aggregator = agg, Byzantine = a is null ? null : Attack(a) }, seed);
        INodeBehavior[] MonnaNodes(IModelAttack a) => Monna.CreateNodes(learner, parts, neighbors,
            new MonnaOptions { LearningRate = 0.1f, Momentum = 0.9f, LocalSteps = steps, BatchSize = 25, Rounds = rounds, Byzantine = Attack(a) }, seed);
        var runs = new (string Name, Func<INodeBehavior[]> Build, bool Attacked)[]
        {
            ("clean d-sgd (mean)", () => DSgdNodes(Mean.Instance, null), false),
            ("mean / sign-flipping", () => DSgdNodes(Mean.Instance, new SignFlipping()), true),
            ("mean / alie", () => DSgdNodes(Mean.Instance, new ALittleIsEnough()), true),
            ("mean / optimal-alie", () => DSgdNodes(Mean.Instance, new OptimalALittleIsEnough()), true),
            ("monna / sign-flipping", () => MonnaNodes(new SignFlipping()), true),
            ("monna / alie", () => MonnaNodes(new ALittleIsEnough()), true),
            ("monna / optimal-alie", () => MonnaNodes(new OptimalALittleIsEnough()), true),
            ("nnm+tm / sign-flipping", () => DSgdNodes(nnmTm, new SignFlipping()), true),
            ("nnm+tm / alie", () => DSgdNodes(nnmTm, new ALittleIsEnough()), true),
            ("nnm+tm / optimal-alie", () => DSgdNodes(nnmTm, new OptimalALittleIsEnough()), true),
        };
        var summary = new List<string>();
        foreach (var (name, build, attacked) in runs)
        {
            var sw = Stopwatch.StartNew();
            var sim = new Simulator(build(), new SimulationOptions
            {
                Seed = seed, MaxRounds = rounds,
                Metrics = new MetricsOptions { EveryRounds = rounds, Learner = learner, TestSet = test, ExcludedNodes = attacked ? byz : [] },
            });
            MetricsRow? last = null;
            sim.RowRecorded += r => last = r;
            sim.Run();
            Console.WriteLine($"{name,-24} honest mean {BenchUtil.F(last!.AccuracyMean, 4)}  worst {BenchUtil.F(last.AccuracyMin, 4)}  ({last.EvaluatedNodes} nodes, {BenchUtil.F(sw.Elapsed.TotalSeconds, 1)} s)");
            string key = name.Replace(" (mean)", "").Replace(" / ", "_").Replace(' ', '_').Replace('-', '_').Replace('+', '_');
            summary.Add($"{key}_mean={BenchUtil.F(last.AccuracyMean, 4)} {key}_worst={BenchUtil.F(last.AccuracyMin, 4)}");
        }
        Console.WriteLine(string.Join(" ", summary));
        return 0;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
