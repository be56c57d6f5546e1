using Flock.Aggregation;
using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols;

public class FedAvgTests
{
    private const int Dim = 5, Classes = 3;

    [Fact]
    public void One_client_full_participation_equals_plain_local_training()
    {
        const ulong seed = 11;
        const int rounds = 3, k = 5, b = 8;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var data = Split(Blobs(60, Dim, Classes, 2), 1);
        var nodes = FedAvg.CreateNodes(learner, sgd, data, new FedAvgOptions { LocalSteps = k, BatchSize = b, Rounds = rounds }, seed);
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = rounds, Link = new LinkModel(0.01), Compute = new ComputeModel(0.001) });
        var result = sim.Run();
        Assert.Equal(StopReason.RoundsReached, result.Reason);

        var expected = Flock.Protocols.LocalModel.InitialParameters(learner, seed);
        long step = 0;
        for (int r = 1; r <= rounds; r++)
        {
            step = 0; // a fresh optimizer each round (ResetClientOptimizer)
            LocalTrain(learner, sgd, expected, Array.Empty<float>(), ref step, data[0], k, b, seed, node: 0, round: r);
        }
        Assert.Equal(expected, ((FedAvgCoordinator)nodes[1]).GlobalModel.ToArray());
    }

    [Fact]
    public void Aggregate_is_sample_weighted_mean_of_the_replies()
    {
        const ulong seed = 3;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.05f);
        var all = Blobs(90, Dim, Classes, 4);
        // Unequal sizes: 10, 30, 50 examples.
        var data = new[] { new DatasetView(all, Enumerable.Range(0, 10).ToArray()), new DatasetView(all, Enumerable.Range(10, 30).ToArray()), new DatasetView(all, Enumerable.Range(40, 50).ToArray()) };
        var nodes = FedAvg.CreateNodes(learner, sgd, data, new FedAvgOptions { LocalSteps = 3, BatchSize = 4, Rounds = 1 }, seed);
        new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 1 }).Run();
        var init = Flock.Protocols.LocalModel.InitialParameters(learner, seed);
        var trained = new float[3][];
        for (int i = 0; i < 3; i++)
        {
            trained[i] = (float[])init.Clone();
            long step = 0;
            LocalTrain(learner, sgd, trained[i], Array.Empty<float>(), ref step, data[i], 3, 4, seed, i, 1);
        }
        var global = ((FedAvgCoordinator)nodes[3]).GlobalModel.ToArray();
        for (int j = 0; j < init.Length; j++)
            Assert.Equal((10 * trained[0][j] + 30 * trained[1][j] + 50 * trained[2][j]) / 90, global[j], 5);
    }

    [Fact]
    public void Client_sampling_takes_the_requested_fraction_seeded_per_round()
    {
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.05f);
        var data = Split(Blobs(200, Dim, Classes, 4), 20);
        var nodes = FedAvg.CreateNodes(learner, sgd, data, new FedAvgOptions { ClientFraction = 0.25, LocalSteps = 1, BatchSize = 4, Rounds = 4 }, 5);
        var sim = new Simulator(nodes, new SimulationOptions { Seed = 5, MaxRounds = 4 });
        sim.Run();
        // 5 clients per round: 5 models down + 5 updates up, 4 rounds.
        Assert.Equal(4 * 10, sim.MessagesSent);
        var perClient = Enumerable.Range(0, 20).Select(i => sim.MessagesSentBy(i)).ToArray();
        Assert.Equal(20, perClient.Sum());
        Assert.True(perClient.Count(c => c > 0) > 5, "different rounds sample different clients");
        Assert.Equal(5, FedAvg.ClientsPerRound(0.25, 20));
        Assert.Equal(1, FedAvg.ClientsPerRound(0.01, 20));
    }

    [Fact]
    public void Bytes_counted_equal_payload_bytes()
    {
        var learner = TinyMlp(Dim, Classes);
        int p = learner.Layout.Length;
        var data = Split(Blobs(60, Dim, Classes, 2), 3);
        var nodes = FedAvg.CreateNodes(learner, new Sgd(0.1f), data, new FedAvgOptions { LocalSteps = 2, BatchSize = 4, Rounds = 2 }, 1);
        var sim = new Simulator(nodes, new SimulationOptions { MaxRounds = 2 });
        var rows = RunRows(sim);
        long down = Message.HeaderBytes + 4L * p, up = Message.HeaderBytes + 4L * p + 8;
        Assert.Equal(2 * 3 * (down + up), sim.BytesSent);
        Assert.Equal(2 * 3 * down, sim.BytesSentBy(3));
        Assert.Equal(2 * up, sim.BytesSentBy(0));
        Assert.Equal(new[] { 0L, 3 * (down + up), 6 * (down + up) }, rows.Select(r => r.BytesSent));
        Assert.Equal(new[] { 0L, 6, 12 }, rows.Select(r => r.MessagesSent));
    }

    [Fact]
    public void Crashed_client_round_completes_with_the_rest_after_the_timeout()
    {
        const ulong seed = 21;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var data = Split(Blobs(60, Dim, Classes, 2), 3);
        var nodes = FedAvg.CreateNodes(learner, sgd, data, new FedAvgOptions { LocalSteps = 2, BatchSize = 4, RoundTimeout = 1.0, MinReplies = 2 }, seed);
        var faults = new FaultSchedule { NodeFaults = new[] { new NodeFault(0.05, 2, NodeFaultKind.Crash) } };
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 1, Link = new LinkModel(0.1), Faults = faults });
        var rows = RunRows(sim);
        Assert.Equal(new[] { 0.0, 1.0 }, rows.Select(r => r.VirtualTime));
        Assert.Equal(0, sim.FailedRounds);
        var init = Flock.Protocols.LocalModel.InitialParameters(learner, seed);
        var t0 = (float[])init.Clone();
        var t1 = (float[])init.Clone();
        long s0 = 0, s1 = 0;
        LocalTrain(learner, sgd, t0, Array.Empty<float>(), ref s0, data[0], 2, 4, seed, 0, 1);
        LocalTrain(learner, sgd, t1, Array.Empty<float>(), ref s1, data[1], 2, 4, seed, 1, 1);
        var global = ((FedAvgCoordinator)nodes[3]).GlobalModel.ToArray();
        for (int j = 0; j < init.Length; j++) Assert.Equal((t0[j] + t1[j]) / 2, global[j], 6);
        Assert.Equal(1, sim.MessagesLost); // the model sent to the crashed client
    }

    [Fact]
    public void Below_minimum_replies_the_round_fails_and_the_model_is_unchanged()
    {
        const ulong seed = 21;
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(60, Dim, Classes, 2), 3);
        var nodes = FedAvg.CreateNodes(learner, new Sgd(0.1f), data, new FedAvgOptions { LocalSteps = 2, BatchSize = 4, RoundTimeout = 1.0, MinReplies = 3 }, seed);
        var faults = new FaultSchedule { NodeFaults = new[] { new NodeFault(0.05, 2, NodeFaultKind.Crash) } };
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 2, Link = new LinkModel(0.1), Faults = faults });
        var rows = RunRows(sim);
        Assert.Equal(new[] { 0L, 1, 2 }, rows.Select(r => r.FailedRounds));
        Assert.Equal(new[] { 0.0, 1.0, 2.0 }, rows.Select(r => r.VirtualTime));
        Assert.Equal(Flock.Protocols.LocalModel.InitialParameters(learner, seed), ((FedAvgCoordinator)nodes[3]).GlobalModel.ToArray());
    }

    [Fact]
    public void Round_timeline_is_the_slowest_client_plus_transfers()
    {
        // Clients 0, 1 with speed 1 and 3; step 0.5 s; latency 0.25 s; K = 1:
        // model arrives 0.25, training ends 0.75 / 1.75, replies arrive 1.0 / 2.0 ⇒ rounds end at 2 and 4.
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(40, Dim, Classes, 2), 2);
        var nodes = FedAvg.CreateNodes(learner, new Sgd(0.1f), data, new FedAvgOptions { LocalSteps = 1, BatchSize = 4 }, 1);
        var sim = new Simulator(nodes, new SimulationOptions
        {
            MaxRounds = 2,
            Link = new LinkModel(0.25),
            Compute = new ComputeModel(0.5, SpeedDistribution.PerNode(new[] { 1.0, 3.0, 1.0 })),
        });
        Assert.Equal(new[] { 0.0, 2.0, 4.0 }, RunRows(sim).Select(r => r.VirtualTime));
    }

    [Fact]
    public void Evaluation_rows_report_the_global_model_accuracy()
    {
        const ulong seed = 8;
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(400, Dim, Classes, 12);
        var train = new DatasetView(all, Enumerable.Range(0, 300).ToArray());
        var test = new DatasetView(all, Enumerable.Range(300, 100).ToArray());
        var data = Enumerable.Range(0, 5).Select(i => new DatasetView(all, train.Indices.Skip(i * 60).Take(60).ToArray())).ToArray();
        var nodes = FedAvg.CreateNodes(learner, new Sgd(0.05f), data, new FedAvgOptions { LocalSteps = 5, BatchSize = 8 }, seed);
        var sim = new Simulator(nodes, new SimulationOptions
        {
            Seed = seed,
            MaxRounds = 10,
            Metrics = new MetricsOptions { EveryRounds = 5, Learner = learner, TestSet = test },
        });
        var rows = RunRows(sim);
        Assert.Equal(new[] { 0L, 5, 10 }, rows.Select(r => r.Round));
        Assert.All(rows, r => Assert.Equal(1, r.EvaluatedNodes));
        Assert.All(rows, r => Assert.Equal(0, r.ConsensusDistance));
        var final = learner.Evaluate(((FedAvgCoordinator)nodes[5]).GlobalModel, test);
        Assert.Equal(final.Accuracy, rows[^1].AccuracyMean);
        Assert.Equal(final.Loss, rows[^1].LossMean);
        Assert.True(rows[^1].AccuracyMean > 0.9 && rows[0].AccuracyMean < 0.7, $"{rows[0].AccuracyMean} → {rows[^1].AccuracyMean}");
        Assert.True(double.IsNaN(rows[0].TrainLoss) && rows[1].TrainLoss > 0);
    }

    [Fact]
    public void Mean_aggregator_is_a_weighted_average()
    {
        var output = new float[2];
        Mean.Instance.Aggregate(new ReadOnlyMemory<float>[] { new float[] { 100, 100 }, new float[] { 1, 2 }, new float[] { 4, 8 } }, new float[] { 0, 1, 3 }, output);
        Assert.Equal(new[] { 3.25f, 6.5f }, output);
        Assert.Throws<ArgumentException>(() => Mean.Instance.Aggregate(Array.Empty<ReadOnlyMemory<float>>(), ReadOnlySpan<float>.Empty, output));
        Assert.Throws<ArgumentException>(() => Mean.Instance.Aggregate(new ReadOnlyMemory<float>[] { new float[2] }, new float[] { 0 }, output));
        Assert.Throws<ArgumentException>(() => Mean.Instance.Aggregate(new ReadOnlyMemory<float>[] { new float[2] }, new float[] { -1 }, output));
    }

    [Fact]
    public void Invalid_options_name_the_bad_value()
    {
        var e = Assert.Throws<ArgumentException>(() => new FedAvgOptions { ClientFraction = 1.5 }.Validate(10));
        Assert.Contains("1.5", e.Message);
        e = Assert.Throws<ArgumentException>(() => new FedAvgOptions { ClientFraction = 0.2, MinReplies = 3 }.Validate(10));
        Assert.Contains("[1, 2]", e.Message);
    }
}
