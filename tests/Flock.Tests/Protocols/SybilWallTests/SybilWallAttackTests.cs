using Flock.Attacks;
using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using Xunit.Abstractions;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.SybilWallTests;

public class SybilWallAttackTests(ITestOutputHelper output)
{
    private const int Honest = 8, Sybils = 8, Dim = 5, Classes = 3, PerNode = 30;

    /// <summary>
    /// 8 honest nodes on a ring; one adversary with 8 identities, identity i linked to honest nodes i
    /// and i + 3 (every honest node has 2 honest and 2 Sybil neighbours). The adversary trains on
    /// label-flipped data (y → 2 − y), harder than the honest nodes (10 steps at twice the rate).
    /// </summary>
    private static (INodeBehavior[] Nodes, SimulationOptions Options, SybilWallAdversary Adversary) Scenario(SybilWallWeighting weighting, ulong seed, long rounds = 25)
    {
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs((Honest + 2) * PerNode + 150, Dim, Classes, 12);
        var test = new DatasetView(all, Enumerable.Range((Honest + 2) * PerNode, 150).ToArray());
        var data = Enumerable.Range(0, Honest).Select(i => new DatasetView(all, Enumerable.Range(i * PerNode, PerNode).ToArray())).ToArray();
        var neighbors = new int[Honest + Sybils][];
        for (int i = 0; i < Honest; i++)
            neighbors[i] = [(i + 1) % Honest, (i + Honest - 1) % Honest, Honest + i, Honest + (i + Honest - 3) % Honest];
        for (int s = 0; s < Sybils; s++) neighbors[Honest + s] = [s, (s + 3) % Honest];
        var options = new SybilWallOptions
        {
            LocalSteps = 3, BatchSize = 8, Rounds = rounds, Weighting = weighting, Gossip = weighting == SybilWallWeighting.FoolsGold,
        };
        var honest = SybilWall.CreateNodes(learner, new Sgd(0.05f), data, neighbors, options, seed);
        var poisoned = new LabelFlipping().Poison(new DatasetView(all, Enumerable.Range(Honest * PerNode, 2 * PerNode).ToArray()), new Rng(1));
        var adversary = new SybilWallAdversary(learner, new Sgd(0.1f), poisoned, LocalModel.InitialParameters(learner, seed),
            new SybilWallAdversaryOptions { LocalSteps = 10, BatchSize = 8 }, seed);
        var identities = adversary.CreateIdentities(Honest, neighbors[Honest..]);
        var sim = new SimulationOptions
        {
            Seed = seed,
            MaxRounds = rounds,
            Link = new LinkModel(0.05),
            Compute = new ComputeModel(0.01, SpeedDistribution.Uniform(0.5, 2)),
            Metrics = new MetricsOptions { EveryRounds = 5, Learner = learner, TestSet = test },
        };
        return ([.. honest, .. identities], sim, adversary);
    }

    [Fact]
    public void Honest_nodes_stay_accurate_under_a_sybil_attack_while_plain_averaging_is_dragged()
    {
        var (nodes, options, adversary) = Scenario(SybilWallWeighting.FoolsGold, 3);
        var sim = new Simulator(nodes, options);
        var wall = RunRows(sim);
        var (plainNodes, plainOptions, _) = Scenario(SybilWallWeighting.Uniform, 3);
        var plain = RunRows(new Simulator(plainNodes, plainOptions));
        output.WriteLine($"SybilWall accuracy {string.Join(" ", wall.Select(r => r.AccuracyMean.ToString("F3")))}");
        output.WriteLine($"plain     accuracy {string.Join(" ", plain.Select(r => r.AccuracyMean.ToString("F3")))}");

        Assert.All(wall, r => Assert.Equal(Honest, r.EvaluatedNodes)); // identities are not evaluated
        Assert.True(adversary.TrainedRound == 25, $"adversary trained up to round {adversary.TrainedRound}");
        Assert.True(wall[^1].AccuracyMin > 0.85, $"SybilWall min accuracy {wall[^1].AccuracyMin}");
        Assert.True(plain[^1].AccuracyMean < 0.6, $"plain averaging accuracy {plain[^1].AccuracyMean}");

        // The Sybil neighbours got (almost) no weight at the end; some honest neighbour got weight.
        for (int i = 0; i < Honest; i++)
        {
            var node = (SybilWallNode)nodes[i];
            var w = node.LastWeights;
            for (int k = 0; k < node.Neighbors.Count; k++)
                if (node.Neighbors[k] >= Honest) Assert.True(w[k] < 1e-3, $"node {i} gave Sybil {node.Neighbors[k]} weight {w[k]}");
            Assert.True(node.KnownPeers > 4, $"node {i} knows only {node.KnownPeers} peers");
        }
        Assert.Contains(Enumerable.Range(0, Honest), i => ((SybilWallNode)nodes[i]).LastWeights.Where((_, k) => ((SybilWallNode)nodes[i]).Neighbors[k] < Honest).Any(x => x > 0.5));
    }

    [Fact]
    public void Runs_are_deterministic_for_a_seed_and_resume_from_a_checkpoint()
    {
        var (n1, o1, _) = Scenario(SybilWallWeighting.FoolsGold, 5, rounds: 10);
        var full = new Simulator(n1, o1);
        var expected = RunRows(full);
        var (n2, o2, _) = Scenario(SybilWallWeighting.FoolsGold, 5, rounds: 10);
        AssertRowsEqual(expected, RunRows(new Simulator(n2, o2)));
        var (n3, o3, _) = Scenario(SybilWallWeighting.FoolsGold, 6, rounds: 10);
        Assert.NotEqual(expected[^1].LossMean, RunRows(new Simulator(n3, o3))[^1].LossMean);

        // Checkpoint at round 5, resume in a fresh simulator: same rows and final states.
        var (n4, o4, _) = Scenario(SybilWallWeighting.FoolsGold, 5, rounds: 10);
        var first = new Simulator(n4, o4);
        var checkpoint = new MemoryStream();
        using var cts = new CancellationTokenSource();
        first.Progress += p => { if (checkpoint.Length == 0 && p.Round >= 5) { first.SaveCheckpoint(checkpoint); cts.Cancel(); } };
        var before = RunRows(first, cts.Token);
        Assert.True(checkpoint.Length > 0);
        var (n5, o5, _) = Scenario(SybilWallWeighting.FoolsGold, 5, rounds: 10);
        var resumed = new Simulator(n5, o5);
        checkpoint.Position = 0;
        resumed.LoadCheckpoint(checkpoint);
        AssertRowsEqual(expected, [.. before, .. RunRows(resumed)]);
        for (int i = 0; i < n1.Length; i++) Assert.Equal(State(n1[i]), State(n5[i]));
    }

    private static byte[] State(INodeBehavior node)
    {
        var ms = new MemoryStream();
        using (var w = new StateWriter(ms)) node.WriteState(w);
        return ms.ToArray();
    }
}
