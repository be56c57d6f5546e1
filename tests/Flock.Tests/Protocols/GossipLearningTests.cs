using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols;

public class GossipLearningTests
{
    private const int Dim = 5, Classes = 3;

    private static (INodeBehavior[] Nodes, SimulationOptions Options) Scenario(ulong seed, double maxTime, int n = 8)
    {
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(n * 30 + 150, Dim, Classes, 12);
        var test = new DatasetView(all, Enumerable.Range(n * 30, 150).ToArray());
        var data = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range(i * 30, 30).ToArray())).ToArray();
        var (nb, _, _) = Ring(n, 1);
        var nodes = GossipLearning.CreateNodes(learner, new Sgd(0.05f), data, nb, new GossipLearningOptions { Period = 1.0, LocalSteps = 3, BatchSize = 8 }, seed);
        var options = new SimulationOptions
        {
            Seed = seed,
            MaxTime = maxTime,
            Link = new LinkModel(0.05),
            Compute = new ComputeModel(0.02, SpeedDistribution.Uniform(0.5, 3)),
            Metrics = new MetricsOptions { EveryRounds = 0, EverySeconds = 5, Learner = learner, TestSet = test },
        };
        return (nodes, options);
    }

    [Fact]
    public void Gossip_learns_without_rounds_and_is_deterministic()
    {
        var (nodes, options) = Scenario(4, 40);
        var sim = new Simulator(nodes, options);
        var rows = RunRows(sim);
        Assert.Equal(new[] { 0.0, 5, 10, 15, 20, 25, 30, 35, 40 }, rows.Select(r => r.VirtualTime));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), rows.Select(r => r.Tick));
        Assert.All(rows, r => Assert.Equal(8, r.EvaluatedNodes));
        Assert.True(rows[^1].AccuracyMean > 0.9 && rows[0].AccuracyMean < 0.7, $"{rows[0].AccuracyMean} → {rows[^1].AccuracyMean}");
        Assert.Equal(0, rows[0].ConsensusDistance); // same initial model everywhere
        Assert.True(rows[^1].ConsensusDistance > 0);
        // About one message per node per period.
        Assert.InRange(sim.MessagesSent, 8 * 40 * 0.85, 8 * 40 * 1.15);

        var (nodes2, options2) = Scenario(4, 40);
        AssertRowsEqual(rows, RunRows(new Simulator(nodes2, options2)));
        var (nodes3, options3) = Scenario(5, 40);
        Assert.NotEqual(rows[^1].LossMean, RunRows(new Simulator(nodes3, options3))[^1].LossMean);
    }

    [Fact]
    public void Merge_is_weighted_by_model_age()
    {
        // Learning rate 0 keeps parameters fixed while ages grow: node 0 trains 3 steps at start (age 3),
        // node 1 one step (age 1). The first wake-up sends one model; the receiver becomes (3a + 1b) / 4.
        const ulong seed = 2;
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(40, Dim, Classes, 1), 2);
        var a = new float[learner.Layout.Length];
        var b = new float[learner.Layout.Length];
        learner.InitializeParameters(a, 1);
        learner.InitializeParameters(b, 2);
        var sgd = new Sgd(0);
        var n0 = new GossipNode(new[] { 1 }, learner, sgd, data[0], a, new GossipLearningOptions { LocalSteps = 3, BatchSize = 4, Jitter = 0 });
        var n1 = new GossipNode(new[] { 0 }, learner, sgd, data[1], b, new GossipLearningOptions { LocalSteps = 1, BatchSize = 4, Jitter = 0 });
        double w0 = Rng.Derive(seed, 0, 0, GossipLearning.WakeTimer).NextDouble(), w1 = Rng.Derive(seed, 1, 0, GossipLearning.WakeTimer).NextDouble();
        double first = Math.Min(w0, w1), second = Math.Min(Math.Max(w0, w1), first + 1);
        new Simulator(new INodeBehavior[] { n0, n1 }, new SimulationOptions { Seed = seed, MaxTime = (first + second) / 2 }).Run();
        var receiver = w0 < w1 ? n1 : n0;
        var untouched = w0 < w1 ? n0 : n1;
        Assert.Equal(w0 < w1 ? a : b, untouched.Model.Parameters); // the sender keeps its own model
        for (int j = 0; j < a.Length; j++) Assert.Equal((3 * a[j] + b[j]) / 4, receiver.Model.Parameters[j], 5);
        Assert.Equal(w0 < w1 ? 3 + 1 : 3 + 3, receiver.Age); // max(3, 1) + the receiver's own K
    }
}
