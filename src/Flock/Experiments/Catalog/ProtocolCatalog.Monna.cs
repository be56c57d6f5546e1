using Flock.Experiments.Config;
using Flock.Protocols;

namespace Flock.Experiments.Catalog;

public static partial class ProtocolCatalog
{
    private static readonly Param<double> MonnaLr = Params.Double("learning_rate", MonnaOptions.DefaultLearningRate, "step size γ of x ← x − γ·m", min: 0, minExclusive: true);
    private static readonly Param<double> MonnaBeta = Params.Double("momentum", MonnaOptions.DefaultMomentum, "β of m ← β·m + (1−β)·g", min: 0, max: 1, maxExclusive: true);
    private static readonly Param<double> MonnaWd = Params.Double("weight_decay", MonnaOptions.DefaultWeightDecay, "L2 regularisation", min: 0);
    private static readonly Param<int> MonnaF = Params.Int("f", -1, "Byzantine nodes NNA tolerates (-1 = the number of attackers)", min: -1);
    private static readonly Param<int> MonnaBatch = Params.Int("batch_size", 25, "mini-batch size", min: 1);
    private static readonly Param<int> MonnaSteps = Params.Int("local_steps", 1, "local momentum steps per round", min: 1);

    private static void AddMonna(ComponentRegistry<ProtocolContext, ProtocolSetup> r) => r.Add("monna",
        "MoNNA: local Polyak momentum, then nearest-neighbour averaging (keep the count − f received models closest to one's own). Uses its own momentum step, not [optimizer].",
        "Farhadkhani et al., \"Robust Collaborative Learning with Linear Gradient Overhead\", 2023",
        new Param[] { Rounds, MonnaSteps, MonnaBatch, RoundTimeout, MonnaLr, MonnaBeta, MonnaWd, MonnaF },
        (s, c) =>
        {
            var g = StaticGraph(NeedTopology(c, "monna"), "monna");
            int n = g.NodeCount;
            var nb = NeighborArrays(g);
            var byz = AttackConfig.Create(c.Attack, n, nb, c.Aggregator, c.Seed);
            int f = s.Get(MonnaF);
            var o = new MonnaOptions
            {
                Rounds = s.Get(Rounds), LocalSteps = s.Get(MonnaSteps), BatchSize = s.Get(MonnaBatch), RoundTimeout = Timeout(s),
                LearningRate = (float)s.Get(MonnaLr), Momentum = (float)s.Get(MonnaBeta), WeightDecay = (float)s.Get(MonnaWd),
                F = f < 0 ? null : f, Byzantine = byz,
            };
            o.Validate();
            return new ProtocolSetup(() => Monna.CreateNodes(c.Learner, c.Partitions, nb, o, c.Seed), n, o.Rounds, double.PositiveInfinity,
                $"MoNNA, {n} nodes, β = {o.Momentum}{AttackText(byz)}", AttackMetrics(c, byz), byz is not null, byz?.Nodes);
        });
}
