using Flock.Compression;
using Flock.Data;
using Flock.Data.Synthetic;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using Flock.Tests.Runtime;
using static Flock.Tests.Protocols.Compression.CompressionProtocolSupport;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.Compression;

public class ChocoSgdTests
{
    private const int Dim = 5, Classes = 3;

    [Fact]
    public void Identity_codec_with_unit_step_equals_dsgd_mixing()
    {
        const ulong seed = 13;
        const int n = 6, rounds = 3;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var data = Split(Blobs(n * 20, Dim, Classes, 2), n);
        var (nb, w, self) = Ring(n, 1);
        var dsgd = DSgd.CreateNodes(learner, sgd, data, nb, w, self, new DSgdOptions { LocalSteps = 2, BatchSize = 4, Rounds = rounds }, seed);
        var choco = ChocoSgd.CreateNodes(learner, sgd, data, nb, w, new ChocoSgdOptions { LocalSteps = 2, BatchSize = 4, Rounds = rounds }, seed);
        new Simulator(dsgd, new SimulationOptions { Seed = seed }).Run();
        var sim = new Simulator(choco, new SimulationOptions { Seed = seed });
        sim.Run();
        var init = LocalModel.InitialParameters(learner, seed);
        for (int i = 0; i < n; i++)
        {
            var a = ((DSgdNode)dsgd[i]).Model.Parameters;
            var b = ((ChocoSgdNode)choco[i]).Model.Parameters;
            Assert.True(MaxAbsDiff(a, init) > 1e-3f, "the model must have moved");
            Assert.True(MaxAbsDiff(a, b) <= 1e-5f, $"node {i}: max difference {MaxAbsDiff(a, b)}");
        }
        // One message of 32 + 6 + 4d bytes per neighbour and round.
        Assert.Equal(rounds * 2 * (Message.HeaderBytes + 6 + 4L * learner.Layout.Length), sim.BytesSentBy(0));
    }

    [Fact]
    public void Public_copies_are_bit_identical_across_nodes_and_bytes_are_the_payloads()
    {
        const ulong seed = 2;
        const int n = 5, rounds = 4;
        var learner = TinyMlp(Dim, Classes, 16);
        var data = Split(Blobs(n * 20, Dim, Classes, 2), n);
        var (nb, w, _) = Ring(n, 1);
        var rec = new RecordingCompressor(new TopK(0.1));
        var nodes = ChocoSgd.CreateNodes(learner, new Sgd(0.1f), data, nb, w, new ChocoSgdOptions { LocalSteps = 2, BatchSize = 4, Rounds = rounds, Compressor = rec, ConsensusStepSize = 0.2f }, seed);
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed });
        sim.Run();
        for (int i = 0; i < n; i++)
        {
            var node = (ChocoSgdNode)nodes[i];
            for (int k = 0; k < node.Neighbors.Count; k++)
                Assert.True(node.NeighborCopy(k).SequenceEqual(((ChocoSgdNode)nodes[node.Neighbors[k]]).OwnCopy), $"node {i}'s copy of {node.Neighbors[k]} differs");
            var payloads = rec.By(i).ToList();
            Assert.Equal(rounds, payloads.Count);
            Assert.Equal(payloads.Sum(p => 2 * (Message.HeaderBytes + (long)p.Payload.Length)), sim.BytesSentBy(i));
            // The own copy is the initial model plus every decoded difference the node sent.
            var expected = LocalModel.InitialParameters(learner, seed);
            foreach (var p in payloads) new TopK(0.1).DecodeAdd(p.Payload, expected, 1f);
            Assert.True(node.OwnCopy.SequenceEqual(expected));
        }
    }

    [Fact]
    public void Choco_gossip_with_top_k_reaches_consensus_on_the_average()
    {
        const ulong seed = 6;
        const int n = 8, rounds = 400;
        var learner = LinearLeastSquares.CreateLearner(new TensorShape(19));
        int d = learner.Layout.Length;
        var (nb, w, _) = Ring(n, 1);
        var rng = new Rng(99);
        var starts = Enumerable.Range(0, n).Select(_ => { var x = new float[d]; rng.FillGaussian(x); return x; }).ToArray();
        var mean = new double[d];
        foreach (var x in starts) for (int j = 0; j < d; j++) mean[j] += x[j] / n;
        var empty = new DatasetView(Blobs(4, 19, 2, 1), Array.Empty<int>());
        var options = new ChocoSgdOptions { LocalSteps = 0, Rounds = rounds, Compressor = new TopK(0.2), ConsensusStepSize = 0.3f, ZeroInitialCopies = true };
        var nodes = Enumerable.Range(0, n).Select(i => (INodeBehavior)new ChocoSgdNode(i, nb[i], w[i], learner, new Sgd(0.1f), empty, starts[i], options, seed)).ToArray();
        double Spread() => nodes.Sum(b => { var x = ((ChocoSgdNode)b).Model.Parameters; double s = 0; for (int j = 0; j < d; j++) s += (x[j] - mean[j]) * (x[j] - mean[j]); return s; });
        double before = Spread();
        new Simulator(nodes, new SimulationOptions { Seed = seed }).Run();
        double after = Spread();
        Assert.True(after < 1e-8 * before, $"consensus error {before} → {after}");
        // Gossip with a symmetric W preserves the average.
        for (int j = 0; j < d; j++)
            Assert.Equal(mean[j], nodes.Average(b => (double)((ChocoSgdNode)b).Model.Parameters[j]), 4);
    }

    [Fact]
    public void Choco_sgd_with_top_k_learns_a_linear_model_in_consensus()
    {
        const ulong seed = 7;
        const int n = 8;
        var problem = LinearRegressionData.Generate(new LinearRegressionOptions { Dimensions = 10, TrainCount = 800, TestCount = 200, NoiseStd = 0.05, Seed = 3 });
        var learner = LinearLeastSquares.CreateLearner(new TensorShape(10));
        var data = Split(problem.Train, n);
        var (nb, w, _) = Ring(n, 1);
        var nodes = ChocoSgd.CreateNodes(learner, new Sgd(0.05f), data, nb, w,
            new ChocoSgdOptions { LocalSteps = 1, BatchSize = 8, Compressor = new TopK(0.3), ConsensusStepSize = 0.3f }, seed);
        var sim = new Simulator(nodes, new SimulationOptions
        {
            Seed = seed, MaxRounds = 300,
            Metrics = new MetricsOptions { EveryRounds = 50, Learner = learner, TestSet = problem.Test.All() },
        });
        var rows = RunRows(sim);
        Assert.True(rows[^1].LossMean < 0.05 * rows[0].LossMean, $"test loss {rows[0].LossMean} → {rows[^1].LossMean}");
        Assert.True(rows[^1].ConsensusDistance < 1e-3, $"consensus distance {rows[^1].ConsensusDistance}");
    }

    [Fact]
    public void Late_differences_are_applied_when_they_arrive()
    {
        const ulong seed = 3;
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(40, Dim, Classes, 2), 2);
        var nodes = ChocoSgd.CreateNodes(learner, new Sgd(0.1f), data, new[] { new[] { 1 }, new[] { 0 } }, new[] { new[] { 0.5 }, new[] { 0.5 } },
            new ChocoSgdOptions { LocalSteps = 1, BatchSize = 4, Rounds = 3, RoundTimeout = 0.1, Compressor = new TopK(0.5), ConsensusStepSize = 0.5f }, seed);
        // Latency 1 s > timeout: every round mixes without the neighbour's difference, which lands later.
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, Link = new LinkModel(1.0) });
        sim.Run();
        var a = (ChocoSgdNode)nodes[0];
        var b = (ChocoSgdNode)nodes[1];
        Assert.Equal(3, a.CurrentRound);
        Assert.True(a.NeighborCopy(0).SequenceEqual(b.OwnCopy));
        Assert.True(b.NeighborCopy(0).SequenceEqual(a.OwnCopy));
    }

    [Fact]
    public void Malformed_differences_are_rejected_and_the_round_continues()
    {
        const ulong seed = 5;
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(60, Dim, Classes, 2), 3);
        var (nb, w, _) = Complete(3, 1.0 / 3);
        var nodes = ChocoSgd.CreateNodes(learner, new Sgd(0.1f), data, nb, w, new ChocoSgdOptions { LocalSteps = 1, BatchSize = 4, Rounds = 3 }, seed);
        nodes[1] = new ProbeBehavior { Received = (ctx, from, m) => ctx.Send(from, new Message(ChocoSgd.DifferenceKind, m.Round, data: new byte[] { 1, 1, 9, 9, 9, 9 })) };
        new Simulator(nodes, new SimulationOptions { Seed = seed }).Run();
        var a = (ChocoSgdNode)nodes[0];
        Assert.Equal(3, a.CurrentRound);
        Assert.Equal(3, a.RejectedCount);
        Assert.All(a.Rejections, r => Assert.Equal(1, r.From));
        Assert.Contains("dimension", a.Rejections[0].Reason);
        Assert.True(a.NeighborCopy(0).SequenceEqual(LocalModel.InitialParameters(learner, seed)), "the rejected neighbour's copy is untouched");
        Assert.True(a.NeighborCopy(1).SequenceEqual(((ChocoSgdNode)nodes[2]).OwnCopy));
    }

    private static (INodeBehavior[], SimulationOptions) Scenario(ulong seed)
    {
        const int n = 8;
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(n * 20 + 100, Dim, Classes, 3);
        var data = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range(i * 20, 20).ToArray())).ToArray();
        var (nb, w, _) = Ring(n, 2);
        var nodes = ChocoSgd.CreateNodes(learner, new Sgd(0.05f), data, nb, w,
            new ChocoSgdOptions { LocalSteps = 2, BatchSize = 8, RoundTimeout = 0.6, Compressor = new ErrorFeedback(new Qsgd(3)), ConsensusStepSize = 0.5f }, seed);
        var options = new SimulationOptions
        {
            Seed = seed,
            MaxRounds = 6,
            Link = new LinkModel(0.05, 1e5, dropProbability: 0.05),
            Compute = new ComputeModel(0.01, SpeedDistribution.LogNormal(0, 0.5)),
            Metrics = new MetricsOptions { EveryRounds = 1, Learner = learner, TestSet = new DatasetView(all, Enumerable.Range(n * 20, 100).ToArray()) },
        };
        return (nodes, options);
    }

    [Fact]
    public void Same_seed_same_run_and_checkpoints_resume_exactly()
    {
        var (n1, o1) = Scenario(3);
        var (n2, o2) = Scenario(3);
        var r1 = RunRows(new Simulator(n1, o1));
        AssertRowsEqual(r1, RunRows(new Simulator(n2, o2)));
        var (n3, o3) = Scenario(4);
        Assert.NotEqual(r1[^1].LossMean, RunRows(new Simulator(n3, o3))[^1].LossMean);
        AssertResumeEquals(() => Scenario(3), p => p.Round == 3);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new ChocoSgdOptions { ConsensusStepSize = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new ChocoSgdOptions { ConsensusStepSize = float.PositiveInfinity }.Validate());
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(20, Dim, Classes, 2), 2);
        Assert.Throws<ArgumentException>(() => ChocoSgd.CreateNodes(learner, new Sgd(), data, new[] { new[] { 1 }, new[] { 2 } }, new[] { new[] { 0.5 }, new[] { 0.5 } }, new ChocoSgdOptions(), 1));
        Assert.Throws<ArgumentException>(() => ChocoSgd.CreateNodes(learner, new Sgd(), data, new[] { new[] { 0 }, new[] { 0 } }, new[] { new[] { 0.5 }, new[] { 0.5 } }, new ChocoSgdOptions(), 1));
    }
}
