using System.Globalization;

namespace Flock.Data.Partitioning;

/// <summary>
/// Statistics of a partition for the run record: node sizes, and for classification the number of
/// classes per node and the label skew.
/// </summary>
/// <param name="Nodes">Number of nodes.</param>
/// <param name="TotalExamples">Sum of the node sizes.</param>
/// <param name="MinSize">Smallest node size.</param>
/// <param name="MaxSize">Largest node size.</param>
/// <param name="MeanSize">Mean node size.</param>
/// <param name="SizeStd">Population standard deviation of node sizes.</param>
/// <param name="MeanClassesPerNode">Mean number of classes present on a node (0 for regression).</param>
/// <param name="MinClassesPerNode">Fewest classes on a node (0 for regression).</param>
/// <param name="MaxClassesPerNode">Most classes on a node (0 for regression).</param>
/// <param name="MeanLabelDistance">Mean over nodes of the total-variation distance between the node's label
/// distribution and that of all the nodes' examples together: 0 for identical distributions, up to 1 (0 for regression).</param>
/// <param name="LabelHistograms">Per-node class counts (empty for regression).</param>
public sealed record PartitionSummary(
    int Nodes, int TotalExamples, int MinSize, int MaxSize, double MeanSize, double SizeStd,
    double MeanClassesPerNode, int MinClassesPerNode, int MaxClassesPerNode, double MeanLabelDistance,
    int[][] LabelHistograms)
{
    /// <summary>Summarises <paramref name="views"/> (all over the same dataset).</summary>
    /// <exception cref="ArgumentException"><paramref name="views"/> is empty or mixes datasets.</exception>
    public static PartitionSummary Of(IReadOnlyList<DatasetView> views)
    {
        ArgumentNullException.ThrowIfNull(views);
        if (views.Count == 0) throw new ArgumentException("Cannot summarise an empty partition (0 nodes).", nameof(views));
        var ds = views[0].Dataset;
        foreach (var v in views)
            if (!ReferenceEquals(v.Dataset, ds))
                throw new ArgumentException($"Partition mixes datasets '{ds.Name}' and '{v.Dataset.Name}'.", nameof(views));
        int n = views.Count, total = 0, min = int.MaxValue, max = 0;
        foreach (var v in views) { total += v.Count; min = Math.Min(min, v.Count); max = Math.Max(max, v.Count); }
        double mean = (double)total / n, var = 0;
        foreach (var v in views) var += (v.Count - mean) * (v.Count - mean);
        double std = Math.Sqrt(var / n);
        if (!ds.IsClassification) return new PartitionSummary(n, total, min, max, mean, std, 0, 0, 0, 0, []);

        var hist = new int[n][];
        var global = new double[ds.NumClasses];
        for (int i = 0; i < n; i++)
        {
            hist[i] = views[i].LabelHistogram();
            for (int c = 0; c < global.Length; c++) global[c] += hist[i][c];
        }
        for (int c = 0; c < global.Length; c++) global[c] /= Math.Max(total, 1);
        double classSum = 0, tvSum = 0;
        int cmin = int.MaxValue, cmax = 0;
        foreach (var h in hist)
        {
            int present = 0, size = 0;
            foreach (int x in h) { if (x > 0) present++; size += x; }
            classSum += present;
            cmin = Math.Min(cmin, present);
            cmax = Math.Max(cmax, present);
            if (size > 0)
            {
                double tv = 0;
                for (int c = 0; c < h.Length; c++) tv += Math.Abs((double)h[c] / size - global[c]);
                tvSum += tv / 2;
            }
        }
        return new PartitionSummary(n, total, min, max, mean, std, classSum / n, cmin, cmax, tvSum / n, hist);
    }

    /// <summary>A one-line description, e.g. <c>100 nodes, 60000 examples, sizes 12–1034 (mean 600.0 ± 3.2), classes/node 2.13 (1–5), label TV 0.712</c>.</summary>
    public override string ToString()
    {
        var s = string.Create(CultureInfo.InvariantCulture, $"{Nodes} nodes, {TotalExamples} examples, sizes {MinSize}–{MaxSize} (mean {MeanSize:F1} ± {SizeStd:F1})");
        if (LabelHistograms.Length > 0)
            s += string.Create(CultureInfo.InvariantCulture, $", classes/node {MeanClassesPerNode:F2} ({MinClassesPerNode}–{MaxClassesPerNode}), label TV {MeanLabelDistance:F3}");
        return s;
    }
}
