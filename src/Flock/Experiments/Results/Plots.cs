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
            double minX = double.PositiveInfinity, maxX = double.NegativeInfinity;
            foreach (var (runLabel, table) in runs)
            {
                if (!table.Has(col) || !table.Has(MetricColumns.TestAccuracy)) continue;
                var xs = table.Column(col);
                var ys = table.Column(MetricColumns.TestAccuracy);
                var pts = xs.Zip(ys).Where(p => !double.IsNaN(p.First) && !double.IsNaN(p.Second)).ToArray();
                if (col == MetricColumns.BytesSent) // bytes span orders of magnitude between methods: log scale
                    pts = pts.Where(p => p.First > 0).Select(p => (Math.Log10(p.First), p.Second)).ToArray();
                if (pts.Length == 0) continue;
                minX = Math.Min(minX, pts.Min(p => p.First));
                maxX = Math.Max(maxX, pts.Max(p => p.First));
                var sc = plt.Add.Scatter(pts.Select(p => p.First).ToArray(), pts.Select(p => p.Second).ToArray());
                sc.LegendText = runLabel;
                any = true;
            }
            if (!any) continue;
            if (col == MetricColumns.BytesSent)
            {
                int lo = (int)Math.Floor(minX), hi = (int)Math.Ceiling(maxX);
                var ticks = Enumerable.Range(lo, hi - lo + 1).Select(k => (double)k).ToArray();
                plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, ticks.Select(k => k switch
                {
                    < 3 => $"{Math.Pow(10, k):0} B", < 6 => $"{Math.Pow(10, k - 3):0} kB", < 9 => $"{Math.Pow(10, k - 6):0} MB", < 12 => $"{Math.Pow(10, k - 9):0} GB", _ => $"{Math.Pow(10, k - 12):0} TB",
                }).ToArray());
            }
            plt.XLabel(col == MetricColumns.BytesSent ? label + " (log scale)" : label);
            plt.YLabel("Test accuracy");
            if (runs.Count > 1) plt.ShowLegend();
            string path = Path.Combine(outDir, $"{prefix}accuracy_vs_{suffix}.png");
            plt.SavePng(path, 800, 500);
            files.Add(path);
        }
        return files;
    }

    /// <summary>
    /// A labelled heatmap of one value per (row, column) cell, with the numbers written in the
    /// cells (NaN cells left blank); rows and columns keep their first-seen order.
    /// </summary>
    public static void Heatmap(IReadOnlyList<(string Row, string Col, double Value)> cells, string title, string path)
    {
        var rows = cells.Select(c => c.Row).Distinct().ToList();
        var cols = cells.Select(c => c.Col).Distinct().ToList();
        var z = new double[rows.Count, cols.Count];
        for (int i = 0; i < rows.Count; i++) for (int j = 0; j < cols.Count; j++) z[i, j] = double.NaN;
        foreach (var c in cells) z[rows.IndexOf(c.Row), cols.IndexOf(c.Col)] = c.Value;
        var plt = new Plot();
        var cmap = new ScottPlot.Colormaps.Viridis();
        var finite = cells.Select(c => c.Value).Where(double.IsFinite).ToArray();
        double lo = finite.Length > 0 ? finite.Min() : 0, hi = finite.Length > 0 ? finite.Max() : 1;
        if (hi - lo < 1e-12) hi = lo + 1;
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < cols.Count; j++)
            {
                double y = rows.Count - 1 - i;
                var r = plt.Add.Rectangle(j - 0.5, j + 0.5, y - 0.5, y + 0.5);
                r.LineStyle.Width = 1;
                r.LineStyle.Color = Colors.White;
                if (double.IsNaN(z[i, j])) { r.FillStyle.Color = Colors.LightGray; continue; }
                double f = (z[i, j] - lo) / (hi - lo);
                r.FillStyle.Color = cmap.GetColor(f);
                var t = plt.Add.Text(z[i, j].ToString("F2", System.Globalization.CultureInfo.InvariantCulture), j, y);
                t.LabelAlignment = Alignment.MiddleCenter;
                t.LabelFontColor = f > 0.6 ? Colors.Black : Colors.White;
                t.LabelFontSize = 12;
            }
        plt.Axes.SetLimits(-0.5, cols.Count - 0.5, -0.5, rows.Count - 0.5);
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, cols.Count).Select(j => (double)j).ToArray(), cols.ToArray());
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i)).ToArray(), rows.ToArray());
        plt.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plt.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plt.Grid.IsVisible = false;
        plt.Axes.Bottom.MinimumSize = 30 + 7 * cols.Max(c => c.Length);
        plt.Axes.Left.MinimumSize = 20 + 7 * rows.Max(r => r.Length);
        plt.Title(title);
        plt.SavePng(path, Math.Max(700, 110 * cols.Count + 250), Math.Max(450, 45 * rows.Count + 250));
    }
}
