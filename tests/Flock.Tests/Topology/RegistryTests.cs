using Flock.Topology;
using Flock.Topology.Generators;

namespace Flock.Tests.Topology;

public class RegistryTests
{
    private static Dictionary<string, object?> P(params (string Key, object? Value)[] kv) => kv.ToDictionary(x => x.Key, x => x.Value);

    [Fact]
    public void Builds_every_topology_by_name_with_toml_typed_values()
    {
        Assert.Equal(2, Assert.IsType<Ring>(TopologyRegistry.Create("ring", P(("k", 2L)))).K);
        Assert.Equal(1, Assert.IsType<Ring>(TopologyRegistry.Create("ring")).K);
        Assert.Equal(0.3, Assert.IsType<ErdosRenyi>(TopologyRegistry.Create("erdos-renyi", P(("p", 0.3)))).P);
        Assert.Equal(1.0, Assert.IsType<ErdosRenyi>(TopologyRegistry.Create("erdos-renyi", P(("p", 1L)))).P);
        Assert.Equal(3, Assert.IsType<BarabasiAlbert>(TopologyRegistry.Create("barabasi-albert", P(("m", 3L)))).M);
        Assert.Equal(4, Assert.IsType<KRegular>(TopologyRegistry.Create("k-regular", P(("k", 4.0)))).K);
        var ws = Assert.IsType<WattsStrogatz>(TopologyRegistry.Create("watts-strogatz", P(("k", 2L), ("beta", 0.1), ("max-attempts", 7L))));
        Assert.Equal((2, 0.1, 7), (ws.K, ws.Beta, ws.MaxAttempts));
        Assert.Equal("watts-strogatz(k=2, beta=0.1, max-attempts=7)", ws.ToString());
        Assert.IsType<Exponential>(TopologyRegistry.Create("exponential"));
        Assert.IsType<Complete>(TopologyRegistry.Create("complete"));
        Assert.IsType<Star>(TopologyRegistry.Create("star"));
        var torus = Assert.IsType<Torus>(TopologyRegistry.Create("torus", P(("rows", 4L))));
        Assert.Equal((4, 0), (torus.Rows, torus.Cols));
        var file = Assert.IsType<FromFile>(TopologyRegistry.Create("file", P(("path", "g.txt"), ("require-connected", false))));
        Assert.Equal(("g.txt", false), (file.Path, file.RequireConnected));
        Assert.IsType<ErdosRenyi>(TopologyRegistry.Create("Erdos_Renyi", P(("p", 0.5))));
        Assert.IsType<BarabasiAlbert>(TopologyRegistry.Create("BA", P(("m", 1L))));
    }

    [Fact]
    public void Every_registered_generator_builds_a_connected_graph()
    {
        var defaults = new Dictionary<string, Dictionary<string, object?>>
        {
            ["erdos-renyi"] = P(("p", 0.4)), ["barabasi-albert"] = P(("m", 2L)), ["k-regular"] = P(("k", 3L)),
            ["watts-strogatz"] = P(("k", 2L), ("beta", 0.2)),
        };
        foreach (var info in TopologyRegistry.All)
        {
            if (info.Name == "file") continue;
            var gen = TopologyRegistry.Create(info.Name, defaults.GetValueOrDefault(info.Name));
            Assert.Equal(info.Name, gen.Name);
            var g = gen.Generate(16, 1);
            Assert.True(g.IsConnected, info.Name);
            Assert.Equal(16, g.NodeCount);
            Assert.Equal(g, gen.Generate(16, 1));
        }
    }

    [Fact]
    public void Unknown_names_get_a_suggestion()
    {
        var e = Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("erdos-reny", P(("p", 0.5))));
        Assert.Contains("Unknown topology 'erdos-reny'. Did you mean 'erdos-renyi'?", e.Message);
        Assert.Contains("Known topologies: ring, torus, complete", e.Message);
        Assert.Contains("Did you mean 'barabasi-albert'?", Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("barabasi")).Message);
        Assert.Contains("Did you mean 'watts-strogatz'?", Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("watts-strogaz")).Message);
        Assert.DoesNotContain("Did you mean", Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("hypercube")).Message);
    }

    [Fact]
    public void Unknown_missing_and_mistyped_parameters_are_clear()
    {
        var unknown = Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("watts-strogatz", P(("k", 2L), ("betta", 0.1))));
        Assert.Contains("Unknown parameter 'betta' for topology 'watts-strogatz'. Did you mean 'beta'?", unknown.Message);
        Assert.Contains("accepted: k, beta, max-attempts", unknown.Message);
        var none = Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("complete", P(("k", 2L))));
        Assert.Contains("it takes no parameters", none.Message);
        var missing = Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("erdos-renyi"));
        Assert.Contains("Missing parameter 'p' for topology 'erdos-renyi'", missing.Message);
        var frac = Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("ring", P(("k", 2.5))));
        Assert.Contains("Invalid value for 'k' of topology 'ring': 2.5; must be an integer", frac.Message);
        var str = Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("erdos-renyi", P(("p", "0.1"))));
        Assert.Contains("the string \"0.1\"; must be a number", str.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => TopologyRegistry.Create("erdos-renyi", P(("p", 1.5))));
        Assert.Contains("Invalid edge probability p for erdos-renyi: 1.5", range.Message);
        var big = Assert.Throws<ArgumentException>(() => TopologyRegistry.Create("ring", P(("k", 1L << 40))));
        Assert.Contains("32-bit", big.Message);
    }

    [Fact]
    public void Schedules_are_static_or_resampled_deterministically()
    {
        var fixedRing = TopologyRegistry.CreateSchedule("ring", P(("k", 2L)), 10, 1);
        Assert.True(fixedRing.IsStatic);
        Assert.Same(fixedRing.GraphAt(0), fixedRing.GraphAt(99));

        var er = P(("p", 0.3), ("resample-every", 1L));
        var s = TopologyRegistry.CreateSchedule("erdos-renyi", er, 30, 5);
        Assert.False(s.IsStatic);
        var rounds = Enumerable.Range(0, 6).Select(r => s.GraphAt(r)).ToArray();
        Assert.True(rounds.Distinct().Count() == 6);
        var again = TopologyRegistry.CreateSchedule("erdos-renyi", er, 30, 5);
        Assert.Equal(rounds[4], again.GraphAt(4)); // rebuilt without rounds 0–3
        Assert.Equal(rounds[1], s.GraphAt(1));

        var every3 = new ResampledTopology(new ErdosRenyi(0.3), 30, 5, period: 3);
        Assert.Same(every3.GraphAt(0), every3.GraphAt(2));
        Assert.NotEqual(every3.GraphAt(2), every3.GraphAt(3));

        var useless = Assert.Throws<ArgumentException>(() => TopologyRegistry.CreateSchedule("ring", P(("resample-every", 1L)), 10, 1));
        Assert.Contains("is deterministic", useless.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TopologyRegistry.CreateSchedule("erdos-renyi", P(("p", 0.5), ("resample-every", -1L)), 10, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => TopologyRegistry.CreateSchedule("torus", null, 14, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.GraphAt(-1));
    }

    [Fact]
    public void Registry_lists_parameters_and_references()
    {
        var er = TopologyRegistry.Describe("er");
        Assert.Equal("erdos-renyi", er.Name);
        Assert.Contains("1959", er.Reference);
        Assert.True(er.Parameters.Single(p => p.Name == "p").IsRequired);
        Assert.Equal("100", er.Parameters.Single(p => p.Name == "max-attempts").Default);
        Assert.Equal(10, TopologyRegistry.Names.Count);
    }
}
