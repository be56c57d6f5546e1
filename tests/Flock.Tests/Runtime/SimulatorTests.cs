using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Runtime;

public class SimulatorTests
{
    [Fact]
    public void Events_at_equal_times_fire_in_scheduling_order()
    {
        var probe = new ProbeBehavior
        {
            Start = c =>
            {
                c.SetTimer(1.0, "a");
                c.SetTimer(0.5, "b");
                c.SetTimer(1.0, "c");
                c.SetTimer(0.5, "d");
                c.SetTimer(0.0, "e");
                c.Send(0, new Message("self", 0)); // instant link: delivered at 0, after "e" was scheduled
            },
        };
        new Simulator(new[] { probe }, new SimulationOptions()).Run();
        Assert.Equal(new[] { "0:start", "0:timer e", "0:msg self from 0", "0.5:timer b", "0.5:timer d", "1:timer a", "1:timer c" }, probe.Log);
    }

    [Fact]
    public void Cancelled_timer_does_not_fire()
    {
        var probe = new ProbeBehavior
        {
            Start = c =>
            {
                long id = c.SetTimer(1.0, "cancelled");
                c.SetTimer(2.0, "kept");
                c.CancelTimer(id);
            },
        };
        new Simulator(new[] { probe }, new SimulationOptions()).Run();
        Assert.Equal(new[] { "0:start", "2:timer kept" }, probe.Log);
    }

    [Fact]
    public void Message_delay_is_latency_plus_size_over_bandwidth()
    {
        // Size = 32 header + 4·3 floats + 8·1 scalar + 4 bytes = 56; 56 B / 224 B/s = 0.25 s; + 0.5 s latency.
        var receiver = new ProbeBehavior();
        var sender = new ProbeBehavior { Start = c => c.Send(1, new Message("m", 0, new float[3], new double[1], new byte[4])) };
        var sim = new Simulator(new INodeBehavior[] { sender, receiver }, new SimulationOptions { Link = new LinkModel(0.5, 224) });
        sim.Run();
        Assert.Equal(new[] { "0:start", "0.75:msg m from 0" }, receiver.Log);
        Assert.Equal(56, sim.BytesSent);
        Assert.Equal(56, sim.BytesSentBy(0));
        Assert.Equal(0, sim.BytesSentBy(1));
        Assert.Equal(1, sim.MessagesSent);
    }

    [Fact]
    public void Message_size_can_be_stated_by_the_sender()
    {
        var m = new Message("compressed", 3, new float[1000], sizeBytes: 100);
        Assert.Equal(100, m.SizeBytes);
        Assert.Equal(32 + 4000, new Message("raw", 3, new float[1000]).SizeBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Message("bad", -1));
        Assert.Throws<ArgumentException>(() => new Message("", 0));
    }

    [Fact]
    public void Crashed_node_loses_messages_and_timers_and_recovers()
    {
        var victim = new ProbeBehavior
        {
            Start = c => { c.SetTimer(2.0, "before-crash"); c.SetTimer(0.5, "early"); },
            Recovered = c => c.SetTimer(1.0, "after-recovery"),
        };
        var sender = new ProbeBehavior
        {
            Start = c => { c.SetTimer(1.5, "send"); c.SetTimer(3.5, "send"); },
            Timer = (c, t) => c.Send(0, new Message("ping", 0)),
        };
        var faults = new FaultSchedule
        {
            NodeFaults = new[] { new NodeFault(1.0, 0, NodeFaultKind.Crash), new NodeFault(3.0, 0, NodeFaultKind.Recover) },
        };
        var sim = new Simulator(new INodeBehavior[] { victim, sender }, new SimulationOptions { Faults = faults });
        sim.Run();
        // Ping at 1.5 is lost (down), timer at 2.0 never fires (cancelled by the crash), ping at 3.5 arrives.
        Assert.Equal(new[] { "0:start", "0.5:timer early", "3:recover", "3.5:msg ping from 1", "4:timer after-recovery" }, victim.Log);
        Assert.Equal(1, sim.MessagesLost);
    }

    [Fact]
    public void Late_joiner_starts_at_join_time_and_leaver_stops()
    {
        var late = new ProbeBehavior();
        var leaver = new ProbeBehavior { Start = c => c.SetTimer(5, "never") };
        var sender = new ProbeBehavior
        {
            Start = c => { c.SetTimer(1, "x"); c.SetTimer(3, "x"); },
            Timer = (c, t) => c.Send(0, new Message("hello", 0)),
        };
        var faults = new FaultSchedule
        {
            NodeFaults = new[] { new NodeFault(2.0, 0, NodeFaultKind.Join), new NodeFault(4.0, 1, NodeFaultKind.Leave), new NodeFault(4.5, 1, NodeFaultKind.Recover) },
        };
        var sim = new Simulator(new INodeBehavior[] { late, leaver, sender }, new SimulationOptions { Faults = faults });
        sim.Run();
        Assert.Equal(new[] { "2:start", "3:msg hello from 2" }, late.Log);
        Assert.Equal(new[] { "0:start" }, leaver.Log); // a node that left never recovers
        Assert.Equal(1, sim.MessagesLost);
        Assert.False(sim.IsUp(1));
    }

    [Fact]
    public void Link_failure_loses_messages_sent_during_the_outage_both_ways()
    {
        var a = new ProbeBehavior
        {
            Start = c => { c.SetTimer(0.5, "s"); c.SetTimer(1.5, "s"); c.SetTimer(2.5, "s"); },
            Timer = (c, t) => { c.Send(1, new Message("ab", 0)); c.Send(2, new Message("ac", 0)); },
        };
        var b = new ProbeBehavior { Start = c => c.SetTimer(1.2, "s"), Timer = (c, t) => c.Send(0, new Message("ba", 0)) };
        var cNode = new ProbeBehavior();
        var faults = new FaultSchedule { LinkFailures = new[] { new LinkFailure(1, 0, 1.0, 2.0) } };
        var sim = new Simulator(new INodeBehavior[] { a, b, cNode }, new SimulationOptions { Faults = faults });
        sim.Run();
        Assert.Equal(new[] { "0:start", "0.5:msg ab from 0", "2.5:msg ab from 0" }, b.Log.Where(l => l.Contains("msg") || l.Contains("start")).ToArray());
        Assert.Equal(3, cNode.Log.Count(l => l.Contains("msg ac")));
        Assert.DoesNotContain(a.Log, l => l.Contains("msg ba"));
        Assert.Equal(2, sim.MessagesLost);
    }

    [Fact]
    public void Drop_probability_is_seeded_and_close_to_its_rate()
    {
        int Received(ulong seed)
        {
            var receiver = new ProbeBehavior();
            var sender = new ProbeBehavior { Start = c => { for (int i = 0; i < 4000; i++) c.Send(1, new Message("m", 0)); } };
            new Simulator(new INodeBehavior[] { sender, receiver }, new SimulationOptions { Seed = seed, Link = new LinkModel(dropProbability: 0.25) }).Run();
            return receiver.Log.Count(l => l.Contains("msg"));
        }
        int r1 = Received(7);
        Assert.Equal(r1, Received(7));
        Assert.NotEqual(r1, Received(8));
        Assert.InRange(r1, 3000 - 120, 3000 + 120); // 3σ ≈ 82
    }

    [Fact]
    public void Context_cannot_be_used_outside_callbacks()
    {
        INodeContext? saved = null;
        var probe = new ProbeBehavior { Start = c => saved = c };
        new Simulator(new[] { probe }, new SimulationOptions()).Run();
        Assert.Throws<InvalidOperationException>(() => saved!.SetTimer(1, "late"));
    }

    [Fact]
    public void Invalid_faults_are_rejected_with_the_bad_value()
    {
        var nodes = new INodeBehavior[] { new ProbeBehavior() };
        var e = Assert.Throws<ArgumentException>(() => new Simulator(nodes, new SimulationOptions { Faults = new FaultSchedule { NodeFaults = new[] { new NodeFault(1, 3, NodeFaultKind.Crash) } } }));
        Assert.Contains("node 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Simulator(nodes, new SimulationOptions { Faults = new FaultSchedule { RandomCrashes = new RandomCrashes(-1, 1) } }));
        Assert.Contains("-1", e.Message);
    }

    [Fact]
    public void Speed_factors_follow_their_distribution_and_the_seed()
    {
        Assert.Equal(2.5, SpeedDistribution.Constant(2.5).Factor(1, 17));
        var u = SpeedDistribution.Uniform(1, 3);
        var f = Enumerable.Range(0, 2000).Select(i => u.Factor(5, i)).ToArray();
        Assert.All(f, x => Assert.InRange(x, 1, 3));
        Assert.InRange(f.Average(), 1.95, 2.05);
        Assert.Equal(u.Factor(5, 3), u.Factor(5, 3));
        Assert.NotEqual(u.Factor(5, 3), u.Factor(6, 3));
        var ln = SpeedDistribution.LogNormal(Math.Log(2), 0.5);
        var g = Enumerable.Range(0, 2001).Select(i => ln.Factor(9, i)).OrderBy(x => x).ToArray();
        Assert.InRange(g[1000], 1.9, 2.1); // median exp(μ)
        Assert.Equal(new[] { 1.0, 4.0 }, new[] { 0, 1 }.Select(i => SpeedDistribution.PerNode(new[] { 1.0, 4.0 }).Factor(0, i)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpeedDistribution.Uniform(2, 1));
    }

    [Fact]
    public void Training_cost_is_steps_times_step_time_times_speed_factor()
    {
        var learner = TinyMlp(3, 2);
        var data = Split(Blobs(40, 3, 2, 1), 1)[0];
        var sgd = new Sgd(0.1f);
        ProbeBehavior Node() => new()
        {
            Start = c => c.StartTraining(new TrainingJob(LocalModel.Create(learner, sgd), learner, sgd, data, 6, 4, 0)),
        };
        var nodes = new[] { Node(), Node() };
        var sim = new Simulator(nodes, new SimulationOptions { Compute = new ComputeModel(0.125, SpeedDistribution.PerNode(new[] { 1.0, 3.0 })) });
        sim.Run();
        Assert.Equal("0.75:trained 0", nodes[0].Log[1]);
        Assert.Equal("2.25:trained 0", nodes[1].Log[1]);
    }

    [Fact]
    public void Flop_based_step_time_uses_three_times_forward_flops()
    {
        var learner = TinyMlp(3, 2);
        var data = Split(Blobs(40, 3, 2, 1), 1)[0];
        var sgd = new Sgd(0.1f);
        var job = new TrainingJob(LocalModel.Create(learner, sgd), learner, sgd, data, 2, 4, 0);
        var cm = ComputeModel.FromFlops(1e6);
        Assert.Equal(3.0 * learner.FlopsPerExample * 4 / 1e6, cm.StepSeconds(job), 12);
        Assert.Equal(2 * 2 * cm.StepSeconds(job), cm.JobSeconds(job, 2), 12);
    }

    [Fact]
    public void Model_is_locked_while_training_and_one_job_at_a_time()
    {
        var learner = TinyMlp(3, 2);
        var data = Split(Blobs(40, 3, 2, 1), 1)[0];
        var sgd = new Sgd(0.1f);
        var model = LocalModel.Create(learner, sgd);
        Exception? second = null, read = null;
        var probe = new ProbeBehavior
        {
            Start = c =>
            {
                c.StartTraining(new TrainingJob(model, learner, sgd, data, 3, 4, 0));
                read = Record.Exception(() => model.Parameters);
                second = Record.Exception(() => c.StartTraining(new TrainingJob(model, learner, sgd, data, 3, 4, 1)));
            },
            Trained = (c, r) => Assert.False(model.IsTraining),
        };
        new Simulator(new[] { probe }, new SimulationOptions { Compute = new ComputeModel(1) }).Run();
        Assert.IsType<InvalidOperationException>(read);
        Assert.IsType<InvalidOperationException>(second);
        Assert.Equal("3:trained 0", probe.Log[1]);
    }

    private sealed class FirstParameter : IModelMetric
    {
        public string Name => "p0";
        public double Evaluate(ReadOnlySpan<float> model) => model[0];
    }

    [Fact]
    public void Time_ticks_evaluate_a_training_node_on_the_parameters_its_job_started_from()
    {
        var learner = TinyMlp(3, 2);
        var data = Split(Blobs(40, 3, 2, 1), 1)[0];
        var sgd = new Sgd(1f);
        var model = LocalModel.Create(learner, sgd, LocalModel.InitialParameters(learner, 1));
        float before = model.Parameters[0];
        var probe = new ProbeBehavior
        {
            Model = model.Parameters,
            Start = c => c.StartTraining(new TrainingJob(model, learner, sgd, data, 3, 8, 0)), // 3 × 0.5 s
        };
        var sim = new Simulator(new[] { probe }, new SimulationOptions
        {
            Compute = new ComputeModel(0.5),
            Metrics = new MetricsOptions { EveryRounds = 0, EverySeconds = 1, ExtraMetrics = new IModelMetric[] { new FirstParameter() } },
        });
        var rows = RunRows(sim);
        float after = model.Parameters[0];
        Assert.NotEqual(before, after);
        Assert.Equal(new[] { 0.0, 1, 2 }, rows.Select(r => r.VirtualTime));
        Assert.Equal(new double[] { before, before, after }, rows.Select(r => r.Extra[0].Value));
        Assert.Equal("p0", rows[0].Extra[0].Key);
        Assert.True(double.IsNaN(rows[0].AccuracyMean)); // no learner given: no accuracy
    }

    [Fact]
    public void A_job_prologue_runs_once_before_the_steps_and_before_a_tick_snapshot()
    {
        var learner = TinyMlp(3, 2);
        var data = Split(Blobs(40, 3, 2, 1), 1)[0];
        var sgd = new Sgd(1f);
        var model = LocalModel.Create(learner, sgd, LocalModel.InitialParameters(learner, 1));
        int calls = 0;
        var probe = new ProbeBehavior
        {
            Model = model.Parameters,
            // 3 steps × 0.5 s: the tick at t = 1 falls inside the job, so the host runs the prologue
            // on its own thread to snapshot the model the steps start from.
            Start = c => c.StartTraining(new TrainingJob(model, learner, sgd, data, 3, 8, 0)
            {
                Prologue = () => { calls++; model.RawParameters[0] = 42f; },
            }),
        };
        var sim = new Simulator(new[] { probe }, new SimulationOptions
        {
            Compute = new ComputeModel(0.5),
            Metrics = new MetricsOptions { EveryRounds = 0, EverySeconds = 1, ExtraMetrics = new IModelMetric[] { new FirstParameter() } },
        });
        var rows = RunRows(sim);
        Assert.Equal(1, calls);
        float after = model.Parameters[0];
        Assert.NotEqual(42f, after); // the steps started from the prologue's parameters and moved them
        Assert.Equal(new double[] { rows[0].Extra[0].Value, 42, after }, rows.Select(r => r.Extra[0].Value));
    }

    [Fact]
    public void Execute_runs_the_prologue_first_and_only_once()
    {
        var learner = TinyMlp(3, 2);
        var data = Split(Blobs(40, 3, 2, 1), 1)[0];
        var sgd = new Sgd(0.5f);
        var a = LocalModel.Create(learner, sgd, LocalModel.InitialParameters(learner, 1));
        var b = LocalModel.Create(learner, sgd, LocalModel.InitialParameters(learner, 1));
        b.RawParameters.AsSpan().Fill(0.25f); // b starts where a's prologue puts a
        int calls = 0;
        var jobA = new TrainingJob(a, learner, sgd, data, 2, 8, 3) { Prologue = () => { calls++; a.RawParameters.AsSpan().Fill(0.25f); } };
        var jobB = new TrainingJob(b, learner, sgd, data, 2, 8, 3);
        jobA.RunPrologue();
        foreach (var job in new[] { jobA, jobB })
        {
            job.Begin();
            job.Execute(7, 2);
            job.End();
        }
        Assert.Equal(1, calls);
        Assert.Equal(b.Parameters.ToArray(), a.Parameters.ToArray());
    }

    [Fact]
    public void Consensus_distance_matches_hand_computation()
    {
        var models = new ReadOnlyMemory<float>[] { new float[] { 1, 2 }, new float[] { 3, 4 }, new float[] { 5, 9 } };
        // Mean (3, 5); squared distances 4 + 9, 0 + 1, 4 + 16 → 34 / 3.
        Assert.Equal(34.0 / 3, ModelStatistics.ConsensusDistance(models), 12);
        Assert.Equal(0.0, ModelStatistics.ConsensusDistance(new ReadOnlyMemory<float>[] { new float[] { 1, 2 } }));
        Assert.True(double.IsNaN(ModelStatistics.ConsensusDistance(Array.Empty<ReadOnlyMemory<float>>())));
        // Larger than one chunk: x_i = i·1 over 20,000 coordinates, i = 0..3 → mean 1.5, Σ(i − 1.5)² = 5 → 5·20,000/4.
        var big = Enumerable.Range(0, 4).Select(i => (ReadOnlyMemory<float>)Enumerable.Repeat((float)i, 20000).ToArray()).ToArray();
        Assert.Equal(25000.0, ModelStatistics.ConsensusDistance(big), 9);
    }

    [Fact]
    public void Metrics_row_csv_has_one_value_per_column()
    {
        var row = new MetricsRow(3, -1, 1.5, 0.25, 2, 0.5, 0.25, 0.75, 1.25, 0.125, double.NaN, 100, 4, 1, 0,
            new[] { new KeyValuePair<string, double>("asr", 0.5) });
        Assert.Equal("3,-1,1.5,0.25,2,0.5,0.25,0.75,1.25,0.125,NaN,100,4,1,0,0.5", row.ToCsv());
        Assert.Equal(MetricsRow.Columns.Count + 1, MetricsRow.CsvHeader(new[] { "asr" }).Split(',').Length);
    }
}
