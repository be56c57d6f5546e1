using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using Xunit.Abstractions;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.BristleTests;

/// <summary>A Byzantine Bristle peer: answers every output layer it receives with a random or sign-flipped one.</summary>
internal sealed class ByzantineHead(bool signFlip, float scale) : INodeBehavior
{
    public bool ReportsRounds => false;
    public ReadOnlyMemory<float> EvaluationModel => ReadOnlyMemory<float>.Empty;
    public void OnStart(INodeContext context) { }

    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (message.Kind != Bristle.ModelKind) return;
        var v = new float[message.Model.Length];
        if (signFlip) for (int i = 0; i < v.Length; i++) v[i] = -scale * message.Model.Span[i];
        else context.DeriveRng("byzantine", message.Round * 1000 + from).FillGaussian(v, 0, scale);
        context.Send(from, new Message(Bristle.ModelKind, message.Round, v));
    }

    public void OnTimer(INodeContext context, TimerTag timer) { }
    public void OnTrainingFinished(INodeContext context, TrainingResult result) { }
    public void OnRecover(INodeContext context) { }
    public void WriteState(StateWriter writer) { }
    public void ReadState(StateReader reader) { }
}

public class BristleByzantineTests(ITestOutputHelper output)
{
    private const int Honest = 6, Byzantine = 4, Dim = 5, Classes = 3;

    /// <summary>6 honest nodes (complete graph among them) and 4 Byzantine peers linked to every honest node (2 random, 2 sign-flipping).</summary>
    private static (INodeBehavior[] Nodes, SimulationOptions Options) Scenario(ulong seed, BristleOptions options)
    {
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(Honest * 40 + 60 + 150, Dim, Classes, 21);
        var publicData = new DatasetView(all, Enumerable.Range(Honest * 40, 60).ToArray());
        var test = new DatasetView(all, Enumerable.Range(Honest * 40 + 60, 150).ToArray());
        var shared = Bristle.PretrainFeatures(learner, new Sgd(0.05f), publicData, 100, 16, seed);
        var splits = Enumerable.Range(0, Honest).Select(i => Bristle.SplitLocalTest(new DatasetView(all, Enumerable.Range(i * 40, 40).ToArray()), 15, i, seed)).ToArray();
        var neighbors = new int[Honest + Byzantine][];
        for (int i = 0; i < Honest; i++) neighbors[i] = Enumerable.Range(0, Honest + Byzantine).Where(j => j != i).ToArray();
        for (int b = 0; b < Byzantine; b++) neighbors[Honest + b] = Enumerable.Range(0, Honest).ToArray();
        var honest = Bristle.CreateNodes(learner, new Sgd(0.1f), splits.Select(s => s.Train).ToArray(), splits.Select(s => s.Test).ToArray(), neighbors, shared, options, seed);
        INodeBehavior[] byzantine = [new ByzantineHead(false, 1), new ByzantineHead(false, 5), new ByzantineHead(true, 1), new ByzantineHead(true, 3)];
        var sim = new SimulationOptions
        {
            Seed = seed,
            MaxRounds = options.Rounds,
            Link = new LinkModel(0.05),
            Compute = new ComputeModel(0.01, SpeedDistribution.Uniform(0.5, 2)),
            Metrics = new MetricsOptions { EveryRounds = 4, Learner = learner, TestSet = test },
        };
        return ([.. honest, .. byzantine], sim);
    }

    [Theory]
    [InlineData(50, 5)]
    [InlineData(4, 2)]
    public void Byzantine_output_layers_get_weight_zero_and_honest_nodes_learn(int nearest, int random)
    {
        var options = new BristleOptions { LocalSteps = 5, BatchSize = 8, Rounds = 12, NearestModels = nearest, RandomModels = random };
        var (nodes, sim) = Scenario(3, options);
        var rows = RunRows(new Simulator(nodes, sim));
        output.WriteLine(string.Join(" ", rows.Select(r => $"{r.Round}:{r.AccuracyMean:F3}")));
        Assert.All(rows, r => Assert.Equal(Honest, r.EvaluatedNodes));
        Assert.True(rows[^1].AccuracyMin > 0.9, $"min accuracy {rows[^1].AccuracyMin}");
        int honestWeighted = 0, scored = 0;
        for (int i = 0; i < Honest; i++)
        {
            var node = (BristleNode)nodes[i];
            var (weights, scores) = node.LastIntegration;
            for (int k = 0; k < node.Neighbors.Count; k++)
            {
                if (double.IsNaN(weights[k])) continue; // not selected by the prioritizer
                scored++;
                if (node.Neighbors[k] >= Honest) Assert.True(weights[k] == 0, $"node {i} gave Byzantine {node.Neighbors[k]} weight {weights[k]} (score {scores[k]})");
                else if (weights[k] > 0) honestWeighted++;
            }
            Assert.Equal(Math.Min(nearest + random, Honest - 1 + Byzantine), weights.Count(w => !double.IsNaN(w)));
        }
        Assert.True(honestWeighted > Honest, $"only {honestWeighted} honest neighbours got weight (of {scored} scored)");
    }

    [Fact]
    public void Runs_are_deterministic_for_a_seed_and_resume_from_a_checkpoint()
    {
        var options = new BristleOptions { LocalSteps = 3, BatchSize = 8, Rounds = 6, NearestModels = 4, RandomModels = 1 };
        var (n1, o1) = Scenario(7, options);
        var expected = RunRows(new Simulator(n1, o1));
        var (n2, o2) = Scenario(7, options);
        AssertRowsEqual(expected, RunRows(new Simulator(n2, o2)));
        for (int i = 0; i < Honest; i++) Assert.Equal(((BristleNode)n1[i]).Model.Parameters, ((BristleNode)n2[i]).Model.Parameters);
        var (n3, o3) = Scenario(8, options);
        Assert.NotEqual(expected[^1].LossMean, RunRows(new Simulator(n3, o3))[^1].LossMean);

        // Checkpoint at round 3, resume in a fresh simulator: same rows and final models.
        var (n4, o4) = Scenario(7, options);
        var first = new Simulator(n4, o4);
        var checkpoint = new MemoryStream();
        using var cts = new CancellationTokenSource();
        first.Progress += p => { if (checkpoint.Length == 0 && p.Round >= 3) { first.SaveCheckpoint(checkpoint); cts.Cancel(); } };
        var before = RunRows(first, cts.Token);
        Assert.True(checkpoint.Length > 0);
        var (n5, o5) = Scenario(7, options);
        var resumed = new Simulator(n5, o5);
        checkpoint.Position = 0;
        resumed.LoadCheckpoint(checkpoint);
        AssertRowsEqual(expected, [.. before, .. RunRows(resumed)]);
        for (int i = 0; i < Honest; i++) Assert.Equal(((BristleNode)n1[i]).Model.Parameters, ((BristleNode)n5[i]).Model.Parameters);
    }
}
