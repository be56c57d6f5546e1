using Flock.Aggregation;
using Flock.Attacks;
using Flock.Experiments.Config;
using Flock.Protocols;

namespace Flock.Experiments.Catalog;

/// <summary>
/// Reads <c>[attack]</c> for protocols with Byzantine nodes (fedavg, dsgd, monna): which attack,
/// how many attackers (<c>count</c> or <c>fraction</c>), where they sit (<c>placement</c>) and the
/// attack's own parameters. See <c>flock list attack</c>.
/// </summary>
public static class AttackConfig
{
    private static readonly Param<int> Count = Params.Int("count", 0, "number of Byzantine nodes (or give fraction)", min: 0);
    private static readonly Param<double> Fraction = Params.Double("fraction", 0, "share of nodes that are Byzantine (used when count is 0)", min: 0, max: 1, maxExclusive: true);
    private static readonly Param<string> Placement = Params.String("placement", "random", "which nodes attack: seeded random ones or the highest-degree hubs", "random", "hubs");
    private static readonly Param<bool> Rushing = Params.Bool("rushing", true, "decentralized attackers wait for the honest models of the round before crafting theirs");
    private static readonly Param<double> Scale = Params.Double("scale", 1.0, "sign flipping: send −scale·x", min: 0, minExclusive: true);
    private static readonly Param<double> Mean = Params.Double("mean", 0.0, "Gaussian attack: mean");
    private static readonly Param<double> Std = Params.Double("std", 1.0, "Gaussian attack: standard deviation", min: 0);
    private static readonly Param<double> Epsilon = Params.Double("epsilon", InnerProductManipulation.DefaultEpsilon, "IPM: send −ε·mean(honest)", min: 0, minExclusive: true);
    private static readonly Param<double> Z = Params.Double("z", 0, "ALIE: mean − z·std (0 = z_max from n and f, as in the paper)", min: 0);
    private static readonly Param<int> MimicIndex = Params.Int("index", 0, "mimic: which honest node to copy", min: 0);
    private static readonly Param<int> Evaluations = Params.Int("evaluations", LineSearch.DefaultEvaluations, "optimal attacks: aggregator calls of the line search", min: 2);
    private static readonly Param<int> TargetClass = Params.Int("target_class", 0, "backdoor target label", min: 0);
    private static readonly Param<double> PoisonFraction = Params.Double("poison_fraction", Backdoor.DefaultPoisonFraction, "backdoor: share of the attacker's examples stamped with the trigger", min: 0, max: 1, minExclusive: true);
    private static readonly Param<double> Boost = Params.Double("boost", 1.0, "backdoor: scale the attacker's update (model replacement)", min: 0, minExclusive: true);

    private static readonly Param[] Common = { Count, Fraction, Placement, Rushing };

    /// <summary>Registered attacks: model poisoning (crafted vectors) and data poisoning.</summary>
    public static ComponentRegistry<(ConfigSection S, IAggregator Rule), (IModelAttack? Model, IDataPoisoning? Data)> Registry { get; } =
        new ComponentRegistry<(ConfigSection S, IAggregator Rule), (IModelAttack?, IDataPoisoning?)>("attack")
            .Add("sign-flip", "Send −scale times the honest vector.", "Allen-Zhu et al., 2020; Karimireddy et al., 2021", Common.Append(Scale).ToArray(),
                (s, _) => (new SignFlipping((float)s.Get(Scale)), null))
            .Add("gaussian", "Send a random Gaussian vector.", "Blanchard et al., 2017", Common.Concat(new Param[] { Mean, Std }).ToArray(),
                (s, _) => (new GaussianAttack((float)s.Get(Mean), (float)s.Get(Std)), null))
            .Add("ipm", "Inner-product manipulation: send −ε·mean(honest).", "Xie et al., \"Fall of Empires: Breaking Byzantine-tolerant SGD by Inner Product Manipulation\", 2020",
                Common.Append(Epsilon).ToArray(), (s, _) => (new InnerProductManipulation((float)s.Get(Epsilon)), null))
            .Add("alie", "A little is enough: mean − z·std per coordinate.", "Baruch et al., \"A Little Is Enough: Circumventing Defenses For Distributed Learning\", 2019",
                Common.Append(Z).ToArray(), (s, _) => (new ALittleIsEnough(s.Get(Z) == 0 ? null : (float)s.Get(Z)), null))
            .Add("mimic", "Copy one honest node's vector.", "Karimireddy et al., \"Byzantine-Robust Learning on Heterogeneous Datasets via Bucketing\", 2022",
                Common.Append(MimicIndex).ToArray(), (s, _) => (new Mimic(MimicTarget.Fixed, s.Get(MimicIndex)), null))
            .Add("optimal-alie", "ALIE with z line-searched against the aggregator in use.", "Allouah et al., \"Fixing by Mixing\", 2023",
                Common.Append(Evaluations).ToArray(), (s, _) => (new OptimalALittleIsEnough(new LineSearch(s.Get(Evaluations))), null))
            .Add("optimal-ipm", "IPM with ε line-searched against the aggregator in use.", "Allouah et al., \"Fixing by Mixing\", 2023",
                Common.Append(Evaluations).ToArray(), (s, _) => (new OptimalInnerProductManipulation(new LineSearch(s.Get(Evaluations))), null))
            .Add("label-flip", "Train on labels y → C−1−y.", "Biggio et al., 2012", Common,
                (s, _) => (null, new LabelFlipping()))
            .Add("backdoor", "Trigger patch + target label on part of the attacker's data; optional update boosting.", "Bagdasaryan et al., \"How To Backdoor Federated Learning\", 2020",
                Common.Concat(new Param[] { TargetClass, PoisonFraction, Boost }).ToArray(),
                (s, _) => (null, new Backdoor(s.Get(TargetClass), (float)s.Get(PoisonFraction), boost: (float)s.Get(Boost))));

    /// <summary>
    /// Builds the Byzantine setup from <c>[attack]</c>, or null when there is none (absent, or name = "none").
    /// </summary>
    /// <exception cref="ConfigException">Unknown attack, bad parameter, no attacker count, too many attackers.</exception>
    public static ByzantineSetup? Create(ConfigSection section, int nodes, IReadOnlyList<int[]>? neighbors, IAggregator rule, ulong seed)
    {
        string name = section.Get(Params.String("name", "none", "the attack (none = no attackers)"));
        if (name == "none")
        {
            // "none" switches the attack off; the table's other keys are then ignored on purpose (so --set attack.name=none works).
            foreach (var key in section.Table.Keys) section.MarkUsed(key);
            return null;
        }
        var (model, data) = Registry.Create(name, section, (section, rule));
        int count = section.Get(Count);
        double fraction = section.Get(Fraction);
        if (count == 0) count = AttackerSelection.CountFromFraction(nodes, fraction);
        if (count == 0) throw new ConfigException($"{section.File}: [{section.Path}] attack '{name}' has no attackers: give count ≥ 1 or a fraction > 0.");
        if (count >= nodes) throw new ConfigException($"{section.File}: '{section.KeyPath("count")}' = {count} leaves no honest node among {nodes}.");
        var placement = section.Get(Placement) == "hubs" ? AttackerPlacement.Hubs : AttackerPlacement.Random;
        if (placement == AttackerPlacement.Hubs && neighbors is null)
            throw new ConfigException($"{section.File}: '{section.KeyPath("placement")}' = \"hubs\" needs a graph; this protocol has none.");
        var byz = ByzantineSetup.SelectNodes(nodes, count, placement, seed, neighbors);
        return new ByzantineSetup { Nodes = byz, Attack = model, DataPoisoning = data, Rushing = section.Get(Rushing) };
    }
}
