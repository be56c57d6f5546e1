using Flock.Experiments;
using Flock.Experiments.Config;

namespace Flock.Tests.Experiments;

/// <summary>Every experiment file in experiments/ must parse and validate (on the committed sample data, scaled down).</summary>
public class ShippedExperimentsTests
{
    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Flock.slnx"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    public static IEnumerable<object[]> Files() =>
        Directory.EnumerateFiles(Path.Combine(RepoRoot(), "experiments"), "*.toml", SearchOption.AllDirectories)
            .Select(f => new object[] { Path.GetRelativePath(RepoRoot(), f) });

    private static readonly string[] Small =
    {
        "nodes=50", $"data.path={Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-sample")}", "protocol.rounds=1",
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Builds(string file)
    {
        string path = Path.Combine(RepoRoot(), file);
        var overrides = Small.ToList();
        var table = ExperimentFile.Parse(File.ReadAllText(path), path);
        if (table.TryGetValue("partition", out var p) && p is Tomlyn.Model.TomlTable pt && pt.TryGetValue("name", out var pn) && pn is "dirichlet" or "quantity-skew") overrides.Add("partition.min_size=1");
        if (table.TryGetValue("protocol", out var pr) && pr is Tomlyn.Model.TomlTable prt && prt.TryGetValue("name", out var n) && (string)n! == "gossip")
            overrides[2] = "protocol.duration=1";
        var exp = ExperimentBuilder.Load(path, overrides);
        Assert.True(exp.Protocol.NodeCount >= 50);
        foreach (var (key, values) in ExperimentFile.SweepAxes(path))
            foreach (var v in values)
                ExperimentBuilder.Load(path, overrides, null, new[] { new KeyValuePair<string, object>(key, v) });
    }
}
