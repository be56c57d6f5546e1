using Flock.Aggregation;
using Flock.Attacks;
using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Xunit.Abstractions;
using static Flock.Tests.Protocols.Robust.RobustTestSupport;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.Robust;

public class ByzantineDSgdTests(ITestOutputHelper output)
{
    private const ulong Seed = 5;
    private static readonly int[] Attackers = [3, 7];

    private static INodeBehavior[] Run(DatasetView[] parts, IAggregator aggregator, IModelAttack? attack, int rounds)
    {
        int n = parts.Length;
        var (nb, _, _) = Complete(n, 1.0 / n);
        var nodes = DSgd.CreateNodes(TinyMlp(Dim, Classes), new Sgd(0.1f), parts, nb, new DSgdOptions
        {
            LocalSteps = 2, BatchSize = 8, Rounds = rounds, Aggregator = aggregator,
            Byzantine = attack is null ? null : new ByzantineSetup { Nodes = Attackers, Attack = attack },
        }, Seed);
        new Simulator(nodes, new SimulationOptions { Seed = Seed, MaxRounds = rounds, Compute = new ComputeModel(0.01, SpeedDistribution.Uniform(1, 2)), Link = new LinkModel(0.001) }).Run();
        return nodes;
    }

    [Fact]
    public void Robust_mode_keeps_honest_nodes_near_the_clean_run_while_the_mean_collapses()
    {
        const int n = 10, f = 2, rounds = 20;
        var learner = TinyMlp(Dim, Classes);
        var (parts, test) = Task(n, 30);
        var honest = Enumerable.Range(0, n).Except(Attackers).ToArray();
        float[]? reference = null;
        (double Mean, double Min, double Spread, double FromClean) Measure(INodeBehavior[] nodes)
        {
            var models = HonestModels(nodes, honest);
            var acc = models.Select(m => Accuracy(learner, m, test)).ToArray();
            return (acc.Average(), acc.Min(), MaxPairwiseDistance(models), reference is null ? 0 : models.Max(m => Distance(m, reference)));
        }

        var cleanNodes = Run(parts, Mean.Instance, null, rounds);
        reference = HonestModels(cleanNodes, [0])[0];
        var clean = Measure(cleanNodes);
        output.WriteLine($"clean: {clean}");
        Assert.True(clean.Min > 0.9, $"clean {clean}");
        var flipped = Measure(Run(parts, Mean.Instance, new SignFlipping(), rounds));
        output.WriteLine($"mean under sign flipping: {flipped}");
        Assert.True(flipped.Mean < clean.Mean - 0.3, $"the mean should collapse under sign flipping: {flipped}");
        foreach (IModelAttack attack in new IModelAttack[] { new SignFlipping(), new ALittleIsEnough(), new ALittleIsEnough(z: 3f) })
        {
            foreach (var rule in new IAggregator[] { new TrimmedMean(f), new PreAggregated(new NearestNeighborMixing(f), new TrimmedMean(f)) })
            {
                var r = Measure(Run(parts, rule, attack, rounds));
                output.WriteLine($"{rule.Name} under {attack.Name}: {r}");
                Assert.True(r.Min >= clean.Min - 0.05, $"{rule.Name} under {attack.Name}: {r} vs clean {clean}");
                Assert.True(r.Spread < 0.5, $"{rule.Name} under {attack.Name}: honest models spread {r.Spread}");
                Assert.True(r.FromClean < flipped.FromClean / 4, $"{rule.Name} under {attack.Name}: {r.FromClean} from the clean model; the mean under sign flipping is {flipped.FromClean} away");
            }
        }
    }

    [Fact]
    public void Rushing_alie_crafts_from_every_honest_neighbour_model_and_the_colluders_pool()
    {
        const int n = 5, byz = 2;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var (parts, _) = Task(n, 20);
        var (nb, _, _) = Complete(n, 1.0 / n);
        var recorder = new RecordingAggregator(Mean.Instance);
        var nodes = DSgd.CreateNodes(learner, sgd, parts, nb, new DSgdOptions
        {
            LocalSteps = 2, BatchSize = 4, Rounds = 1, Aggregator = recorder,
            Byzantine = new ByzantineSetup { Nodes = [byz], Attack = new ALittleIsEnough() },
        }, Seed);
        Assert.True(((DSgdNode)nodes[byz]).IsByzantine);
        // Honest nodes finish at different times; the Byzantine node must wait for all of them.
        new Simulator(nodes, new SimulationOptions { Seed = Seed, MaxRounds = 1, Compute = new ComputeModel(0.1, SpeedDistribution.Uniform(1, 4)), Link = new LinkModel(0.01) }).Run();

        var trained = new float[n][];
        for (int i = 0; i < n; i++)
        {
            trained[i] = Flock.Protocols.LocalModel.InitialParameters(learner, Seed);
            long step = 0;
            LocalTrain(learner, sgd, trained[i], [], ref step, parts[i], 2, 4, Seed, i, 1);
        }
        // Observed honest models (id order), then the pool (the Byzantine node's own honest model); n = 5, f = 1 ⇒ z = Φ⁻¹(3/5).
        var honest = new[] { 0, 1, 3, 4, 2 }.Select(i => (ReadOnlyMemory<float>)trained[i]).ToList();
        var expected = new float[trained[0].Length];
        ALittleIsEnough.Craft(honest, (float)ALittleIsEnough.ZMax(n, 1), true, expected);
        // (Calls on short vectors are the mixer's probe of the rule's preconditions.)
        var calls = recorder.Calls.Where(c => c[byz].Length == trained[byz].Length && !c[byz].SequenceEqual(trained[byz])).ToList();
        Assert.Equal(n - 1, calls.Count); // the honest nodes' mixing; the Byzantine node mixes its own honest model
        foreach (var inputs in calls)
        {
            for (int i = 0; i < n; i++) if (i != byz) Assert.Equal(trained[i], inputs[i]);
            for (int j = 0; j < expected.Length; j++) Assert.Equal(expected[j], inputs[byz][j], 5);
        }
    }

    [Fact]
    public void Sybil_identities_send_near_identical_vectors_to_an_honest_node()
    {
        const int n = 4;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var (parts, _) = Task(n, 20);
        var (nb, _, _) = Complete(n, 1.0 / n);
        const float noise = 1e-3f;
        var nodes = DSgd.CreateNodes(learner, sgd, parts, nb, new DSgdOptions
        {
            LocalSteps = 2, BatchSize = 4, Rounds = 1,
            Byzantine = new ByzantineSetup { Nodes = [1, 2, 3], Attack = new Sybil(new SignFlipping(), 3, noise) },
        }, Seed);
        var received = new List<(int From, float[] Model)>();
        nodes[0] = new Runtime.ProbeBehavior { Received = (_, from, m) => received.Add((from, m.Model.ToArray())) };
        new Simulator(nodes, new SimulationOptions { Seed = Seed }).Run();

        Assert.Equal(new[] { 1, 2, 3 }, received.Select(r => r.From).Order());
        // Node 1 crafts first (same instant, lowest id): the base vector is −(its honest model).
        var x1 = Flock.Protocols.LocalModel.InitialParameters(learner, Seed);
        long step = 0;
        LocalTrain(learner, sgd, x1, [], ref step, parts[1], 2, 4, Seed, 1, 1);
        foreach (var (_, v) in received)
            for (int j = 0; j < v.Length; j++) Assert.True(Math.Abs(v[j] + x1[j]) <= noise / 2 + 1e-6, $"coordinate {j}: {v[j]} vs {-x1[j]}");
        for (int a = 0; a < 3; a++)
            for (int b = a + 1; b < 3; b++)
            {
                Assert.NotEqual(received[a].Model, received[b].Model);
                Assert.True(received[a].Model.Zip(received[b].Model).All(p => Math.Abs(p.First - p.Second) <= noise));
            }
    }
}
