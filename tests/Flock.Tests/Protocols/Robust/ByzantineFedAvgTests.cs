using Flock.Aggregation;
using Flock.Attacks;
using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using Xunit.Abstractions;
using static Flock.Tests.Protocols.Robust.RobustTestSupport;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.Robust;

public class ByzantineFedAvgTests(ITestOutputHelper output)
{
    private const ulong Seed = 21;

    private static float[] RunFedAvg(DatasetView[] parts, IAggregator aggregator, ByzantineSetup? byzantine, int rounds, out INodeBehavior[] nodes)
    {
        var learner = TinyMlp(Dim, Classes);
        nodes = FedAvg.CreateNodes(learner, new Sgd(0.1f), parts,
            new FedAvgOptions { LocalSteps = 5, BatchSize = 8, Rounds = rounds, Aggregator = aggregator, Byzantine = byzantine }, Seed);
        new Simulator(nodes, new SimulationOptions { Seed = Seed, MaxRounds = rounds }).Run();
        return ((FedAvgCoordinator)nodes[^1]).GlobalModel.ToArray();
    }

    [Fact]
    public void Sign_flipping_clients_drag_the_mean_but_not_robust_rules()
    {
        const int n = 10, f = 2, rounds = 15;
        var learner = TinyMlp(Dim, Classes);
        var (parts, test) = Task(n, 30);
        var attack = new ByzantineSetup { Nodes = [2, 7], Attack = new SignFlipping(4f) };
        var clean = RunFedAvg(parts, Mean.Instance, null, rounds, out _);
        double cleanAcc = Accuracy(learner, clean, test);
        var attacked = RunFedAvg(parts, Mean.Instance, attack, rounds, out _);
        double meanAcc = Accuracy(learner, attacked, test), meanDist = Distance(attacked, clean);
        output.WriteLine($"clean {cleanAcc:F3}; mean under attack {meanAcc:F3} (distance {meanDist:F2})");
        Assert.True(cleanAcc > 0.9, $"clean accuracy {cleanAcc}");
        Assert.True(meanAcc < cleanAcc - 0.3, $"the mean should be dragged: {meanAcc} vs clean {cleanAcc}");

        IAggregator[] robust =
        [
            new CoordinateWiseMedian(), new TrimmedMean(f),
            new PreAggregated(new NearestNeighborMixing(f), new TrimmedMean(f)),
            new PreAggregated(new Bucketing(2), new CoordinateWiseMedian()),
        ];
        foreach (var rule in robust)
        {
            var model = RunFedAvg(parts, rule, attack, rounds, out _);
            double acc = Accuracy(learner, model, test), dist = Distance(model, clean);
            output.WriteLine($"{rule.Name}: accuracy {acc:F3}, distance to clean {dist:F2}");
            Assert.True(acc >= cleanAcc - 0.05, $"{rule.Name}: accuracy {acc} vs clean {cleanAcc}");
            Assert.True(dist < meanDist / 3, $"{rule.Name}: distance {dist} vs the mean's {meanDist}");
        }
    }

    [Fact]
    public void Colluders_send_one_alie_vector_built_from_their_pooled_honest_updates()
    {
        const int n = 6;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var (parts, _) = Task(n, 20);
        var recorder = new RecordingAggregator(Mean.Instance);
        var nodes = FedAvg.CreateNodes(learner, sgd, parts, new FedAvgOptions
        {
            LocalSteps = 3, BatchSize = 4, Rounds = 1, Aggregator = recorder,
            Byzantine = new ByzantineSetup { Nodes = [4, 1], Attack = new ALittleIsEnough() },
        }, Seed);
        Assert.IsType<ByzantineFedAvgClient>(nodes[1]);
        Assert.IsType<FedAvgClient>(nodes[0]);
        new Simulator(nodes, new SimulationOptions { Seed = Seed, MaxRounds = 1, Compute = new ComputeModel(0.01, SpeedDistribution.Uniform(1, 3)) }).Run();

        var init = Flock.Protocols.LocalModel.InitialParameters(learner, Seed);
        var trained = new float[n][];
        for (int i = 0; i < n; i++)
        {
            trained[i] = (float[])init.Clone();
            long step = 0;
            LocalTrain(learner, sgd, trained[i], [], ref step, parts[i], 3, 4, Seed, i, 1);
        }
        // Pool = the colluders' honest updates in id order; n = 6 clients per round, f = 2: s = 2, z = Φ⁻¹(4/6).
        var updates = new[] { 1, 4 }.Select(i => (ReadOnlyMemory<float>)trained[i].Zip(init, (x, g) => x - g).ToArray()).ToList();
        var alie = new float[init.Length];
        ALittleIsEnough.Craft(updates, (float)ALittleIsEnough.ZMax(6, 2), true, alie);
        var inputs = Assert.Single(recorder.Calls);
        Assert.Equal(n, inputs.Length);
        Assert.Equal(inputs[1], inputs[4]);
        for (int j = 0; j < init.Length; j++) Assert.Equal(init[j] + alie[j], inputs[1][j], 5);
        foreach (int i in new[] { 0, 2, 3, 5 }) Assert.Equal(trained[i], inputs[i]);
        Assert.NotEqual(trained[1], inputs[1]);
    }

    [Fact]
    public void Label_flipping_client_trains_on_flipped_labels_and_otherwise_follows_the_protocol()
    {
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var (parts, _) = Task(3, 20);
        var recorder = new RecordingAggregator(Mean.Instance);
        var nodes = FedAvg.CreateNodes(learner, sgd, parts, new FedAvgOptions
        {
            LocalSteps = 4, BatchSize = 5, Rounds = 1, Aggregator = recorder,
            Byzantine = new ByzantineSetup { Nodes = [1], DataPoisoning = new LabelFlipping() },
        }, Seed);
        Assert.IsType<FedAvgClient>(nodes[1]);
        new Simulator(nodes, new SimulationOptions { Seed = Seed, MaxRounds = 1 }).Run();
        var flipped = new LabelFlipping().Poison(parts[1], new Rng(0));
        Assert.Equal(parts[1].Dataset.Labels!.Select(y => Classes - 1 - y), flipped.Dataset.Labels!);
        var expected = Flock.Protocols.LocalModel.InitialParameters(learner, Seed);
        long step = 0;
        LocalTrain(learner, sgd, expected, [], ref step, flipped, 4, 5, Seed, 1, 1);
        Assert.Equal(expected, recorder.Calls[0][1]);
    }

    [Fact]
    public void Boosted_backdoor_client_sends_the_model_replacement_of_its_poisoned_model()
    {
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var (parts, _) = Task(2, 20);
        var backdoor = new Backdoor(targetClass: 2, poisonFraction: 0.5f, trigger: new BackdoorTrigger(size: 1, height: 1, width: Dim, margin: 0), boost: 3f);
        var recorder = new RecordingAggregator(Mean.Instance);
        var nodes = FedAvg.CreateNodes(learner, sgd, parts, new FedAvgOptions
        {
            LocalSteps = 4, BatchSize = 5, Rounds = 1, Aggregator = recorder,
            Byzantine = new ByzantineSetup { Nodes = [0], DataPoisoning = backdoor },
        }, Seed);
        var client = Assert.IsType<ByzantineFedAvgClient>(nodes[0]);
        new Simulator(nodes, new SimulationOptions { Seed = Seed, MaxRounds = 1 }).Run();

        var poisoned = backdoor.Poison(parts[0], Rng.Derive(Seed, 0, 0, "poison"));
        Assert.Equal(poisoned.Dataset.Labels!, client.Data.Dataset.Labels!);
        int stamped = Enumerable.Range(0, client.Data.Count).Count(i => client.Data.Dataset.Example(client.Data.Indices[i])[Dim - 1] == 1f && client.Data.Dataset.Labels![client.Data.Indices[i]] == 2);
        Assert.Equal(backdoor.PoisonCount(20), stamped);
        var global = Flock.Protocols.LocalModel.InitialParameters(learner, Seed);
        var local = (float[])global.Clone();
        long step = 0;
        LocalTrain(learner, sgd, local, [], ref step, poisoned, 4, 5, Seed, 0, 1);
        var sent = recorder.Calls[0][0];
        for (int j = 0; j < sent.Length; j++) Assert.Equal(global[j] + 3f * (local[j] - global[j]), sent[j], 5);
    }
}
