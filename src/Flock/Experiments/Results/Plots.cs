using ScottPlot;

namespace Flock.Experiments.Results;

/// <summary>PNG plots of one or several runs' metrics (headless, ScottPlot).</summary>
public static class Plots
{
    /// <summary>The x axes Flock plots accuracy against: column name and axis label.</summary>
    public static readonly (string Column, string Label, string FileSuffix)[] StandardAxes =
    {
        (MetricColumns.Round, "Round", "round"),
        (MetricColumns.BytesSent, "Bytes sent", "bytes"),
        (MetricColumns.VirtualSeconds, "Virtual time (s)", "time"),
    };

    /// <summary>
    /// Writes <c>{prefix}accuracy_vs_{round,bytes,time}.png</c> into <paramref name="outDir"/>, one line per run.
    /// Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> AccuracyPlots(IReadOnlyList<(string Label, MetricsTable Table)> runs, string outDir, string prefix = "")
    {
        var files = new List<string>();
        foreach (var (col, label, suffix) in StandardAxes)
        {
            var plt = new Plot();
            bool any = false;
            foreach (var (runLabel, table) in runs)
            {
                if (!table.Has(col) || !table.Has(MetricColumns.TestAccuracy)) continue;
                var xs = table.Column(col);
                var ys = table.Column(MetricColumns.TestAccuracy);
                var pts = xs.Zip(ys).Where(p => !double.IsNaN(p.First) && !double.IsNaN(p.Second)).ToArray();
                if (pts.Length == 0) continue;
                var sc = plt.Add.Scatter(pts.Select(p => p.First).ToArray(), pts.Select(p => p.Second).ToArray());
                sc.LegendText = runLabel;
                any = true;
            }
            if (!any) continue;
            plt.XLabel(label);
            plt.YLabel("Test accuracy");
            if (runs.Count > 1) plt.ShowLegend();
            string path = Path.Combine(outDir, $"{prefix}accuracy_vs_{suffix}.png");
            plt.SavePng(path, 800, 500);
            files.Add(path);
        }
        return files;
    }
}
