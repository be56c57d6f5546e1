using Flock.Experiments;
using Flock.Experiments.Config;

namespace Flock.Tests.Experiments;

public class ExperimentRunTests
{
    private static readonly string Sample = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-sample");

    private static string Write(string toml)
    {
        string dir = Directory.CreateTempSubdirectory("flock-exp").FullName;
        string path = Path.Combine(dir, "exp.toml");
        File.WriteAllText(path, toml.Replace("SAMPLE", Sample));
        return path;
    }

    private const string DsgdToml = """
        name = "t"
        seed = 3
        nodes = 6
        [data]
        name = "fashion-mnist"
        path = "SAMPLE"
        [partition]
        name = "dirichlet"
        alpha = 1.0
        min_size = 5
        [model]
        name = "mlp"
        hidden = [16]
        [topology]
        name = "ring"
        [protocol]
        name = "dsgd"
        rounds = 6
        local_steps = 3
        batch_size = 8
        [evaluation]
        every_rounds = 2
        [checkpoint]
        every_rounds = 2
        """;

    private static string[] MetricsWithoutWall(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Select(l => string.Join(",", l.Split(',').Where((_, i) => i != 3))).ToArray();

    [Fact]
    public void Same_seed_gives_identical_metrics_and_outputs_are_written()
    {
        string file = Write(DsgdToml);
        string a = Directory.CreateTempSubdirectory("run-a").FullName, b = Directory.CreateTempSubdirectory("run-b").FullName;
        var ra = ExperimentRunner.Run(ExperimentBuilder.Load(file), a);
        ExperimentRunner.Run(ExperimentBuilder.Load(file), b);
        Assert.Equal(MetricsWithoutWall(a), MetricsWithoutWall(b));
        Assert.Equal(1 + 4, File.ReadAllLines(Path.Combine(a, "metrics.csv")).Length); // header + rounds 0, 2, 4, 6
        foreach (var f in new[] { "config.resolved.toml", "summary.json", "partition.csv", "accuracy_vs_round.png", "checkpoint.bin" })
            Assert.True(File.Exists(Path.Combine(a, f)), f);
        Assert.Equal(6L, ra.Summary["rounds"]);
        Assert.Contains("final_test_accuracy", ra.Summary.Keys);
        // The resolved config rebuilds the same experiment.
        string c = Directory.CreateTempSubdirectory("run-c").FullName;
        ExperimentRunner.Run(ExperimentBuilder.Load(Path.Combine(a, "config.resolved.toml")), c);
        Assert.Equal(MetricsWithoutWall(a), MetricsWithoutWall(c));
    }

    [Fact]
    public void Different_seed_gives_different_metrics()
    {
        string file = Write(DsgdToml);
        string a = Directory.CreateTempSubdirectory("run-a").FullName, b = Directory.CreateTempSubdirectory("run-b").FullName;
        ExperimentRunner.Run(ExperimentBuilder.Load(file), a);
        ExperimentRunner.Run(ExperimentBuilder.Load(file, seed: 4), b);
        Assert.NotEqual(MetricsWithoutWall(a), MetricsWithoutWall(b));
    }

    [Fact]
    public void Resumed_run_equals_uninterrupted_run()
    {
        string file = Write(DsgdToml);
        string full = Directory.CreateTempSubdirectory("run-full").FullName;
        ExperimentRunner.Run(ExperimentBuilder.Load(file), full);

        string part = Directory.CreateTempSubdirectory("run-part").FullName;
        using (var cts = new CancellationTokenSource())
        {
            // Stop after round 4 (a checkpoint is written at rounds 2 and 4).
            ExperimentRunner.Run(ExperimentBuilder.Load(file), part, progress: p => { if (p.Round >= 4) cts.Cancel(); }, cancellationToken: cts.Token);
        }
        Assert.True(File.ReadAllLines(Path.Combine(part, "metrics.csv")).Length < 5);
        ExperimentRunner.Run(ExperimentBuilder.Load(Path.Combine(part, "config.resolved.toml")), part, resume: true);
        Assert.Equal(MetricsWithoutWall(full), MetricsWithoutWall(part));
    }

    [Fact]
    public void Fedavg_and_gossip_files_build_and_run()
    {
        string fed = Write(DsgdToml.Replace("name = \"dsgd\"", "name = \"fedavg\"\nclient_fraction = 0.5").Replace("[topology]\nname = \"ring\"\n", ""));
        var r = ExperimentRunner.Run(ExperimentBuilder.Load(fed), Directory.CreateTempSubdirectory("run-f").FullName);
        Assert.Equal(7, r.Summary["nodes"]);
        string gossip = Write(DsgdToml.Replace("name = \"dsgd\"\nrounds = 6", "name = \"gossip\"\nduration = 5").Replace("[evaluation]\nevery_rounds = 2", "[evaluation]\nevery_seconds = 1"));
        var g = ExperimentRunner.Run(ExperimentBuilder.Load(gossip), Directory.CreateTempSubdirectory("run-g").FullName);
        Assert.True(File.ReadAllLines(Path.Combine(g.Directory, "metrics.csv")).Length >= 5);
    }

    [Theory]
    [InlineData("[protocol]\nname = \"dsgdd\"", "unknown protocol 'dsgdd'", "Did you mean 'dsgd'?")]
    [InlineData("[protocol]\nname = \"fedavg\"\nrouns = 3", "unknown key 'protocol.rouns'", "Did you mean 'rounds'?")]
    [InlineData("[protocol]\nname = \"fedavg\"\nrounds = -1", "'protocol.rounds' = -1 is not allowed", "≥ 1")]
    [InlineData("[protocol]\nname = \"fedavg\"\nrounds = \"ten\"", "'protocol.rounds' = \"ten\" has the wrong type", "expected integer")]
    [InlineData("[model]\nname = \"mpl\"\n[protocol]\nname = \"dsgd\"", "unknown model 'mpl'", "Did you mean 'mlp'?")]
    [InlineData("[optimizer]\nname = \"sgd\"\nlearning_rate = -0.1\n[protocol]\nname = \"dsgd\"", "'optimizer.learning_rate' = -0.1", "≥ 0")]
    [InlineData("[topology]\nname = \"rnig\"\n[protocol]\nname = \"dsgd\"", "rnig", "ring")]
    [InlineData("[protocol]\nname = \"dsgd\"", "needs a [topology] section", "ring")]
    [InlineData("nodes = 0\n[protocol]\nname = \"fedavg\"", "'nodes' = 0", "≥ 1")]
    [InlineData("[aggregator]\nname = \"krum+median\"\n[protocol]\nname = \"fedavg\"", "'krum' is an aggregation rule", "pre-aggregators")]
    [InlineData("[data]\nname = \"fashion-mnist\"\npath = \"/nonexistent/fm\"\n[protocol]\nname = \"fedavg\"", "/nonexistent/fm", "dataset-fashion-mnist")]
    [InlineData("[topology]\nname = \"ring\"\n[aggregator]\nname = \"trimmed-mean\"\nf = 2\n[protocol]\nname = \"dsgd\"", "aggregator 'trimmed-mean' cannot aggregate the 3 models", "Trimmed mean")]
    [InlineData("[[faults]]\nkind = \"crash\"\nnode = 99\nat = 1.0\n[protocol]\nname = \"fedavg\"", "'faults[0].node' = 99 does not exist", "0..")]
    public void Bad_files_get_one_clear_error(string body, string expected1, string expected2)
    {
        var lines = body.Split('\n');
        int firstTable = Array.FindIndex(lines, l => l.StartsWith('['));
        string top = string.Join("\n", lines[..firstTable]);
        string rest = string.Join("\n", lines[firstTable..]);
        string file = Write((top.Contains("nodes") ? top : "nodes = 4\n" + top) + (rest.Contains("[data]") ? "\n" : "\n[data]\nname = \"fashion-mnist\"\npath = \"SAMPLE\"\n") + rest);
        var ex = Assert.ThrowsAny<Exception>(() => ExperimentBuilder.Load(file));
        Assert.True(ex is ConfigException || ex.GetType().Name == "DataFormatException", ex.GetType().Name + ": " + ex.Message);
        Assert.Contains(expected1, ex.Message);
        Assert.Contains(expected2, ex.Message);
    }

    [Fact]
    public void Overrides_and_sweep_axes()
    {
        string file = Write(DsgdToml + "\n[sweep]\n\"optimizer.learning_rate\" = [0.01, 0.1]\ntopology = [{ name = \"ring\" }, { name = \"complete\" }]\n");
        var axes = ExperimentFile.SweepAxes(file);
        Assert.Equal(2, axes.Count);
        var exp = ExperimentBuilder.Load(file, new[] { "protocol.rounds=2" }, null,
            new[] { new KeyValuePair<string, object>("topology", axes[1].Values[1]) });
        Assert.Equal(2, exp.Protocol.Rounds);
        Assert.Equal(5, exp.Topology!.GraphAt(0).Degree(0));
    }
}
