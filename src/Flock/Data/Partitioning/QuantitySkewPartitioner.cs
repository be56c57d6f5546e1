using Flock.Tensors;

namespace Flock.Data.Partitioning;

/// <summary>How <see cref="QuantitySkewPartitioner"/> draws node sizes.</summary>
public enum QuantitySkewDistribution
{
    /// <summary>Size proportions q ~ Dir(β, …, β) (NIID-Bench's quantity skew; small β: very unequal sizes).</summary>
    Dirichlet,

    /// <summary>Size weights drawn i.i.d. from a Pareto law with tail exponent a, P(W &gt; w) = w^(−a) for w ≥ 1
    /// (a power law, as in FedProx's synthetic data; small a: a few very large nodes).</summary>
    PowerLaw,
}

/// <summary>
/// Quantity skew: node sizes are unequal, labels are IID (Li, Diao, Chen and He, "Federated Learning on
/// Non-IID Data Silos: An Experimental Study", 2022). Weights are drawn per node from
/// <see cref="Distribution"/>; every node first gets <see cref="MinSize"/> examples and the rest are
/// apportioned to the weights (largest remainder), so the minimum is guaranteed without re-drawing and the
/// sizes sum to the source count exactly. The examples are shuffled and cut into pieces of those sizes.
/// Works for classification and regression.
/// </summary>
public sealed class QuantitySkewPartitioner : IPartitioner
{
    /// <summary>Creates the partitioner.</summary>
    /// <param name="distribution">How node sizes are drawn.</param>
    /// <param name="parameter">Dirichlet β &gt; 0, or power-law tail exponent a &gt; 0.</param>
    /// <param name="minSize">Examples every node gets before the skewed split, ≥ 1 (default 1: no empty node).</param>
    /// <exception cref="ArgumentException">A parameter is out of range (the message gives the value).</exception>
    public QuantitySkewPartitioner(QuantitySkewDistribution distribution, double parameter, int minSize = 1)
    {
        if (!Enum.IsDefined(distribution)) throw new ArgumentException($"Invalid quantity-skew distribution: {(int)distribution}.", nameof(distribution));
        if (!(parameter > 0) || !double.IsFinite(parameter))
            throw new ArgumentException($"Invalid {(distribution == QuantitySkewDistribution.Dirichlet ? "Dirichlet beta" : "power-law exponent")}: {parameter}; must be a finite value > 0.", nameof(parameter));
        if (minSize < 1) throw new ArgumentException($"Invalid minimum node size: {minSize}; must be ≥ 1.", nameof(minSize));
        Distribution = distribution;
        Parameter = parameter;
        MinSize = minSize;
    }

    /// <summary>How node sizes are drawn.</summary>
    public QuantitySkewDistribution Distribution { get; }

    /// <summary>Dirichlet β or power-law exponent a.</summary>
    public double Parameter { get; }

    /// <summary>Minimum examples per node.</summary>
    public int MinSize { get; }

    /// <inheritdoc />
    public string Description => FormattableString.Invariant(
        $"quantity-skew({(Distribution == QuantitySkewDistribution.Dirichlet ? "dirichlet, beta" : "power-law, exponent")}={Parameter}, min-size={MinSize})");

    /// <inheritdoc />
    public DatasetView[] Partition(DatasetView source, int nodes, ulong seed)
    {
        PartitionHelpers.CheckNodes(source, nodes, MinSize);
        var rng = Rng.Derive(seed, 0, 0, "partition/quantity-skew");
        var w = new double[nodes];
        if (Distribution == QuantitySkewDistribution.Dirichlet) PartitionHelpers.SampleDirichlet(rng, Parameter, w);
        else
            for (int j = 0; j < nodes; j++)
            {
                double u = rng.NextDouble(); // in [0, 1): 1 − u in (0, 1]
                w[j] = Math.Pow(1 - u, -1 / Parameter);
            }
        var extra = PartitionHelpers.Apportion(w, source.Count - nodes * MinSize);
        var idx = (int[])source.Indices.Clone();
        rng.Shuffle(idx.AsSpan());
        var views = new DatasetView[nodes];
        int start = 0;
        for (int j = 0; j < nodes; j++)
        {
            int len = MinSize + extra[j];
            var part = idx.AsSpan(start, len).ToArray();
            Array.Sort(part);
            views[j] = new DatasetView(source.Dataset, part);
            start += len;
        }
        return views;
    }
}
