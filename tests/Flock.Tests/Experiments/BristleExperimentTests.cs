using Flock.Experiments;
using Flock.Experiments.Catalog;
using Flock.Experiments.Config;
using Flock.Protocols;

namespace Flock.Tests.Experiments;

public class BristleExperimentTests
{
    private static readonly string Sample = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-sample");

    private static string Write(string toml)
    {
        string dir = Directory.CreateTempSubdirectory("flock-bristle").FullName;
        string path = Path.Combine(dir, "exp.toml");
        File.WriteAllText(path, toml.Replace("SAMPLE", Sample));
        return path;
    }

    private const string Toml = """
        name = "b"
        seed = 5
        nodes = 8
        [data]
        name = "fashion-mnist"
        path = "SAMPLE"
        [partition]
        name = "dirichlet"
        alpha = 0.5
        min_size = 10
        [model]
        name = "mlp"
        hidden = [16]
        [topology]
        name = "barabasi-albert"
        m = 2
        [protocol]
        name = "bristle"
        rounds = 4
        local_steps = 3
        batch_size = 8
        pretrain_examples = 200
        pretrain_steps = 40
        [evaluation]
        every_rounds = 2
        [attack]
        name = "sign-flip"
        count = 2
        """;

    private static string[] MetricsWithoutWall(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Select(l => string.Join(",", l.Split(',').Where((_, i) => i != 3))).ToArray();

    [Fact]
    public void Runs_with_attackers_excluded_and_is_deterministic_for_a_seed()
    {
        string file = Write(Toml);
        var exp = ExperimentBuilder.Load(file);
        Assert.Equal(8, exp.Protocol.NodeCount);
        Assert.True(exp.Protocol.HasAttackers);
        Assert.Equal(2, exp.Protocol.ExcludedNodes!.Count);
        var nodes = exp.Protocol.CreateNodes();
        Assert.Equal(6, nodes.OfType<BristleNode>().Count());
        Assert.All(exp.Protocol.ExcludedNodes, b => Assert.IsNotType<BristleNode>(nodes[b]));

        string a = Directory.CreateTempSubdirectory("bristle-a").FullName, b = Directory.CreateTempSubdirectory("bristle-b").FullName;
        ExperimentRunner.Run(exp, a);
        ExperimentRunner.Run(ExperimentBuilder.Load(file), b);
        var rows = MetricsWithoutWall(a);
        Assert.Equal(1 + 3, rows.Length); // header + rounds 0, 2, 4
        Assert.Equal(rows, MetricsWithoutWall(b));
        string c = Directory.CreateTempSubdirectory("bristle-c").FullName;
        ExperimentRunner.Run(ExperimentBuilder.Load(file, seed: 6), c);
        Assert.NotEqual(rows, MetricsWithoutWall(c));
    }

    [Fact]
    public void Attacks_that_target_an_aggregator_are_rejected()
    {
        string file = Write(Toml.Replace("\"sign-flip\"", "\"optimal-alie\""));
        var ex = Assert.Throws<ConfigException>(() => ExperimentBuilder.Load(file));
        Assert.Contains("not supported by bristle", ex.Message);
        Assert.Contains("bristle", ProtocolCatalog.Registry.Names);
    }
}
