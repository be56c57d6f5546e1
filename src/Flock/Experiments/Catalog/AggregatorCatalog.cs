using Flock.Aggregation;
using Flock.Experiments.Config;

namespace Flock.Experiments.Catalog;

/// <summary>
/// Registered aggregation rules and pre-aggregators (<c>[aggregator] name = ...</c>). A name may
/// chain pre-aggregators before one rule with <c>+</c>, e.g. <c>"nnm+trimmed-mean"</c> or
/// <c>"clipping+bucketing+krum"</c>; all parts read their parameters from the same section, so a
/// shared <c>f</c> is given once.
/// </summary>
public static class AggregatorCatalog
{
    private static readonly Param<int> F = Params.Int("f", 0, "number of Byzantine inputs the rule tolerates", min: 0);
    private static readonly Param<int> M = Params.Int("m", 1, "how many best-scored inputs Multi-Krum averages", min: 1);
    private static readonly Param<double> Tau = Params.Double("tau", 1.0, "clipping radius τ", min: 0, minExclusive: true);
    private static readonly Param<int> Iterations = Params.Int("iterations", 1, "clipping iterations", min: 1);
    private static readonly Param<double> Smoothing = Params.Double("smoothing", 1e-5, "Weiszfeld smoothing ν", min: 0, minExclusive: true);
    private static readonly Param<int> MaxIterations = Params.Int("max_iterations", 4, "Weiszfeld iterations", min: 1);
    private static readonly Param<int> Rank = Params.Int("rank", 1, "subspace rank r", min: 1);
    private static readonly Param<double> Keep = Params.Double("keep_fraction", 0.3, "share of inputs kept", min: 0, max: 1, minExclusive: true);
    private static readonly Param<double> Threshold = Params.Double("threshold", 1.0, "static clipping L2 threshold", min: 0, minExclusive: true);
    private static readonly Param<int> BucketSize = Params.Int("bucket_size", 2, "inputs averaged per bucket", min: 1);

    /// <summary>Aggregation rules (the last part of a name).</summary>
    public static ComponentRegistry<ulong, IAggregator> Rules { get; } = new ComponentRegistry<ulong, IAggregator>("aggregator")
        .Add("mean", "Average weighted by sample count (FedAvg) or uniform (decentralized).", "standard", Array.Empty<Param>(), (s, _) => Mean.Instance)
        .Add("median", "Coordinate-wise median.", "Yin et al., \"Byzantine-Robust Distributed Learning: Towards Optimal Statistical Rates\", 2018", Array.Empty<Param>(), (s, _) => new CoordinateWiseMedian())
        .Add("trimmed-mean", "Per coordinate, drop the f largest and f smallest values and average the rest.", "Yin et al., 2018", new Param[] { F }, (s, _) => new TrimmedMean(s.Get(F)))
        .Add("krum", "The input with the smallest sum of squared distances to its n−f−2 nearest.", "Blanchard et al., \"Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent\", 2017", new Param[] { F }, (s, _) => new Krum(s.Get(F)))
        .Add("multi-krum", "Average of the m best Krum scores.", "Blanchard et al., 2017", new Param[] { F, M }, (s, _) => new MultiKrum(s.Get(F), s.Get(M)))
        .Add("bulyan", "Krum selection then coordinate-wise trimming around the median (n ≥ 4f+3).", "El Mhamdi et al., \"The Hidden Vulnerability of Distributed Learning in Byzantium\", 2018", new Param[] { F }, (s, _) => new Bulyan(s.Get(F)))
        .Add("geometric-median", "Smoothed Weiszfeld geometric median.", "Pillutla et al., \"Robust Aggregation for Federated Learning\", 2019", new Param[] { Smoothing, MaxIterations },
            (s, _) => new GeometricMedian(s.Get(Smoothing), s.Get(MaxIterations)))
        .Add("centered-clipping", "v ← v + mean(clip(x_i − v, τ)), from the mean.", "Karimireddy et al., \"Learning from History for Byzantine Robust Optimization\", 2021", new Param[] { Tau, Iterations },
            (s, _) => new CenteredClipping((float)s.Get(Tau), s.Get(Iterations)))
        .Add("meamed", "Per coordinate, the mean of the n−f values closest to the median.", "Xie et al., \"Generalized Byzantine-tolerant SGD\", 2018", new Param[] { F }, (s, _) => new Meamed(s.Get(F)))
        .Add("flag", "Flag median by IRLS over the top-r subspace.", "Almasi et al., \"Flag Aggregator: Scalable Distributed Training under Failures and Augmented Losses using Convex Optimization\", 2023", new Param[] { Rank },
            (s, _) => new FlagAggregator(s.Get(Rank), output: FlagAggregatorOutput.ProjectedMean))
        .Add("multi-metrics", "Cosine, L1 and L2 scores whitened; weighted mean of the best fraction.", "Huang et al., \"Multi-metrics adaptively identifies backdoors in Federated learning\", 2023", new Param[] { Keep },
            (s, _) => new MultiMetrics(s.Get(Keep)));

    /// <summary>Pre-aggregators (every part of a name but the last).</summary>
    public static ComponentRegistry<ulong, IPreAggregator> PreAggregators { get; } = new ComponentRegistry<ulong, IPreAggregator>("pre-aggregator")
        .Add("clipping", "Scale every input to L2 norm ≤ threshold.", "standard", new Param[] { Threshold }, (s, _) => new StaticClipping((float)s.Get(Threshold)))
        .Add("nnm", "Replace each input by the mean of its n−f nearest neighbours.", "Allouah et al., \"Fixing by Mixing: A Recipe for Optimal Byzantine ML under Heterogeneity\", 2023", new Param[] { F }, (s, _) => new NearestNeighborMixing(s.Get(F)))
        .Add("bucketing", "Average random buckets of s inputs.", "Karimireddy et al., \"Byzantine-Robust Learning on Heterogeneous Datasets via Bucketing\", 2022", new Param[] { BucketSize }, (s, _) => new Bucketing(s.Get(BucketSize)));

    /// <summary>Builds the (possibly composed) aggregator named in <paramref name="section"/> (default "mean").</summary>
    /// <exception cref="ConfigException">Unknown part or bad parameter.</exception>
    public static IAggregator Create(ConfigSection section, ulong seed)
    {
        string name = section.Get(Params.String("name", "mean", "aggregation rule, optionally after pre-aggregators: \"nnm+trimmed-mean\""));
        var parts = name.Split('+', StringSplitOptions.TrimEntries);
        var rule = Rules.Create(parts[^1], section, seed);
        for (int i = parts.Length - 2; i >= 0; i--)
        {
            if (!PreAggregators.Contains(parts[i]) && Rules.Contains(parts[i]))
                throw new ConfigException($"{section.File}: '{section.KeyPath("name")}' = \"{name}\": '{parts[i]}' is an aggregation rule; only the last part may be a rule, the others must be pre-aggregators ({string.Join(", ", PreAggregators.Names)}).");
            rule = new PreAggregated(PreAggregators.Create(parts[i], section, seed), rule, seed);
        }
        return rule;
    }
}
