using Flock.Experiments.Results;

namespace Flock.Tests.Experiments;

public class ResultsTests
{
    [Fact]
    public void Metrics_round_trip_and_plots_render()
    {
        string dir = Directory.CreateTempSubdirectory("flock-test").FullName;
        string csv = Path.Combine(dir, "metrics.csv");
        using (var w = new MetricsWriter(csv, Flock.Runtime.Simulation.MetricsRow.Columns))
        {
            for (int r = 1; r <= 5; r++)
                w.Write(new Dictionary<string, double> { ["round"] = r, ["accuracy_mean"] = 0.1 * r, ["bytes_sent"] = 1000 * r, ["virtual_time"] = 0.5 * r });
        }
        var t = MetricsTable.Read(csv);
        Assert.Equal(5, t.Rows.Count);
        Assert.Equal(0.3, t.Column("accuracy_mean")[2], 12);
        Assert.True(double.IsNaN(t.Column("loss_mean")[0]));
        var files = Plots.AccuracyPlots(new[] { ("a", t), ("b", t) }, dir);
        Assert.Equal(3, files.Count);
        foreach (var f in files)
        {
            var bytes = File.ReadAllBytes(f);
            Assert.True(bytes.Length > 1000);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }
    }

    [Fact]
    public void Heatmap_renders_with_missing_cells()
    {
        string dir = Directory.CreateTempSubdirectory("flock-heat").FullName;
        var cells = new List<(string, string, double)>();
        foreach (var r in new[] { "mean", "median", "krum f=5" })
            foreach (var c in new[] { "none, 1", "alie, 1", "alie, 0.3" })
                cells.Add((r, c, r == "mean" && c != "none, 1" ? 0.1 : c == "alie, 0.3" && r == "krum f=5" ? double.NaN : 0.8));
        string png = Path.Combine(dir, "heatmap.png");
        Plots.Heatmap(cells, "worst accuracy", png);
        Assert.True(new FileInfo(png).Length > 1000);
    }

    [Fact]
    public void Run_directories_never_overwrite()
    {
        string root = Directory.CreateTempSubdirectory("flock-runs").FullName;
        var now = new DateTime(2026, 1, 2, 3, 4, 5);
        string a = RunDirectory.Create(root, "exp", null, now);
        string b = RunDirectory.Create(root, "exp", null, now);
        Assert.NotEqual(a, b);
        File.WriteAllText(Path.Combine(a, "metrics.csv"), "x");
        var ex = Assert.Throws<IOException>(() => RunDirectory.Create(root, "exp", a, now));
        Assert.Contains("never overwrites", ex.Message);
        Assert.Equal("x", File.ReadAllText(Path.Combine(a, "metrics.csv")));
    }
}
