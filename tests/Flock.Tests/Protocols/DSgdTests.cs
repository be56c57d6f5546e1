using Flock.Aggregation;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols;

public class DSgdTests
{
    private const int Dim = 5, Classes = 3;

    [Fact]
    public void Complete_graph_with_uniform_weights_equals_fedavg_with_full_participation()
    {
        const ulong seed = 17;
        const int n = 4, rounds = 3, k = 3, b = 5;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var data = Split(Blobs(80, Dim, Classes, 6), n);

        var fedNodes = FedAvg.CreateNodes(learner, sgd, data, new FedAvgOptions { LocalSteps = k, BatchSize = b, Rounds = rounds }, seed);
        new Simulator(fedNodes, new SimulationOptions { Seed = seed, MaxRounds = rounds }).Run();
        var global = ((FedAvgCoordinator)fedNodes[n]).GlobalModel.ToArray();

        var (nb, w, self) = Complete(n, 1.0 / n);
        var dNodes = DSgd.CreateNodes(learner, sgd, data, nb, w, self, new DSgdOptions { LocalSteps = k, BatchSize = b, Rounds = rounds }, seed);
        new Simulator(dNodes, new SimulationOptions { Seed = seed, MaxRounds = rounds }).Run();
        Assert.NotEqual(LocalModel.InitialParameters(learner, seed), global);
        foreach (DSgdNode node in dNodes)
        {
            Assert.Equal(rounds, node.CurrentRound);
            var x = node.Model.Parameters;
            for (int j = 0; j < x.Length; j++) Assert.True(Math.Abs(x[j] - global[j]) <= 1e-6, $"coordinate {j}: {x[j]} vs {global[j]}");
        }
    }

    [Fact]
    public void Missing_neighbour_weights_are_renormalised()
    {
        const ulong seed = 5;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var data = Split(Blobs(60, Dim, Classes, 6), 3);
        var (nb, w, self) = Complete(3, 0.5); // W_ii = 0.5, W_ij = 0.25
        var nodes = DSgd.CreateNodes(learner, sgd, data, nb, w, self, new DSgdOptions { LocalSteps = 2, BatchSize = 4, Rounds = 1, RoundTimeout = 1.0 }, seed);
        var faults = new FaultSchedule { LinkFailures = new[] { new LinkFailure(0, 1, 0, 0.5) } };
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, Link = new LinkModel(0.1), Faults = faults });
        var rows = RunRows(sim);
        Assert.Equal(new[] { 0.0, 1.0 }, rows.Select(r => r.VirtualTime)); // nodes 0 and 1 wait for the timeout
        Assert.Equal(2, sim.MessagesLost);

        var x = new float[3][];
        for (int i = 0; i < 3; i++)
        {
            x[i] = LocalModel.InitialParameters(learner, seed);
            long step = 0;
            LocalTrain(learner, sgd, x[i], Array.Empty<float>(), ref step, data[i], 2, 4, seed, i, 1);
        }
        var m0 = ((DSgdNode)nodes[0]).Model.Parameters;
        var m1 = ((DSgdNode)nodes[1]).Model.Parameters;
        var m2 = ((DSgdNode)nodes[2]).Model.Parameters;
        for (int j = 0; j < m0.Length; j++)
        {
            Assert.Equal((0.5f * x[0][j] + 0.25f * x[2][j]) / 0.75f, m0[j], 5);
            Assert.Equal((0.5f * x[1][j] + 0.25f * x[2][j]) / 0.75f, m1[j], 5);
            Assert.Equal(0.25f * x[0][j] + 0.25f * x[1][j] + 0.5f * x[2][j], m2[j], 5);
        }
    }

    [Fact]
    public void A_robust_rule_short_of_inputs_keeps_the_own_model_and_fails_the_round()
    {
        // Ring of 5 in the robust mode with a trimmed mean (f = 1: needs 2f < n, so 3 models). The
        // link 0–1 is down in round 1: nodes 0 and 1 hold 2 models each, keep their own trained
        // model and report the round as failed; the others aggregate their 3.
        const ulong seed = 9;
        const int n = 5;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var data = Split(Blobs(100, Dim, Classes, 6), n);
        var nb = Enumerable.Range(0, n).Select(i => new[] { (i + n - 1) % n, (i + 1) % n }).ToArray();
        var nodes = DSgd.CreateNodes(learner, sgd, data, nb,
            new DSgdOptions { LocalSteps = 2, BatchSize = 4, Rounds = 1, RoundTimeout = 1.0, Aggregator = new TrimmedMean(1) }, seed);
        var faults = new FaultSchedule { LinkFailures = new[] { new LinkFailure(0, 1, 0, 0.5) } };
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, Link = new LinkModel(0.1), Faults = faults });
        var rows = RunRows(sim);

        var x = new float[n][];
        for (int i = 0; i < n; i++)
        {
            x[i] = LocalModel.InitialParameters(learner, seed);
            long step = 0;
            LocalTrain(learner, sgd, x[i], Array.Empty<float>(), ref step, data[i], 2, 4, seed, i, 1);
        }
        Assert.Equal(2, rows[^1].FailedRounds);
        Assert.Equal(x[0], ((DSgdNode)nodes[0]).Model.Parameters.ToArray());
        Assert.Equal(x[1], ((DSgdNode)nodes[1]).Model.Parameters.ToArray());
        // Node 3 aggregates x2, x3, x4: the trimmed mean of three values is their median.
        var m3 = ((DSgdNode)nodes[3]).Model.Parameters;
        for (int j = 0; j < m3.Length; j++)
            Assert.Equal(new[] { x[2][j], x[3][j], x[4][j] }.Order().ElementAt(1), m3[j]);
    }

    [Fact]
    public void Virtual_time_adds_compute_and_link_costs()
    {
        // Speed factors 1, 2, 4; 2 steps of 0.25 s ⇒ training 0.5, 1, 2 s. Message = 32 + 4·75 = 332 B
        // at 2656 B/s = 0.125 s, + 0.125 s latency ⇒ 0.25 s per message. Round 1: nodes 0, 1 finish when
        // node 2's model arrives (2 + 0.25 = 2.25), node 2 at 2.0. Round 2: node 2 trains 2.0 → 4.0 and
        // its model reaches the others at 4.25; nodes 0, 1 (start 2.25) are done earlier.
        var learner = TinyMlp(Dim, Classes);
        Assert.Equal(75, learner.Layout.Length);
        var data = Split(Blobs(60, Dim, Classes, 6), 3);
        var (nb, w, self) = Complete(3, 1.0 / 3);
        var nodes = DSgd.CreateNodes(learner, new Sgd(0.1f), data, nb, w, self, new DSgdOptions { LocalSteps = 2, BatchSize = 4 }, 1);
        var sim = new Simulator(nodes, new SimulationOptions
        {
            MaxRounds = 2,
            Link = new LinkModel(0.125, 2656),
            Compute = new ComputeModel(0.25, SpeedDistribution.PerNode(new[] { 1.0, 2.0, 4.0 })),
        });
        Assert.Equal(new[] { 0.0, 2.25, 4.25 }, RunRows(sim).Select(r => r.VirtualTime));
    }

    [Fact]
    public void Bytes_counted_equal_payload_bytes()
    {
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(60, Dim, Classes, 6), 6);
        var (nb, w, self) = Ring(6, 1);
        var nodes = DSgd.CreateNodes(learner, new Sgd(0.1f), data, nb, w, self, new DSgdOptions { LocalSteps = 1, BatchSize = 4, Rounds = 3 }, 1);
        var sim = new Simulator(nodes, new SimulationOptions());
        sim.Run();
        long size = Message.HeaderBytes + 4L * learner.Layout.Length;
        Assert.Equal(3 * 6 * 2 * size, sim.BytesSent);
        Assert.Equal(3 * 2 * size, sim.BytesSentBy(4));
        Assert.Equal(36, sim.MessagesSent);
    }

    [Fact]
    public void Recovered_node_resumes_from_its_last_state_and_catches_up()
    {
        // Training 0.1 s, transfer 0.1 s ⇒ one round per 0.2 s. Node 3 crashes at 0.55 while waiting in
        // round 3, recovers at 2.0; its neighbours time out on it meanwhile (0.5 s).
        const ulong seed = 9;
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(80, Dim, Classes, 6), 4);
        var (nb, w, self) = Ring(4, 1);
        var inner = DSgd.CreateNodes(learner, new Sgd(0.1f), data, nb, w, self, new DSgdOptions { LocalSteps = 2, BatchSize = 4, RoundTimeout = 0.5 }, seed);
        var recorder = new RecordingNode((DSgdNode)inner[3]);
        var nodes = inner.Take(3).Append(recorder).ToArray();
        var faults = new FaultSchedule { NodeFaults = new[] { new NodeFault(0.55, 3, NodeFaultKind.Crash), new NodeFault(2.0, 3, NodeFaultKind.Recover) } };
        var sim = new Simulator(nodes, new SimulationOptions
        {
            Seed = seed,
            MaxRounds = 15,
            Link = new LinkModel(0.1),
            Compute = new ComputeModel(0.05),
            Faults = faults,
        });
        var rows = RunRows(sim);
        Assert.Equal(15, rows[^1].Round);
        Assert.NotNull(recorder.AtRecovery);
        Assert.True(recorder.LastBeforeCrashTime < 0.55);
        Assert.Equal(3, recorder.RoundAtCrash);
        Assert.Equal(recorder.LastBeforeCrash, recorder.AtRecovery);
        Assert.True(((DSgdNode)inner[3]).CurrentRound >= 15, "the recovered node caught up");
        // While node 3 was down (0.55–2.0) the global round kept advancing through timeouts.
        Assert.Contains(rows, r => r.VirtualTime > 0.6 && r.VirtualTime < 2.0 && r.Round >= 4);
    }

    [Fact]
    public void Late_joiner_catches_up_with_the_round_of_its_neighbours()
    {
        const ulong seed = 3;
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(80, Dim, Classes, 6), 4);
        var (nb, w, self) = Ring(4, 1);
        var nodes = DSgd.CreateNodes(learner, new Sgd(0.1f), data, nb, w, self, new DSgdOptions { LocalSteps = 1, BatchSize = 4, RoundTimeout = 0.3 }, seed);
        var faults = new FaultSchedule { NodeFaults = new[] { new NodeFault(3.0, 2, NodeFaultKind.Join) } };
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 12, Link = new LinkModel(0.1), Compute = new ComputeModel(0.1), Faults = faults });
        var rows = RunRows(sim);
        Assert.Equal(12, rows[^1].Round);
        Assert.True(((DSgdNode)nodes[2]).CurrentRound >= 12);
    }

    /// <summary>Wraps a D-SGD node and records its parameters after each callback and at recovery.</summary>
    private sealed class RecordingNode(DSgdNode inner) : INodeBehavior
    {
        public float[]? LastBeforeCrash, AtRecovery;
        public double LastBeforeCrashTime;
        public long RoundAtCrash;
        private bool _recovered;

        public bool ReportsRounds => inner.ReportsRounds;
        public ReadOnlyMemory<float> EvaluationModel => inner.EvaluationModel;

        private void After(INodeContext c)
        {
            if (_recovered || inner.Model.IsTraining) return;
            LastBeforeCrash = (float[])inner.Model.Parameters.Clone();
            LastBeforeCrashTime = c.Now;
            RoundAtCrash = inner.CurrentRound;
        }

        public void OnStart(INodeContext c) { inner.OnStart(c); After(c); }
        public void OnMessage(INodeContext c, int from, Message m) { inner.OnMessage(c, from, m); After(c); }
        public void OnTimer(INodeContext c, TimerTag t) { inner.OnTimer(c, t); After(c); }
        public void OnTrainingFinished(INodeContext c, TrainingResult r) { inner.OnTrainingFinished(c, r); After(c); }

        public void OnRecover(INodeContext c)
        {
            if (!_recovered) AtRecovery = (float[])inner.Model.Parameters.Clone();
            _recovered = true;
            inner.OnRecover(c);
        }

        public void WriteState(StateWriter writer) => inner.WriteState(writer);
        public void ReadState(StateReader reader) => inner.ReadState(reader);
    }
}
