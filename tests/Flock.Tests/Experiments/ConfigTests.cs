using Flock.Experiments.Config;

namespace Flock.Tests.Experiments;

public class ConfigTests
{
    private static readonly Param<int> Rounds = Params.Int("rounds", 10, "rounds", min: 1);
    private static readonly Param<double> Lr = Params.Double("lr", 0.1, "learning rate", min: 0, minExclusive: true);
    private static readonly Param<string> Mode = Params.String("mode", "a", "mode", "a", "b");
    private static readonly Param<int[]> Hidden = Params.IntArray("hidden", new[] { 128 }, "widths", min: 1);

    private static ConfigSection Parse(string toml) => new(ExperimentFile.Parse(toml, "x.toml"), "x.toml");

    [Fact]
    public void Reads_values_and_defaults()
    {
        var root = Parse("[protocol]\nrounds = 5\nlr = 1\nhidden = [3, 4]\n");
        var s = root.Section("protocol");
        Assert.Equal(5, s.Get(Rounds));
        Assert.Equal(1.0, s.Get(Lr));
        Assert.Equal("a", s.Get(Mode));
        Assert.Equal(new[] { 3, 4 }, s.Get(Hidden));
        root.ThrowOnUnknownKeys();
    }

    [Fact]
    public void Unknown_key_is_rejected_with_suggestion()
    {
        var root = Parse("[protocol]\nrouns = 5\n");
        root.Section("protocol").Get(Rounds);
        var ex = Assert.Throws<ConfigException>(root.ThrowOnUnknownKeys);
        Assert.Contains("x.toml", ex.Message);
        Assert.Contains("protocol.rouns", ex.Message);
        Assert.Contains("Did you mean 'rounds'?", ex.Message);
    }

    [Fact]
    public void Unknown_table_is_rejected()
    {
        var root = Parse("[protocl]\nrounds = 5\n");
        root.Section("protocol");
        var ex = Assert.Throws<ConfigException>(root.ThrowOnUnknownKeys);
        Assert.Contains("'protocl'", ex.Message);
        Assert.Contains("Did you mean 'protocol'?", ex.Message);
    }

    [Theory]
    [InlineData("rounds = 0", "'rounds' = 0 is not allowed: must be ≥ 1")]
    [InlineData("rounds = \"ten\"", "wrong type: expected integer")]
    [InlineData("lr = -0.1", "'lr' = -0.1 is not allowed: must be > 0")]
    [InlineData("mode = \"c\"", "must be one of: a, b")]
    [InlineData("hidden = [0]", "'hidden' = [0] is not allowed")]
    public void Bad_values_name_file_key_value_and_rule(string line, string expected)
    {
        var root = Parse(line + "\n");
        var ex = Assert.ThrowsAny<ConfigException>(() => { root.Get(Rounds); root.Get(Lr); root.Get(Mode); root.Get(Hidden); });
        Assert.Contains("x.toml", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Invalid_toml_names_the_file()
    {
        var ex = Assert.Throws<ConfigException>(() => ExperimentFile.Parse("a = = 1", "bad.toml"));
        Assert.StartsWith("bad.toml: not valid TOML", ex.Message);
    }

    [Fact]
    public void Overrides_set_nested_values_with_toml_types()
    {
        var t = ExperimentFile.Parse("[protocol]\nrounds = 5\n", "x.toml");
        ExperimentFile.ApplyOverride(t, "protocol.rounds=7");
        ExperimentFile.ApplyOverride(t, "optimizer.name=adam");
        ExperimentFile.ApplyOverride(t, "model.hidden=[64, 32]");
        var root = new ConfigSection(t, "x.toml");
        Assert.Equal(7, root.Section("protocol").Get(Rounds));
        Assert.Equal("adam", root.Section("optimizer").Get(Params.String("name", null, "n")));
        Assert.Equal(new[] { 64, 32 }, root.Section("model").Get(Hidden));
        Assert.Throws<ConfigException>(() => ExperimentFile.ApplyOverride(t, "protocol.rounds.x=1"));
        Assert.Throws<ConfigException>(() => ExperimentFile.ApplyOverride(t, "novalue"));
    }

    [Fact]
    public void Registry_suggests_names()
    {
        var reg = new ComponentRegistry<int, string>("topology").Add("ring", "ring", "standard", new Param[] { Rounds }, (s, n) => "ring" + n);
        var root = Parse("[topology]\nname = \"rnig\"\n");
        var ex = Assert.Throws<ConfigException>(() => reg.Create(root.Section("topology"), 3));
        Assert.Contains("unknown topology 'rnig'", ex.Message);
        Assert.Contains("Did you mean 'ring'?", ex.Message);
        Assert.Equal("ring3", reg.Create(Parse("[t]\nname = \"ring\"\n").Section("t"), 3));
    }

    [Fact]
    public void Did_you_mean_distance()
    {
        Assert.Equal(1, DidYouMean.Distance("rounds", "rouns"));
        Assert.Equal(1, DidYouMean.Distance("ab", "ba"));
        Assert.Null(DidYouMean.Suggest("zzzzzz", new[] { "rounds" }));
    }
}
