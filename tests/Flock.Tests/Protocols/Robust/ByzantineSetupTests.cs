using Flock.Aggregation;
using Flock.Attacks;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using static Flock.Tests.Protocols.Robust.RobustTestSupport;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.Robust;

public class ByzantineSetupTests
{
    [Fact]
    public void Selection_is_seeded_random_or_the_graph_hubs()
    {
        var a = ByzantineSetup.SelectNodes(26, 5, AttackerPlacement.Random, 3);
        Assert.Equal(a, ByzantineSetup.SelectNodes(26, 5, AttackerPlacement.Random, 3));
        Assert.Equal(5, a.Distinct().Count());
        Assert.Equal(a.Order(), a);
        Assert.Equal(AttackerSelection.Random(26, 5, Rng.Derive(3, 0, 0, "byzantine-nodes")), a);
        Assert.NotEqual(a, ByzantineSetup.SelectNodes(26, 5, AttackerPlacement.Random, 4));
        // A star plus a triangle: node 0 links to 1..5, nodes 6, 7, 8 form a triangle (degree 2), 1..5 have degree 1.
        int[][] nb = [[1, 2, 3, 4, 5], [0], [0], [0], [0], [0], [7, 8], [6, 8], [6, 7]];
        Assert.Equal(new[] { 0 }, ByzantineSetup.SelectNodes(9, 1, AttackerPlacement.Hubs, 3, nb));
        var two = ByzantineSetup.SelectNodes(9, 2, AttackerPlacement.Hubs, 3, nb);
        Assert.Equal(0, two[0]);
        Assert.Contains(two[1], new[] { 6, 7, 8 });
        Assert.Throws<ArgumentException>(() => ByzantineSetup.SelectNodes(9, 1, AttackerPlacement.Hubs, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => ByzantineSetup.SelectNodes(9, 10, AttackerPlacement.Random, 3));
    }

    [Fact]
    public void Invalid_setups_are_rejected_with_the_bad_value()
    {
        var learner = TinyMlp(Dim, Classes);
        var (parts, _) = Task(4, 10);
        void Build(ByzantineSetup s) => FedAvg.CreateNodes(learner, new Sgd(), parts, new FedAvgOptions { Byzantine = s }, 1);
        Assert.Contains("id 4", Assert.Throws<ArgumentException>(() => Build(new ByzantineSetup { Nodes = [4] })).Message);
        Assert.Contains("node 1 is listed twice", Assert.Throws<ArgumentException>(() => Build(new ByzantineSetup { Nodes = [1, 1] })).Message);
        Assert.Contains("3 identities but 2", Assert.Throws<ArgumentException>(() => Build(new ByzantineSetup { Nodes = [0, 1], Attack = new Sybil(new SignFlipping(), 3) })).Message);
        Assert.Contains("-1", Assert.Throws<ArgumentException>(() => Build(new ByzantineSetup { Nodes = [0], CollusionTimeout = -1 })).Message);
        Assert.Contains("0 s", Assert.Throws<ArgumentException>(() => Build(new ByzantineSetup { Nodes = [0], RushingTimeout = 0 })).Message);
        Assert.Throws<ArgumentException>(() => new MonnaOptions { F = -1 }.Validate());
        Assert.Throws<ArgumentException>(() => new MonnaOptions { Momentum = 1f }.Validate());
        Assert.Equal(2, new MonnaOptions { Byzantine = new ByzantineSetup { Nodes = [0, 3] } }.EffectiveF);
        Assert.Equal(1, new MonnaOptions { F = 1, Byzantine = new ByzantineSetup { Nodes = [0, 3] } }.EffectiveF);
        Assert.Equal(0, new MonnaOptions().EffectiveF);
    }

    [Fact]
    public void Label_flipping_dsgd_node_trains_on_flipped_labels_and_does_not_craft()
    {
        const ulong seed = 2;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var (parts, _) = Task(1, 20);
        var nodes = DSgd.CreateNodes(learner, sgd, parts, [Array.Empty<int>()], new DSgdOptions
        {
            LocalSteps = 3, BatchSize = 4, Rounds = 1, Byzantine = new ByzantineSetup { Nodes = [0], DataPoisoning = new LabelFlipping() },
        }, seed);
        var node = (DSgdNode)nodes[0];
        Assert.False(node.IsByzantine);
        new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 1 }).Run();
        var expected = Flock.Protocols.LocalModel.InitialParameters(learner, seed);
        long step = 0;
        LocalTrain(learner, sgd, expected, [], ref step, new Flock.Data.DatasetView(LabelFlipping.FlippedDataset(parts[0].Dataset), parts[0].Indices), 3, 4, seed, 0, 1);
        Assert.Equal(expected, node.Model.Parameters);
    }

    [Fact]
    public void Per_neighbour_crafting_sends_each_neighbour_its_own_vector()
    {
        const ulong seed = 6;
        var learner = TinyMlp(Dim, Classes);
        var (parts, _) = Task(4, 10);
        var (nb, _, _) = Complete(4, 0.25);
        foreach (bool perNeighbor in new[] { false, true })
        {
            var nodes = DSgd.CreateNodes(learner, new Sgd(0.1f), parts, nb, new DSgdOptions
            {
                LocalSteps = 1, BatchSize = 4, Rounds = 1,
                Byzantine = new ByzantineSetup { Nodes = [2, 3], Attack = new GaussianAttack(std: 1f), PerNeighbor = perNeighbor },
            }, seed);
            var got = new Dictionary<(int To, int From), float[]>();
            for (int i = 0; i < 2; i++)
            {
                int me = i;
                nodes[i] = new Runtime.ProbeBehavior { Received = (_, from, m) => got[(me, from)] = m.Model.ToArray() };
            }
            new Simulator(nodes, new SimulationOptions { Seed = seed }).Run();
            Assert.Equal(4, got.Count);
            foreach (int from in new[] { 2, 3 })
            {
                if (perNeighbor) Assert.NotEqual(got[(0, from)], got[(1, from)]);
                else Assert.Equal(got[(0, from)], got[(1, from)]);
            }
            Assert.NotEqual(got[(0, 2)], got[(0, 3)]); // each Byzantine node draws from its own stream
        }
    }
}
