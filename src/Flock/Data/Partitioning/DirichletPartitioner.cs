using Flock.Tensors;

namespace Flock.Data.Partitioning;

/// <summary>
/// Label-skewed partitioning by per-class Dirichlet proportions (Hsu, Qi and Brown, "Measuring the
/// Effects of Non-Identical Data Distribution for Federated Visual Classification", 2019; as implemented
/// in NIID-Bench / FedLab's <c>hetero_dir_partition</c> and Flower's <c>DirichletPartitioner</c>).
/// For each class c, proportions p_c ~ Dir(α, …, α) over the nodes are drawn and the class's examples
/// (shuffled) are cut at ⌊cumsum(p_c)·n_c⌋, node j getting the j-th piece. Small α gives each node few
/// classes; large α gives every node nearly the global label distribution.
/// <para>Minimum size: if any node ends with fewer than <see cref="MinSize"/> examples, the whole draw is
/// repeated (as FedLab and Flower do), at most <see cref="MaxAttempts"/> times, after which an
/// <see cref="InvalidOperationException"/> says how close it came. With <see cref="SelfBalancing"/>
/// (FedLab's behaviour; off by default as in Flower), a node that already holds at least count/nodes
/// examples gets no share of later classes, which evens sizes out. Very small α with many nodes may
/// admit no draw meeting the minimum (e.g. α = 0.05, 100 nodes, 60,000 examples, minimum 10): lower the
/// minimum size (0 allows empty nodes) rather than raising the attempts.</para>
/// </summary>
public sealed class DirichletPartitioner : IPartitioner
{
    /// <summary>Creates the partitioner.</summary>
    /// <param name="alpha">Concentration α &gt; 0 (0.1: strongly skewed; 100: nearly IID).</param>
    /// <param name="minSize">Minimum examples per node, ≥ 0 (default 10, as in FedLab and Flower).</param>
    /// <param name="selfBalancing">Stop giving examples to nodes that already hold their fair share.</param>
    /// <param name="maxAttempts">Maximum number of draws to meet <paramref name="minSize"/>, ≥ 1 (default 100).</param>
    /// <exception cref="ArgumentException">A parameter is out of range (the message gives the value).</exception>
    public DirichletPartitioner(double alpha, int minSize = 10, bool selfBalancing = false, int maxAttempts = 100)
    {
        if (!(alpha > 0) || !double.IsFinite(alpha)) throw new ArgumentException($"Invalid Dirichlet alpha: {alpha}; must be a finite value > 0.", nameof(alpha));
        if (minSize < 0) throw new ArgumentException($"Invalid minimum node size: {minSize}; must be ≥ 0.", nameof(minSize));
        if (maxAttempts < 1) throw new ArgumentException($"Invalid maximum number of attempts: {maxAttempts}; must be ≥ 1.", nameof(maxAttempts));
        Alpha = alpha;
        MinSize = minSize;
        SelfBalancing = selfBalancing;
        MaxAttempts = maxAttempts;
    }

    /// <summary>The concentration α.</summary>
    public double Alpha { get; }

    /// <summary>The minimum number of examples per node.</summary>
    public int MinSize { get; }

    /// <summary>Whether nodes at their fair share stop receiving examples.</summary>
    public bool SelfBalancing { get; }

    /// <summary>The maximum number of draws.</summary>
    public int MaxAttempts { get; }

    /// <inheritdoc />
    public string Description => FormattableString.Invariant($"dirichlet(alpha={Alpha}, min-size={MinSize}{(SelfBalancing ? ", self-balancing" : "")})");

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">No draw within <see cref="MaxAttempts"/> gave every node <see cref="MinSize"/> examples.</exception>
    public DatasetView[] Partition(DatasetView source, int nodes, ulong seed)
    {
        PartitionHelpers.CheckNodes(source, nodes, MinSize);
        var labels = PartitionHelpers.Labels(source, "Dirichlet");
        var byClass = PartitionHelpers.ByClass(source, labels);
        var rng = Rng.Derive(seed, 0, 0, "partition/dirichlet");
        var p = new double[nodes];
        var lists = new List<int>[nodes];
        double fair = (double)source.Count / nodes;
        int bestMin = -1;
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            for (int j = 0; j < nodes; j++) lists[j] = [];
            foreach (var group in byClass)
            {
                if (group.Length == 0) continue;
                var idx = (int[])group.Clone();
                rng.Shuffle(idx.AsSpan());
                PartitionHelpers.SampleDirichlet(rng, Alpha, p);
                if (SelfBalancing)
                {
                    double kept = 0;
                    for (int j = 0; j < nodes; j++) kept += lists[j].Count < fair ? p[j] : 0;
                    if (kept > 0)
                        for (int j = 0; j < nodes; j++) p[j] = lists[j].Count < fair ? p[j] / kept : 0;
                }
                double cum = 0;
                int start = 0;
                for (int j = 0; j < nodes; j++)
                {
                    cum += p[j];
                    int end = j == nodes - 1 ? idx.Length : Math.Min(idx.Length, (int)Math.Floor(cum * idx.Length));
                    for (int t = start; t < end; t++) lists[j].Add(idx[t]);
                    start = Math.Max(start, end);
                }
            }
            int min = int.MaxValue;
            foreach (var l in lists) min = Math.Min(min, l.Count);
            if (min >= MinSize) return PartitionHelpers.ToViews(source.Dataset, lists);
            bestMin = Math.Max(bestMin, min);
        }
        throw new InvalidOperationException(
            $"Dirichlet partition (alpha={Alpha}) of {source.Count} examples of '{source.Dataset.Name}' over {nodes} nodes: after {MaxAttempts} draws " +
            $"the smallest node still had at best {bestMin} examples, below the minimum of {MinSize}. Lower the minimum size, raise alpha, use fewer nodes, or enable self-balancing.");
    }
}
