using Flock.Data;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Runtime;

public class ReproducibilityTests
{
    private const int Dim = 5, Classes = 3;

    private static DatasetView TestSet(Dataset all, int from) => new(all, Enumerable.Range(from, all.Count - from).ToArray());

    private static (INodeBehavior[], SimulationOptions) DSgdScenario(ulong seed, int n = 16, long rounds = 8, int everyRounds = 1)
    {
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(n * 20 + 100, Dim, Classes, 3);
        var data = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range(i * 20, 20).ToArray())).ToArray();
        var (nb, w, self) = Ring(n, 2);
        var nodes = DSgd.CreateNodes(learner, new Sgd(0.05f), data, nb, w, self, new DSgdOptions { LocalSteps = 4, BatchSize = 8, RoundTimeout = 0.6 }, seed);
        var options = new SimulationOptions
        {
            Seed = seed,
            MaxRounds = rounds,
            MaxTime = 1000, // a safety net: random crashes keep scheduling events forever
            Link = new LinkModel(0.05, 1e5, dropProbability: 0.05),
            Compute = new ComputeModel(0.01, SpeedDistribution.LogNormal(0, 0.5)),
            Faults = new FaultSchedule
            {
                RandomCrashes = new RandomCrashes(0.05, 0.8, new[] { 3, 7, 11 }),
                LinkFailures = new[] { new LinkFailure(0, 1, 0.5, 1.5) },
            },
            Metrics = new MetricsOptions { EveryRounds = everyRounds, Learner = learner, TestSet = TestSet(all, n * 20), MaxEvaluatedNodes = 10 },
        };
        return (nodes, options);
    }

    private static (INodeBehavior[], SimulationOptions) FedAvgScenario(ulong seed)
    {
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(12 * 20 + 100, Dim, Classes, 3);
        var data = Enumerable.Range(0, 12).Select(i => new DatasetView(all, Enumerable.Range(i * 20, 20).ToArray())).ToArray();
        var nodes = FedAvg.CreateNodes(learner, new Sgd(0.05f), data,
            new FedAvgOptions { ClientFraction = 0.5, LocalSteps = 3, BatchSize = 8, RoundTimeout = 1.0, MinReplies = 4 }, seed);
        var options = new SimulationOptions
        {
            Seed = seed,
            MaxRounds = 8,
            Link = new LinkModel(0.05, 1e5, dropProbability: 0.1),
            Compute = new ComputeModel(0.05, SpeedDistribution.Uniform(1, 6)),
            Faults = new FaultSchedule { NodeFaults = new[] { new NodeFault(0.3, 4, NodeFaultKind.Crash), new NodeFault(2.5, 4, NodeFaultKind.Recover) } },
            Metrics = new MetricsOptions { EveryRounds = 1, Learner = learner, TestSet = TestSet(all, 240) },
        };
        return (nodes, options);
    }

    private static (INodeBehavior[], SimulationOptions) GossipScenario(ulong seed)
    {
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(10 * 20 + 100, Dim, Classes, 3);
        var data = Enumerable.Range(0, 10).Select(i => new DatasetView(all, Enumerable.Range(i * 20, 20).ToArray())).ToArray();
        var (nb, _, _) = Ring(10, 1);
        var nodes = GossipLearning.CreateNodes(learner, new Sgd(0.05f), data, nb, new GossipLearningOptions { Period = 0.5, LocalSteps = 2, BatchSize = 8 }, seed);
        var options = new SimulationOptions
        {
            Seed = seed,
            MaxTime = 12,
            Link = new LinkModel(0.02, dropProbability: 0.1),
            Compute = new ComputeModel(0.07, SpeedDistribution.Uniform(1, 4)),
            Faults = new FaultSchedule { RandomCrashes = new RandomCrashes(0.1, 1.0) },
            Metrics = new MetricsOptions { EveryRounds = 0, EverySeconds = 1.0, Learner = learner, TestSet = TestSet(all, 200), MaxEvaluatedNodes = 6 },
        };
        return (nodes, options);
    }

    [Fact]
    public void Same_seed_gives_identical_rows_with_parallel_training_and_faults()
    {
        var (n1, o1) = DSgdScenario(42);
        var rows = RunRows(new Simulator(n1, o1));
        Assert.Equal(9, rows.Count);
        Assert.True(rows[^1].MessagesLost > 0);
        var (n2, o2) = DSgdScenario(42);
        AssertRowsEqual(rows, RunRows(new Simulator(n2, o2)));
        var (n3, o3) = DSgdScenario(43);
        Assert.NotEqual(rows[^1].VirtualTime, RunRows(new Simulator(n3, o3))[^1].VirtualTime);
    }

    [Fact]
    public void Evaluated_subset_is_seeded_and_rows_reduce_over_it()
    {
        var (nodes, options) = DSgdScenario(42);
        var sim = new Simulator(nodes, options);
        Assert.Equal(10, sim.EvaluatedNodes.Count);
        Assert.Equal(sim.EvaluatedNodes.OrderBy(i => i), sim.EvaluatedNodes);
        var rows = RunRows(sim);
        Assert.All(rows, r => Assert.InRange(r.EvaluatedNodes, 1, 10));
        Assert.All(rows, r => Assert.True(r.AccuracyMin <= r.AccuracyMean + 1e-12 && r.AccuracyMean <= r.AccuracyMax + 1e-12));
        Assert.Equal(0, rows[0].ConsensusDistance);
        Assert.True(rows[^1].ConsensusDistance > 0);
    }

    /// <summary>
    /// Runs a scenario uninterrupted, then again with a checkpoint taken either from a Progress
    /// handler (<paramref name="checkpointAt"/>) or after a cancellation triggered inside node 0's
    /// callback at virtual time <paramref name="stopAt"/> (an arbitrary mid-run state), resumes it in a
    /// fresh simulator and compares rows and final node states.
    /// </summary>
    private static void AssertResumeEquals(Func<(INodeBehavior[], SimulationOptions)> build, Func<SimulationProgress, bool>? checkpointAt = null, double stopAt = double.NaN)
    {
        var (n0, o0) = build();
        var full = new Simulator(n0, o0);
        var expected = RunRows(full);

        var (n1, o1) = build();
        using var cts = new CancellationTokenSource();
        if (!double.IsNaN(stopAt)) n1[0] = new CancelingNode(n1[0], stopAt, cts);
        var first = new Simulator(n1, o1);
        var checkpoint = new MemoryStream();
        if (checkpointAt is not null)
            first.Progress += p =>
            {
                if (checkpoint.Length == 0 && checkpointAt(p))
                {
                    first.SaveCheckpoint(checkpoint);
                    cts.Cancel();
                }
            };
        var before = RunRows(first, cts.Token);
        if (checkpointAt is null) first.SaveCheckpoint(checkpoint);
        Assert.True(checkpoint.Length > 0, "no checkpoint was taken");
        Assert.True(before.Count > 0 && before.Count < expected.Count, $"checkpoint after {before.Count} of {expected.Count} rows");

        var (n2, o2) = build();
        var resumed = new Simulator(n2, o2);
        checkpoint.Position = 0;
        resumed.LoadCheckpoint(checkpoint);
        var after = RunRows(resumed);
        AssertRowsEqual(expected, before.Concat(after).ToList());
        Assert.Equal(full.BytesSent, resumed.BytesSent);
        for (int i = 0; i < n0.Length; i++)
            Assert.True(State(n0[i]).SequenceEqual(State(n2[i])), $"node {i}'s state differs after resuming");
    }

    private static byte[] State(INodeBehavior node)
    {
        var ms = new MemoryStream();
        using (var w = new StateWriter(ms)) node.WriteState(w);
        return ms.ToArray();
    }

    /// <summary>Delegates to a node and cancels a token in the first callback at or after a given time.</summary>
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

    [Fact]
    public void Resumed_fedavg_run_equals_an_uninterrupted_run()
    {
        AssertResumeEquals(() => FedAvgScenario(7), checkpointAt: p => p.Round == 3);
        AssertResumeEquals(() => FedAvgScenario(7), stopAt: 4.3);
    }

    [Fact]
    public void Resumed_dsgd_run_equals_an_uninterrupted_run()
    {
        AssertResumeEquals(() => DSgdScenario(7, everyRounds: 2), checkpointAt: p => p.Round == 3);
        AssertResumeEquals(() => DSgdScenario(7), stopAt: 1.7);
    }

    [Fact]
    public void Resumed_asynchronous_gossip_run_equals_an_uninterrupted_run()
    {
        AssertResumeEquals(() => GossipScenario(7), checkpointAt: p => p.VirtualTime >= 5);
        AssertResumeEquals(() => GossipScenario(7), stopAt: 6.9);
    }

    [Fact]
    public void Checkpoint_from_another_scenario_is_rejected()
    {
        var (n1, o1) = FedAvgScenario(7);
        var sim = new Simulator(n1, o1);
        var ms = new MemoryStream();
        sim.SaveCheckpoint(ms);
        ms.Position = 0;
        var (n2, o2) = DSgdScenario(7);
        Assert.Throws<InvalidDataException>(() => new Simulator(n2, o2).LoadCheckpoint(ms));
    }

    [Fact]
    public void Cancellation_stops_between_events_and_the_run_can_continue()
    {
        var (n0, o0) = DSgdScenario(11);
        var expected = RunRows(new Simulator(n0, o0));
        var (n1, o1) = DSgdScenario(11);
        var sim = new Simulator(n1, o1);
        using var cts = new CancellationTokenSource();
        sim.Progress += p => { if (p.Round == 2) cts.Cancel(); };
        var rows = RunRows(sim, cts.Token);
        Assert.Equal(3, rows.Count);
        var rest = new List<MetricsRow>();
        sim.RowRecorded += rest.Add;
        rows.Clear();
        var result = sim.Run();
        Assert.Equal(StopReason.RoundsReached, result.Reason);
        Assert.Equal(expected.Count, 3 + rest.Count);
        AssertRowsEqual(expected.Skip(3).ToList(), rest);
    }

}

/// <summary>Tests that measure the process's managed heap: run alone, never beside other tests.</summary>
[CollectionDefinition(nameof(MemoryMeasurements), DisableParallelization = true)]
public sealed class MemoryMeasurements;

[Collection(nameof(MemoryMeasurements))]
public class ThousandNodeMemoryTests
{
    [Fact]
    public void A_thousand_nodes_fit_and_run_a_round_quickly()
    {
        // 784-16-10 MLP (12,730 parameters, 51 kB): node state must stay near parameters + snapshots in flight.
        const int n = 1000;
        var learner = Mlp.CreateClassifier(new TensorShape(784), new[] { 16 }, 10);
        int p = learner.Layout.Length;
        var rng = new Rng(1);
        var x = new float[2000 * 784];
        rng.FillUniform(x, 0, 1);
        var y = Enumerable.Range(0, 2000).Select(i => i % 10).ToArray();
        var all = Dataset.Classification("synthetic", x, new TensorShape(784), y, 10);
        var data = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range((i * 20) % 2000, 20).ToArray())).ToArray();
        var (nb, w, self) = SimTestSupport.Ring(n, 2);
        long before = GC.GetTotalMemory(true);
        var nodes = DSgd.CreateNodes(learner, new Sgd(0.01f), data, nb, w, self, new DSgdOptions { LocalSteps = 1, BatchSize = 8, Rounds = 1 }, 1);
        var sim = new Simulator(nodes, new SimulationOptions { MaxRounds = 1, Link = new LinkModel(0.01), Compute = new ComputeModel(0.01) });
        long built = GC.GetTotalMemory(true);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var result = sim.Run();
        sw.Stop();
        long afterRun = GC.GetTotalMemory(true);
        Assert.Equal(StopReason.RoundsReached, result.Reason);
        Assert.Equal(1, result.Round);
        double perNodeBuilt = (built - before) / (double)n, perNodeAfter = (afterRun - before) / (double)n;
        Assert.True(perNodeBuilt < 1.2 * 4 * p, $"{perNodeBuilt:F0} bytes per node after construction (parameters are {4 * p})");
        Assert.True(perNodeAfter < 1.2 * 4 * p, $"{perNodeAfter:F0} bytes per node after a round (parameters are {4 * p})");
        Assert.True(sw.Elapsed.TotalSeconds < 30, $"one round of {n} nodes took {sw.Elapsed.TotalSeconds:F1} s");
        GC.KeepAlive(nodes);
        GC.KeepAlive(sim);
    }
}
