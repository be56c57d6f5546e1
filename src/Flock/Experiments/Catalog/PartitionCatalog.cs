using Flock.Data.Partitioning;
using Flock.Experiments.Config;

namespace Flock.Experiments.Catalog;

/// <summary>Registered data partitioners (<c>[partition] name = ...</c>).</summary>
public static class PartitionCatalog
{
    private static readonly Param<double> Alpha = Params.Double("alpha", 1.0, "Dirichlet concentration: small = few classes per node", min: 0, minExclusive: true);
    private static readonly Param<int> MinSize = Params.Int("min_size", 10, "redraw until every node has at least this many examples", min: 0);
    private static readonly Param<int> Shards = Params.Int("shards_per_node", 2, "shards (≈ classes) per node", min: 1);
    private static readonly Param<string> SkewKind = Params.String("distribution", "dirichlet", "how node sizes are drawn", "dirichlet", "power-law");
    private static readonly Param<double> SkewParam = Params.Double("parameter", 1.0, "Dirichlet α of the sizes, or the power-law exponent", min: 0, minExclusive: true);
    private static readonly Param<int> SkewMin = Params.Int("min_size", 1, "smallest node size", min: 0);

    /// <summary>The registry.</summary>
    public static ComponentRegistry<int, IPartitioner> Registry { get; } = new ComponentRegistry<int, IPartitioner>("partition")
        .Add("iid", "Uniformly random, equal-sized parts.", "standard", Array.Empty<Param>(), (s, _) => new IidPartitioner())
        .Add("dirichlet", "Per-class proportions across nodes drawn from Dirichlet(α) (label skew).",
            "Hsu et al., \"Measuring the Effects of Non-Identical Data Distribution for Federated Visual Classification\", 2019",
            new Param[] { Alpha, MinSize }, (s, _) => new DirichletPartitioner(s.Get(Alpha), s.Get(MinSize)))
        .Add("shards", "Sort by label, cut into shards, deal k shards per node (≈ k classes per node).",
            "McMahan et al., \"Communication-Efficient Learning of Deep Networks from Decentralized Data\", 2017",
            new Param[] { Shards }, (s, _) => new ShardPartitioner(s.Get(Shards)))
        .Add("quantity-skew", "IID labels, node sizes drawn from a Dirichlet or a power law.", "Li et al., \"Federated Learning on Non-IID Data Silos: An Experimental Study\", 2022",
            new Param[] { SkewKind, SkewParam, SkewMin },
            (s, _) => new QuantitySkewPartitioner(s.Get(SkewKind) == "power-law" ? QuantitySkewDistribution.PowerLaw : QuantitySkewDistribution.Dirichlet, s.Get(SkewParam), s.Get(SkewMin)));
}
