using System.Diagnostics;
using Flock.Attacks;
using Flock.Data;
using Flock.Data.Partitioning;
using Flock.Models;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using Flock.Tests.Runtime;
using Flock.Topology.Generators;
using Xunit.Abstractions;

namespace Flock.Tests.Protocols.SybilWallTests;

/// <summary>
/// Quick real check (not part of the suite; FLOCK_BENCH=1): 30 honest nodes on a Barabási–Albert
/// graph (m = 2) with Fashion-MNIST (IID shards), one adversary with 10 Sybil identities (each
/// linked to 2 random honest nodes) training a backdoor; SybilWall vs plain neighbourhood averaging.
/// </summary>
public class SybilWallFashionMnistCheck(ITestOutputHelper output)
{
    [BenchFact]
    public void SybilWall_vs_plain_averaging_under_a_sybil_backdoor()
    {
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("FLOCK_ROUNDS"), out int r) ? r : 30;
        const int honest = 30, sybils = 10, perNode = 400;
        const ulong seed = 1;
        var data = FashionMnist.Load(new FashionMnistOptions { MaxTrainExamples = honest * perNode + 1000, MaxTestExamples = 2000 });
        var learner = Mlp.CreateClassifier(FashionMnist.ExampleShape, [64], 10);
        var shards = new IidPartitioner().Partition(new DatasetView(data.Train, Enumerable.Range(0, honest * perNode).ToArray()), honest, seed);
        var backdoor = new Backdoor(targetClass: 0, poisonFraction: 0.5f);
        var poisoned = backdoor.Poison(new DatasetView(data.Train, Enumerable.Range(honest * perNode, 1000).ToArray()), Rng.Derive(seed, 0, 0, "poison"));
        var test = data.Test.All();

        var graph = new BarabasiAlbert(2).Generate(honest, seed);
        var neighbors = new List<int>[honest + sybils];
        for (int i = 0; i < honest; i++) neighbors[i] = graph.Neighbors(i).ToArray().ToList();
        var attach = Rng.Derive(seed, 0, 0, "sybil-edges");
        for (int s = 0; s < sybils; s++)
        {
            neighbors[honest + s] = new List<int>();
            while (neighbors[honest + s].Count < 2)
            {
                int v = attach.NextInt(honest);
                if (neighbors[honest + s].Contains(v)) continue;
                neighbors[honest + s].Add(v);
                neighbors[v].Add(honest + s);
            }
        }
        var nb = neighbors.Select(l => l.ToArray()).ToArray();
        output.WriteLine($"graph: {graph}, {sybils} Sybil identities × 2 attack edges");

        foreach (var weighting in new[] { SybilWallWeighting.FoolsGold, SybilWallWeighting.Uniform })
        {
            var options = new SybilWallOptions
            {
                LocalSteps = 10, BatchSize = 32, Rounds = rounds, Weighting = weighting, Gossip = weighting == SybilWallWeighting.FoolsGold,
            };
            var nodes = SybilWall.CreateNodes(learner, new Sgd(0.05f), shards, nb, options, seed);
            var adversary = new SybilWallAdversary(learner, new Sgd(0.05f), poisoned, LocalModel.InitialParameters(learner, seed),
                new SybilWallAdversaryOptions { LocalSteps = 10, BatchSize = 32 }, seed);
            var identities = adversary.CreateIdentities(honest, nb[honest..]);
            var sim = new Simulator([.. nodes, .. identities], new SimulationOptions
            {
                Seed = seed,
                MaxRounds = rounds,
                Link = new LinkModel(0.05, 12.5e6),
                Compute = new ComputeModel(0.01, SpeedDistribution.LogNormal(0, 0.3)),
                Metrics = new MetricsOptions { EveryRounds = 5, Learner = learner, TestSet = test, ExtraMetrics = [new AttackSuccessRate(learner, backdoor, test)] },
            });
            var sw = Stopwatch.StartNew();
            var rows = SimTestSupport.RunRows(sim);
            foreach (var row in rows)
                output.WriteLine($"{weighting,-9} round {row.Round,3}: honest accuracy {row.AccuracyMean:F4} (min {row.AccuracyMin:F4}), ASR {row.Extra[0].Value:F4}");
            output.WriteLine($"{weighting}: {sw.Elapsed.TotalSeconds:F1} s wall, {sim.BytesSent / 1e6:F1} MB sent");
            var wall = nodes.Cast<SybilWallNode>().ToArray();
            var pairs = wall.SelectMany(n => n.Neighbors.Select((j, k) => (Sybil: j >= honest, W: n.LastWeights[k]))).Where(p => !double.IsNaN(p.W)).ToArray();
            output.WriteLine($"{weighting}: last-round weights: honest neighbours mean {pairs.Where(p => !p.Sybil).Average(p => p.W):F3}, " +
                $"Sybil neighbours mean {pairs.Where(p => p.Sybil).Average(p => p.W):F4} (max {pairs.Where(p => p.Sybil).Max(p => p.W):F4}); known peers mean {wall.Average(n => n.KnownPeers):F1}");
        }
    }
}
