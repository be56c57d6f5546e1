namespace Flock.Data.Partitioning;

/// <summary>
/// Splits the examples of a view among nodes. Every partitioner here assigns each example of the
/// source to exactly one node, returns index lists (never copies of the data), sorts each node's
/// indices ascending, and is deterministic: the same source, node count and seed give the same views.
/// Parameters are validated when the partitioner is built; the node count when it is used.
/// </summary>
public interface IPartitioner
{
    /// <summary>The partitioner and its parameters, e.g. <c>dirichlet(alpha=0.1, min-size=10)</c>, for run records.</summary>
    string Description { get; }

    /// <summary>Splits the examples of <paramref name="source"/> among <paramref name="nodes"/> nodes.</summary>
    /// <param name="source">The examples to split (often <see cref="Dataset.All"/>).</param>
    /// <param name="nodes">Number of nodes, in [1, source.Count].</param>
    /// <param name="seed">The experiment seed (the partitioner derives its own stream from it).</param>
    /// <returns>One view per node over <c>source.Dataset</c>.</returns>
    /// <exception cref="ArgumentException">The node count is out of range, or the data does not suit the partitioner
    /// (e.g. label-based partitioning of regression data, or too few examples for the requested minimum sizes).</exception>
    /// <exception cref="InvalidOperationException">A randomised constraint could not be met (see the partitioner).</exception>
    DatasetView[] Partition(DatasetView source, int nodes, ulong seed);
}

/// <summary>Conveniences over <see cref="IPartitioner"/>.</summary>
public static class PartitionerExtensions
{
    /// <summary>Splits every example of <paramref name="dataset"/> among <paramref name="nodes"/> nodes.</summary>
    /// <inheritdoc cref="IPartitioner.Partition" path="/exception"/>
    public static DatasetView[] Partition(this IPartitioner partitioner, Dataset dataset, int nodes, ulong seed) =>
        partitioner.Partition(dataset.All(), nodes, seed);
}

/// <summary>Helpers shared by the partitioners.</summary>
internal static class PartitionHelpers
{
    public static void CheckNodes(DatasetView source, int nodes, int minPerNode = 1)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (nodes < 1 || nodes > source.Count)
            throw new ArgumentException($"Invalid number of nodes: {nodes}; must be in [1, {source.Count}] (the number of examples in the view of '{source.Dataset.Name}').", nameof(nodes));
        if ((long)nodes * minPerNode > source.Count)
            throw new ArgumentException($"Cannot give each of {nodes} nodes at least {minPerNode} examples: that needs {(long)nodes * minPerNode} but the view of '{source.Dataset.Name}' has {source.Count}.", nameof(nodes));
    }

    public static int[] Labels(DatasetView source, string partitioner)
    {
        if (source.Dataset.Labels is null)
            throw new ArgumentException($"The {partitioner} partitioner needs class labels; '{source.Dataset.Name}' is a regression dataset.", nameof(source));
        return source.Dataset.Labels;
    }

    /// <summary>Source indices grouped by class, each group in source order.</summary>
    public static int[][] ByClass(DatasetView source, int[] labels)
    {
        var counts = new int[source.Dataset.NumClasses];
        foreach (int i in source.Indices) counts[labels[i]]++;
        var groups = new int[counts.Length][];
        for (int c = 0; c < counts.Length; c++) groups[c] = new int[counts[c]];
        Array.Clear(counts);
        foreach (int i in source.Indices) { int c = labels[i]; groups[c][counts[c]++] = i; }
        return groups;
    }

    public static DatasetView[] ToViews(Dataset dataset, List<int>[] lists)
    {
        var views = new DatasetView[lists.Length];
        for (int i = 0; i < lists.Length; i++)
        {
            var idx = lists[i].ToArray();
            Array.Sort(idx);
            views[i] = new DatasetView(dataset, idx);
        }
        return views;
    }

    /// <summary>Splits <paramref name="total"/> into integer parts proportional to <paramref name="weights"/> (largest remainder, ties to the lower index).</summary>
    public static int[] Apportion(ReadOnlySpan<double> weights, int total)
    {
        int n = weights.Length;
        double sum = 0;
        foreach (double w in weights) sum += w;
        var parts = new int[n];
        var rem = new double[n];
        int given = 0;
        for (int i = 0; i < n; i++)
        {
            double exact = sum > 0 ? weights[i] / sum * total : (double)total / n;
            parts[i] = (int)Math.Floor(exact);
            rem[i] = exact - parts[i];
            given += parts[i];
        }
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) => rem[b] != rem[a] ? rem[b].CompareTo(rem[a]) : a.CompareTo(b));
        for (int r = 0; given < total; r = (r + 1) % n) { parts[order[r]]++; given++; }
        return parts;
    }

    /// <summary>
    /// Draws p ~ Dirichlet(α, …, α) into <paramref name="p"/>, computed in log space so that very small α
    /// (where Gamma(α) samples underflow) still gives a valid, sparse probability vector.
    /// </summary>
    public static void SampleDirichlet(Flock.Tensors.Rng rng, double alpha, Span<double> p)
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < p.Length; i++)
        {
            double logG;
            if (alpha >= 1) logG = Math.Log(rng.NextGamma(alpha));
            else
            {
                // Gamma(α) = Gamma(α + 1) · U^(1/α).
                double u;
                do { u = rng.NextDouble(); } while (u <= 0);
                logG = Math.Log(rng.NextGamma(alpha + 1)) + Math.Log(u) / alpha;
            }
            p[i] = logG;
            if (logG > max) max = logG;
        }
        double sum = 0;
        for (int i = 0; i < p.Length; i++) { p[i] = Math.Exp(p[i] - max); sum += p[i]; }
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
    }
}
