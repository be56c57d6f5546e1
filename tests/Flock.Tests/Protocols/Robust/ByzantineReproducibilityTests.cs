using Flock.Aggregation;
using Flock.Attacks;
using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using static Flock.Tests.Protocols.Robust.RobustTestSupport;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.Robust;

/// <summary>Attacked runs are reproducible and resumable: the adversary's shared memory is restored from the nodes' states.</summary>
public class ByzantineReproducibilityTests
{
    private static SimulationOptions Options(ulong seed, DatasetView test, long rounds, int[] byzantine) => new()
    {
        Seed = seed,
        MaxRounds = rounds,
        MaxTime = 1000,
        Link = new LinkModel(0.05, 1e5, dropProbability: 0.05),
        Compute = new ComputeModel(0.01, SpeedDistribution.LogNormal(0, 0.5)),
        Faults = new FaultSchedule { NodeFaults = [new NodeFault(0.35, 3, NodeFaultKind.Crash), new NodeFault(1.2, 3, NodeFaultKind.Recover)] },
        Metrics = new MetricsOptions { Learner = TinyMlp(Dim, Classes, 16), TestSet = test, ExcludedNodes = byzantine },
    };

    private static (INodeBehavior[], SimulationOptions) DSgdScenario(ulong seed)
    {
        var (parts, test) = Task(8, 20);
        var (nb, _, _) = Complete(8, 1.0 / 8);
        int[] byz = [2, 5];
        var nodes = DSgd.CreateNodes(TinyMlp(Dim, Classes, 16), new Sgd(0.05f), parts, nb, new DSgdOptions
        {
            LocalSteps = 3, BatchSize = 8, RoundTimeout = 0.6,
            Aggregator = new PreAggregated(new NearestNeighborMixing(2), new CoordinateWiseMedian()),
            Byzantine = new ByzantineSetup { Nodes = byz, Attack = new ALittleIsEnough() },
        }, seed);
        return (nodes, Options(seed, test, 8, byz));
    }

    private static (INodeBehavior[], SimulationOptions) MonnaSybilScenario(ulong seed)
    {
        var (parts, test) = Task(10, 20);
        var (nb, _, _) = Ring(10, 3);
        int[] byz = [0, 4, 7];
        var nodes = Monna.CreateNodes(TinyMlp(Dim, Classes, 16), parts, nb, new MonnaOptions
        {
            LearningRate = 0.05f, LocalSteps = 2, BatchSize = 8, RoundTimeout = 0.6,
            Byzantine = new ByzantineSetup { Nodes = byz, Attack = new Sybil(new ALittleIsEnough(z: 1f), 3, 1e-3f), PerNeighbor = true },
        }, seed);
        return (nodes, Options(seed, test, 8, byz));
    }

    private static (INodeBehavior[], SimulationOptions) FedAvgScenario(ulong seed)
    {
        var (parts, test) = Task(12, 20);
        int[] byz = [1, 3, 8];
        var nodes = FedAvg.CreateNodes(TinyMlp(Dim, Classes, 16), new Sgd(0.05f), parts, new FedAvgOptions
        {
            ClientFraction = 0.5, LocalSteps = 3, BatchSize = 8, RoundTimeout = 1.0, MinReplies = 3,
            Aggregator = new CoordinateWiseMedian(),
            Byzantine = new ByzantineSetup { Nodes = byz, Attack = new OptimalALittleIsEnough() },
        }, seed);
        var options = Options(seed, test, 8, []);
        return (nodes, options);
    }

    public static TheoryData<string> Scenarios => new() { "dsgd", "monna", "fedavg" };

    private static (INodeBehavior[], SimulationOptions) Build(string name, ulong seed) => name switch
    {
        "dsgd" => DSgdScenario(seed),
        "monna" => MonnaSybilScenario(seed),
        _ => FedAvgScenario(seed),
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Same_seed_gives_identical_rows(string scenario)
    {
        var (n1, o1) = Build(scenario, 42);
        var rows = RunRows(new Simulator(n1, o1));
        Assert.Equal(9, rows.Count);
        Assert.True(rows[^1].AccuracyMean > 0.5, $"{scenario}: accuracy {rows[^1].AccuracyMean}");
        var (n2, o2) = Build(scenario, 42);
        AssertRowsEqual(rows, RunRows(new Simulator(n2, o2)));
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Resumed_attacked_run_equals_an_uninterrupted_run(string scenario)
    {
        var (n0, o0) = Build(scenario, 7);
        var full = new Simulator(n0, o0);
        var expected = RunRows(full);
        foreach (double stopAt in new[] { double.NaN, 0.93, 2.41 })
        {
            var (n1, o1) = Build(scenario, 7);
            using var cts = new CancellationTokenSource();
            if (!double.IsNaN(stopAt)) n1[1] = new CancelingNode(n1[1], stopAt, cts);
            var first = new Simulator(n1, o1);
            var checkpoint = new MemoryStream();
            if (double.IsNaN(stopAt))
                first.Progress += p =>
                {
                    if (checkpoint.Length == 0 && p.Round == 3) { first.SaveCheckpoint(checkpoint); cts.Cancel(); }
                };
            var before = RunRows(first, cts.Token);
            if (!double.IsNaN(stopAt)) first.SaveCheckpoint(checkpoint);
            Assert.True(before.Count > 0 && before.Count < expected.Count, $"{scenario}: checkpoint after {before.Count} of {expected.Count} rows");
            var (n2, o2) = Build(scenario, 7);
            var resumed = new Simulator(n2, o2);
            checkpoint.Position = 0;
            resumed.LoadCheckpoint(checkpoint);
            AssertRowsEqual(expected, before.Concat(RunRows(resumed)).ToList());
            for (int i = 0; i < n0.Length; i++) Assert.True(State(n0[i]).SequenceEqual(State(n2[i])), $"{scenario}: node {i}'s state differs after resuming at {stopAt}");
        }
    }

    private static byte[] State(INodeBehavior node)
    {
        var ms = new MemoryStream();
        using (var w = new StateWriter(ms)) node.WriteState(w);
        return ms.ToArray();
    }

    private sealed class CancelingNode(INodeBehavior inner, double at, CancellationTokenSource cts) : INodeBehavior
    {
        public bool ReportsRounds => inner.ReportsRounds;
        public ReadOnlyMemory<float> EvaluationModel => inner.EvaluationModel;
        private void Check(INodeContext c) { if (c.Now >= at) cts.Cancel(); }
        public void OnStart(INodeContext c) { inner.OnStart(c); Check(c); }
        public void OnMessage(INodeContext c, int from, Message m) { inner.OnMessage(c, from, m); Check(c); }
        public void OnTimer(INodeContext c, TimerTag t) { inner.OnTimer(c, t); Check(c); }
        public void OnTrainingFinished(INodeContext c, TrainingResult r) { inner.OnTrainingFinished(c, r); Check(c); }
        public void OnRecover(INodeContext c) { inner.OnRecover(c); Check(c); }
        public void WriteState(StateWriter writer) => inner.WriteState(writer);
        public void ReadState(StateReader reader) => inner.ReadState(reader);
    }
}
