using Flock.Aggregation;
using Flock.Attacks;
using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using Flock.Topology;
using Flock.Topology.Generators;
using static Flock.Tests.Protocols.Robust.RobustTestSupport;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols;

/// <summary>D-SGD on a topology schedule: per-round neighbours and Metropolis–Hastings rows.</summary>
public class TimeVaryingDSgdTests
{
    // An irregular graph (degrees 1..4), so Metropolis–Hastings weights differ per edge.
    private static Graph Irregular() => Graph.FromEdges(7, new[] { (0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (3, 5), (5, 6), (4, 6) });

    private static SimulationOptions Options(ulong seed, DatasetView test, long rounds, int[]? excluded = null) => new()
    {
        Seed = seed,
        MaxRounds = rounds,
        MaxTime = 1000,
        Link = new LinkModel(0.05, 1e5, dropProbability: 0.05),
        Compute = new ComputeModel(0.01, SpeedDistribution.LogNormal(0, 0.5)),
        Faults = new FaultSchedule { NodeFaults = [new NodeFault(0.35, 3, NodeFaultKind.Crash), new NodeFault(1.2, 3, NodeFaultKind.Recover)] },
        Metrics = new MetricsOptions { Learner = TinyMlp(Dim, Classes, 16), TestSet = test, ExcludedNodes = excluded ?? [] },
    };

    public static TheoryData<string> StaticScenarios => new() { "mh", "robust", "byzantine" };

    [Theory]
    [MemberData(nameof(StaticScenarios))]
    public void Static_schedule_gives_the_same_rows_as_the_array_overloads(string scenario)
    {
        const ulong seed = 11;
        var g = Irregular();
        int n = g.NodeCount;
        var (parts, test) = Task(n, 20);
        var w = MixingMatrix.MetropolisHastings(g);
        var nb = Enumerable.Range(0, n).Select(i => g.Neighbors(i).ToArray()).ToArray();
        var wt = Enumerable.Range(0, n).Select(i => w.NeighborWeights(i).ToArray()).ToArray();
        var self = Enumerable.Range(0, n).Select(w.SelfWeight).ToArray();
        int[] byz = scenario == "byzantine" ? [0, 5] : [];
        DSgdOptions MakeOptions() => new()
        {
            LocalSteps = 3, BatchSize = 8, RoundTimeout = 0.6, Rounds = 6,
            Aggregator = scenario == "mh" ? Mean.Instance : new CoordinateWiseMedian(),
            Byzantine = byz.Length == 0 ? null : new ByzantineSetup { Nodes = byz, Attack = new ALittleIsEnough() },
        };
        var learner = TinyMlp(Dim, Classes, 16);
        var old = scenario == "mh"
            ? DSgd.CreateNodes(learner, new Sgd(0.05f), parts, nb, wt, self, MakeOptions(), seed)
            : DSgd.CreateNodes(learner, new Sgd(0.05f), parts, nb, MakeOptions(), seed);
        var scheduled = DSgd.CreateNodes(learner, new Sgd(0.05f), parts, new StaticTopology(g), MakeOptions(), seed, robust: scenario != "mh");
        var expected = RunRows(new Simulator(old, Options(seed, test, 6, byz)));
        var actual = RunRows(new Simulator(scheduled, Options(seed, test, 6, byz)));
        Assert.True(expected.Count >= 6, $"only {expected.Count} rows");
        AssertRowsEqual(expected, actual);
        for (int i = 0; i < n; i++) Assert.True(State(old[i]).SequenceEqual(State(scheduled[i])), $"node {i}'s state differs");
    }

    [Fact]
    public void Metropolis_hastings_row_equals_the_matrix_row()
    {
        var g = Irregular();
        var w = MixingMatrix.MetropolisHastings(g);
        for (int i = 0; i < g.NodeCount; i++)
        {
            var row = new double[g.Degree(i)];
            Assert.Equal(w.SelfWeight(i), MixingMatrix.MetropolisHastingsRow(g, i, row));
            Assert.Equal(w.NeighborWeights(i).ToArray(), row);
        }
        // Node 0 (degree 4) – node 1 (degree 2): 1/(1 + 4); node 1's self weight 1 − 1/5 − 1/3 (node 2 has degree 2).
        var r1 = new double[2];
        Assert.Equal(1 - 0.2 - 1.0 / 3, MixingMatrix.MetropolisHastingsRow(g, 1, r1), 15);
        Assert.Equal(new[] { 0.2, 1.0 / 3 }, r1);
        Assert.Throws<ArgumentException>(() => MixingMatrix.MetropolisHastingsRow(g, 1, new double[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MixingMatrix.MetropolisHastingsRow(g, 7, new double[0]));
    }

    [Fact]
    public void Nodes_send_to_the_neighbours_of_the_rounds_graph()
    {
        const ulong seed = 5;
        const int n = 8, rounds = 6;
        var schedule = new ResampledTopology(new ErdosRenyi(0.4), n, 99);
        Assert.NotEqual(schedule.GraphAt(1), schedule.GraphAt(2));
        var (parts, test) = Task(n, 20);
        var inner = DSgd.CreateNodes(TinyMlp(Dim, Classes, 16), new Sgd(0.05f), parts, schedule,
            new DSgdOptions { LocalSteps = 2, BatchSize = 8, Rounds = rounds }, seed);
        var sends = new List<(int From, int To, long Round)>();
        var nodes = inner.Select((b, i) => (INodeBehavior)new SendRecorder(b, sends)).ToArray();
        new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = rounds, Link = new LinkModel(0.05) }).Run();
        for (int i = 0; i < n; i++)
            for (long r = 1; r <= rounds; r++)
            {
                var to = sends.Where(s => s.From == i && s.Round == r).Select(s => s.To).Order().ToArray();
                Assert.Equal(schedule.GraphAt(r).Neighbors(i).ToArray(), to);
            }
        Assert.Equal(sends.Count, Enumerable.Range(1, rounds).Sum(r => schedule.GraphAt(r).EdgeCount * 2));
    }

    [Fact]
    public void Mixing_applies_the_rounds_metropolis_hastings_matrix_and_preserves_the_average()
    {
        const ulong seed = 3;
        const int n = 8;
        var schedule = new ResampledTopology(new ErdosRenyi(0.4), n, 7);
        var learner = TinyMlp(Dim, Classes);
        int p = learner.Layout.Length;
        var rng = new Rng(1234);
        var x0 = new double[n][];
        for (int i = 0; i < n; i++) { x0[i] = new double[p]; for (int j = 0; j < p; j++) x0[i][j] = (float)(4 * rng.NextDouble() - 2); }
        var mean0 = Average(x0);
        var expected = x0.Select(v => (double[])v.Clone()).ToArray();
        for (int rounds = 1; rounds <= 4; rounds++)
        {
            // Reference: x ← W(r) x with the Metropolis–Hastings matrix of round r's graph, in double.
            var w = MixingMatrix.MetropolisHastings(schedule.GraphAt(rounds));
            Assert.True(w.IsDoublyStochastic());
            var next = new double[n][];
            var col = new double[n];
            var mixed = new double[n];
            for (int i = 0; i < n; i++) next[i] = new double[p];
            for (int j = 0; j < p; j++)
            {
                for (int i = 0; i < n; i++) col[i] = expected[i][j];
                w.Apply(col, mixed);
                for (int i = 0; i < n; i++) next[i][j] = mixed[i];
            }
            expected = next;

            // No training (0 local steps): the nodes only mix.
            var nodes = DSgd.CreateNodes(learner, new Sgd(0.1f), Split(Blobs(40, Dim, Classes, 6), n), schedule,
                new DSgdOptions { LocalSteps = 0, Rounds = rounds }, seed);
            for (int i = 0; i < n; i++)
            {
                var par = ((DSgdNode)nodes[i]).Model.Parameters;
                for (int j = 0; j < p; j++) par[j] = (float)x0[i][j];
            }
            new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = rounds, Link = new LinkModel(0.05) }).Run();
            var got = nodes.Select(b => ((DSgdNode)b).Model.Parameters.Select(v => (double)v).ToArray()).ToArray();
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(rounds, ((DSgdNode)nodes[i]).CurrentRound);
                for (int j = 0; j < p; j++) Assert.True(Math.Abs(got[i][j] - expected[i][j]) < 1e-5, $"round {rounds}, node {i}, coordinate {j}: {got[i][j]} vs {expected[i][j]}");
            }
            var mean = Average(got);
            for (int j = 0; j < p; j++) Assert.True(Math.Abs(mean[j] - mean0[j]) < 1e-5, $"round {rounds}: average moved at {j}: {mean[j]} vs {mean0[j]}");
            Assert.True(got[0].Zip(x0[0]).Any(t => Math.Abs(t.First - t.Second) > 1e-3), "the models did not mix");
        }
    }

    [Fact]
    public void Same_seed_gives_identical_rows_and_another_topology_seed_does_not()
    {
        var a = RunRows(Resampled(42, 99, out var na));
        var b = RunRows(Resampled(42, 99, out var nb));
        AssertRowsEqual(a, b);
        for (int i = 0; i < na.Length; i++) Assert.True(State(na[i]).SequenceEqual(State(nb[i])), $"node {i}'s state differs");
        var c = RunRows(Resampled(42, 100, out var nc));
        Assert.False(State(na[0]).SequenceEqual(State(nc[0])), "the topology seed had no effect");
    }

    [Fact]
    public void Resumed_run_equals_an_uninterrupted_run()
    {
        var full = Resampled(7, 5, out var n0);
        var expected = RunRows(full);
        foreach (double stopAt in new[] { double.NaN, 0.93, 2.41 })
        {
            var first = Resampled(7, 5, out var n1, stopAt, out var cts);
            var checkpoint = new MemoryStream();
            if (double.IsNaN(stopAt))
                first.Progress += p =>
                {
                    if (checkpoint.Length == 0 && p.Round == 3) { first.SaveCheckpoint(checkpoint); cts.Cancel(); }
                };
            var before = RunRows(first, cts.Token);
            if (!double.IsNaN(stopAt)) first.SaveCheckpoint(checkpoint);
            Assert.True(before.Count > 0 && before.Count < expected.Count, $"checkpoint after {before.Count} of {expected.Count} rows");
            var resumed = Resampled(7, 5, out var n2);
            checkpoint.Position = 0;
            resumed.LoadCheckpoint(checkpoint);
            AssertRowsEqual(expected, before.Concat(RunRows(resumed)).ToList());
            for (int i = 0; i < n0.Length; i++) Assert.True(State(n0[i]).SequenceEqual(State(n2[i])), $"node {i}'s state differs after resuming at {stopAt}");
        }
    }

    [Fact]
    public void Byzantine_nodes_run_on_a_resampled_graph_reproducibly()
    {
        var a = RunRows(Resampled(42, 99, out var na, byzantine: true));
        var b = RunRows(Resampled(42, 99, out _, byzantine: true));
        AssertRowsEqual(a, b);
        Assert.True(a.Count >= 8, $"{a.Count} rows");
        Assert.True(na.Where((_, i) => i is not (2 or 5)).All(x => ((DSgdNode)x).CurrentRound >= 8));
    }

    private static Simulator Resampled(ulong seed, ulong topologySeed, out INodeBehavior[] nodes, bool byzantine = false) =>
        Resampled(seed, topologySeed, out nodes, double.NaN, out _, byzantine);

    private static Simulator Resampled(ulong seed, ulong topologySeed, out INodeBehavior[] nodes, double stopAt, out CancellationTokenSource cts, bool byzantine = false)
    {
        const int n = 8;
        var (parts, test) = Task(n, 20);
        var schedule = new ResampledTopology(new KRegular(3), n, topologySeed);
        int[] byz = byzantine ? [2, 5] : [];
        nodes = DSgd.CreateNodes(TinyMlp(Dim, Classes, 16), new Sgd(0.05f), parts, schedule, new DSgdOptions
        {
            LocalSteps = 3, BatchSize = 8, RoundTimeout = 0.6,
            Aggregator = byzantine ? new PreAggregated(new NearestNeighborMixing(1), new CoordinateWiseMedian()) : Mean.Instance,
            Byzantine = byzantine ? new ByzantineSetup { Nodes = byz, Attack = new ALittleIsEnough() } : null,
        }, seed, robust: byzantine);
        cts = new CancellationTokenSource();
        var wrapped = (INodeBehavior[])nodes.Clone();
        if (!double.IsNaN(stopAt)) wrapped[1] = new CancelingNode(nodes[1], stopAt, cts);
        return new Simulator(wrapped, Options(seed, test, 8, byz));
    }

    private static double[] Average(double[][] x)
    {
        var m = new double[x[0].Length];
        foreach (var v in x) for (int j = 0; j < m.Length; j++) m[j] += v[j] / x.Length;
        return m;
    }

    private static byte[] State(INodeBehavior node)
    {
        var ms = new MemoryStream();
        using (var w = new StateWriter(ms)) node.WriteState(w);
        return ms.ToArray();
    }

    /// <summary>Records every model message a node sends (sender, receiver, round).</summary>
    private sealed class SendRecorder(INodeBehavior inner, List<(int From, int To, long Round)> log) : INodeBehavior
    {
        public bool ReportsRounds => inner.ReportsRounds;
        public ReadOnlyMemory<float> EvaluationModel => inner.EvaluationModel;
        public void OnStart(INodeContext c) => inner.OnStart(new Context(c, log));
        public void OnMessage(INodeContext c, int from, Message m) => inner.OnMessage(new Context(c, log), from, m);
        public void OnTimer(INodeContext c, TimerTag t) => inner.OnTimer(new Context(c, log), t);
        public void OnTrainingFinished(INodeContext c, TrainingResult r) => inner.OnTrainingFinished(new Context(c, log), r);
        public void OnRecover(INodeContext c) => inner.OnRecover(new Context(c, log));
        public void WriteState(StateWriter writer) => inner.WriteState(writer);
        public void ReadState(StateReader reader) => inner.ReadState(reader);

        private sealed class Context(INodeContext c, List<(int From, int To, long Round)> log) : INodeContext
        {
            public int NodeId => c.NodeId;
            public double Now => c.Now;
            public Rng DeriveRng(string purpose, long round) => c.DeriveRng(purpose, round);
            public void Send(int to, Message message) { if (message.Kind == DSgd.ModelKind) log.Add((c.NodeId, to, message.Round)); c.Send(to, message); }
            public long SetTimer(double delay, string name, long value = 0) => c.SetTimer(delay, name, value);
            public void CancelTimer(long timerId) => c.CancelTimer(timerId);
            public void StartTraining(TrainingJob job) => c.StartTraining(job);
            public void CompleteRound(long round, bool succeeded = true) => c.CompleteRound(round, succeeded);
        }
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
