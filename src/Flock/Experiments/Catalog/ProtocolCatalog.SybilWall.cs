using Flock.Attacks;
using Flock.Data;
using Flock.Experiments.Config;
using Flock.Protocols;
using Flock.Tensors;

namespace Flock.Experiments.Catalog;

public static partial class ProtocolCatalog
{
    private static readonly Param<double> Lambda = Params.Double("lambda", SybilWallOptions.DefaultLambda, "record forwarding: probability ∝ λe^(−λd) for hop distance d", min: 0, minExclusive: true);
    private static readonly Param<double> Kappa = Params.Double("kappa", 1.0, "FoolsGold logit confidence κ", min: 0, minExclusive: true);
    private static readonly Param<string> Weighting = Params.String("weighting", "foolsgold", "how a node weights its neighbours' models", "foolsgold", "uniform");
    private static readonly Param<bool> RecordGossip = Params.Bool("gossip", true, "forward records of distant peers (SybilWall's probabilistic gossip)");

    private static readonly Param<string> AttackName = Params.String("name", "none", "the attack", "none", "sybil-backdoor");
    private static readonly Param<int> Identities = Params.Int("identities", 10, "Sybil identities controlled by the one adversary", min: 1);
    private static readonly Param<int> EdgesPerIdentity = Params.Int("edges_per_identity", 2, "honest nodes each identity links to", min: 1);
    private static readonly Param<int> TargetClass = Params.Int("target_class", 0, "backdoor target label", min: 0);
    private static readonly Param<double> PoisonFraction = Params.Double("poison_fraction", 0.5, "share of the adversary's examples stamped with the trigger", min: 0, max: 1, minExclusive: true);
    private static readonly Param<int> AdversaryExamples = Params.Int("examples", 1000, "training examples the adversary holds (a seeded sample of the training set)", min: 1);

    private static void AddSybilWall(ComponentRegistry<ProtocolContext, ProtocolSetup> r) => r.Add("sybilwall",
        "SybilWall: gossip of distant peers' records and FoolsGold-style similarity weights against Sybil attacks ([attack] name = \"sybil-backdoor\" adds one adversary with k identities).",
        "Werthenbach and Pouwelse, \"Towards Sybil Resilience in Decentralized Learning\", 2023",
        new Param[] { Rounds, LocalSteps, BatchSize, RoundTimeout, Lambda, Kappa, Weighting, RecordGossip },
        (s, c) =>
        {
            var g = StaticGraph(NeedTopology(c, "sybilwall"), "sybilwall");
            int honest = g.NodeCount;
            var o = new SybilWallOptions
            {
                Rounds = s.Get(Rounds), LocalSteps = s.Get(LocalSteps), BatchSize = s.Get(BatchSize), RoundTimeout = Timeout(s),
                Lambda = s.Get(Lambda), Kappa = s.Get(Kappa), Gossip = s.Get(RecordGossip),
                Weighting = s.Get(Weighting) == "uniform" ? SybilWallWeighting.Uniform : SybilWallWeighting.FoolsGold,
            };
            o.Validate();
            var neighbors = Enumerable.Range(0, honest).Select(i => g.Neighbors(i).ToArray().ToList()).ToList();
            var a = c.Attack;
            if (a.Get(AttackName) == "none")
            {
                foreach (var key in a.Table.Keys) a.MarkUsed(key);
                var nb0 = neighbors.Select(l => l.ToArray()).ToArray();
                return new ProtocolSetup(() => SybilWall.CreateNodes(c.Learner, c.Optimizer, c.Partitions, nb0, o, c.Seed), honest, o.Rounds, double.PositiveInfinity,
                    $"SybilWall ({o.Weighting}), {honest} nodes");
            }
            int k = a.Get(Identities), edges = a.Get(EdgesPerIdentity);
            if (edges > honest) throw new ArgumentException($"edges_per_identity = {edges} exceeds the {honest} honest nodes.");
            var backdoor = new Backdoor(a.Get(TargetClass), (float)a.Get(PoisonFraction));
            int examples = Math.Min(a.Get(AdversaryExamples), c.Train.Count);
            var pick = Enumerable.Range(0, c.Train.Count).ToArray();
            Rng.Derive(c.Seed, 0, 0, "adversary-data").Shuffle(pick.AsSpan());
            var poisoned = backdoor.Poison(new DatasetView(c.Train, pick[..examples].Order().ToArray()), Rng.Derive(c.Seed, 0, 0, "poison"));
            var attach = Rng.Derive(c.Seed, 0, 0, "sybil-edges");
            for (int id = 0; id < k; id++)
            {
                var mine = new List<int>();
                while (mine.Count < edges)
                {
                    int v = attach.NextInt(honest);
                    if (mine.Contains(v)) continue;
                    mine.Add(v);
                    neighbors[v].Add(honest + id);
                }
                neighbors.Add(mine);
            }
            var nb = neighbors.Select(l => l.ToArray()).ToArray();
            return new ProtocolSetup(() =>
            {
                var nodes = SybilWall.CreateNodes(c.Learner, c.Optimizer, c.Partitions, nb, o, c.Seed);
                var adversary = new SybilWallAdversary(c.Learner, c.Optimizer, poisoned, LocalModel.InitialParameters(c.Learner, c.Seed),
                    new SybilWallAdversaryOptions { LocalSteps = o.LocalSteps, BatchSize = o.BatchSize }, c.Seed);
                return [.. nodes, .. adversary.CreateIdentities(honest, nb[honest..])];
            }, honest + k, o.Rounds, double.PositiveInfinity,
                $"SybilWall ({o.Weighting}), {honest} honest nodes, one adversary with {k} Sybil identities (backdoor → class {backdoor.TargetClass})",
                new[] { new Flock.Runtime.Simulation.AttackSuccessRate(c.Learner, backdoor, c.Test.All()) }, HasAttackers: true);
        });
}
