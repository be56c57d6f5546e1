using System.Diagnostics;
using System.Globalization;
using Flock.Data;
using Flock.Data.Partitioning;
using Flock.Models.Engine;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Topology;
using Flock.Topology.Generators;

namespace Flock.Bench;

/// <summary>
/// `bench/run.sh sim`: rounds of decentralized SGD on 100 MLP 784-128-10 nodes (IID shards of
/// Fashion-MNIST), 10 local SGD steps of batch 32 (lr 0.05) per round, then Metropolis–Hastings
/// mixing over a ring with 4 neighbours (k = 2 each side), through Flock's simulator
/// (<see cref="DSgd"/> + <see cref="Simulator"/>, compute and links free, no evaluation) vs the same
/// work in a plain PyTorch loop (bench/reference/sim_round.py). Equal cores: Flock's simulator runs
/// the training jobs on the thread pool (both cores), PyTorch runs two worker processes of one
/// thread each. Alternating runs; medians of the seconds per round (Flock: rounds 2 … R − 1 from the
/// simulator's progress events; PyTorch: every round after a warm-up round).
/// Last line: <c>flock_vs_pytorch=… flock_seconds_per_round=… pytorch_seconds_per_round=… overhead_share=…</c>
/// where overhead_share is the fraction of Flock's wall time spent outside training jobs (event
/// loop, protocol callbacks, mixing), from <see cref="Simulator.Statistics"/>.
/// </summary>
public static class SimBench
{
    private const int Nodes = 100;

    /// <summary>Runs the benchmark; args: [repetitions (default 3)] [rounds per run (default 6; Flock times rounds 2 … R − 1)].</summary>
    public static int Run(string[] args)
    {
        int reps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 6;
        var (train, _) = FashionMnist.Load();
        Console.WriteLine($"{Nodes} nodes, {rounds} rounds per run, {Environment.ProcessorCount} cores; PyTorch: 2 worker processes × 1 thread");
        FlockRound(train, 99, 2); // warm-up: JIT tiering of the whole path
        var flock = new List<double>();
        var torch = new List<double>();
        var shares = new List<double>();
        for (int r = 0; r < reps; r++)
        {
            var (sec, stats) = FlockRound(train, (ulong)(r + 1), rounds);
            flock.Add(sec);
            double share = stats.LoopSeconds > 0 ? 1 - stats.JobWaitSeconds / stats.LoopSeconds : double.NaN;
            shares.Add(share);
            var py = PythonReference.Run("sim_round.py", (r + 1).ToString(CultureInfo.InvariantCulture), rounds.ToString(CultureInfo.InvariantCulture), "2");
            double t = double.Parse(py["pytorch_seconds_per_round"], CultureInfo.InvariantCulture);
            torch.Add(t);
            Console.WriteLine($"run {r + 1}: flock {BenchUtil.F(sec, 4)} s/round (loop {BenchUtil.F(stats.LoopSeconds, 3)} s, callbacks {BenchUtil.F(stats.CallbackSeconds, 3)} s, " +
                $"job wait {BenchUtil.F(stats.JobWaitSeconds, 3)} s, evaluation {BenchUtil.F(stats.EvaluationSeconds, 3)} s, {stats.Events} events, " +
                $"GC pauses {BenchUtil.F(LastGc.Pause.TotalSeconds, 3)} s in {LastGc.Gen2} gen-2 collections), pytorch {BenchUtil.F(t, 4)} s/round");
        }
        double f = BenchUtil.Median(flock), tm = BenchUtil.Median(torch), sh = BenchUtil.Median(shares);
        Console.WriteLine($"flock_vs_pytorch={BenchUtil.F(tm / f, 2)} flock_seconds_per_round={BenchUtil.F(f, 4)} pytorch_seconds_per_round={BenchUtil.F(tm, 4)} overhead_share={BenchUtil.F(sh, 3)}");
        return 0;
    }

    /// <summary>GC pause time and gen-2 collections of the last Flock run.</summary>
    private static (TimeSpan Pause, int Gen2) LastGc;

    private static (double SecondsPerRound, SimulationStatistics Stats) FlockRound(Dataset train, ulong seed, int rounds)
    {
        var learner = Mlp.CreateClassifier(train.ExampleShape, new[] { 128 }, 10, WeightInit.TorchDefault);
        var parts = new IidPartitioner().Partition(train.All(), Nodes, seed);
        var graph = new Ring(2).Generate(Nodes, seed);
        var w = MixingMatrix.MetropolisHastings(graph);
        var neighbors = new int[Nodes][];
        var weights = new double[Nodes][];
        var self = new double[Nodes];
        for (int i = 0; i < Nodes; i++)
        {
            neighbors[i] = graph.Neighbors(i).ToArray();
            weights[i] = w.NeighborWeights(i).ToArray();
            self[i] = w.SelfWeight(i);
        }
        var nodes = DSgd.CreateNodes(learner, new Sgd(0.05f), parts, neighbors, weights, self,
            new DSgdOptions { LocalSteps = 10, BatchSize = 32 }, seed);
        var sim = new Simulator(nodes, new SimulationOptions
        {
            Seed = seed,
            MaxRounds = rounds,
            Metrics = new MetricsOptions { EveryRounds = 0 },
        });
        // Per round: wall time from global round 1 to round R − 1, so neither the first round (every
        // node starts at once) nor the last (the simulator always snapshots and reduces every model
        // for a final metrics row, work the PyTorch loop does not do) is counted.
        var reached = new Dictionary<long, double>();
        sim.Progress += p => reached.TryAdd(p.Round, p.WallSeconds);
        var pause0 = GC.GetTotalPauseDuration();
        int gen2 = GC.CollectionCount(2);
        var sw = Stopwatch.StartNew();
        sim.Run();
        LastGc = (GC.GetTotalPauseDuration() - pause0, GC.CollectionCount(2) - gen2);
        double perRound = rounds >= 4 && reached.TryGetValue(1, out double t1) && reached.TryGetValue(rounds - 1, out double tLast)
            ? (tLast - t1) / (rounds - 2)
            : sw.Elapsed.TotalSeconds / rounds;
        return (perRound, sim.Statistics);
    }
}
