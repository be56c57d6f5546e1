using Flock.Experiments.Config;
using Flock.Topology;

namespace Flock.Experiments.Catalog;

/// <summary>Builds topologies from <c>[topology]</c> through <see cref="TopologyRegistry"/>, with file/key-aware errors.</summary>
public static class TopologyCatalog
{
    /// <summary>Builds the schedule named by <c>name</c> with the section's other keys as parameters.</summary>
    /// <exception cref="ConfigException">Unknown topology or parameter, bad value, impossible node count.</exception>
    public static ITopologySchedule Create(ConfigSection section, int nodes, ulong seed, string baseDirectory)
    {
        string name = section.Get(Params.String("name", null, "which topology to use"));
        var parameters = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in section.Table)
        {
            if (key == "name") continue;
            section.MarkUsed(key);
            object? v = value;
            if (key == "path" && value is string p && !Path.IsPathRooted(p)) v = Path.GetFullPath(Path.Combine(baseDirectory, p));
            parameters[key.Replace('_', '-')] = v;
            section.Record(key, v);
        }
        try
        {
            return TopologyRegistry.CreateSchedule(name, parameters, nodes, seed);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or FileNotFoundException)
        {
            throw new ConfigException($"{section.File}: [{section.Path}] {ex.Message}", ex);
        }
    }

    /// <summary>What <c>flock list</c> shows for topologies.</summary>
    public static IEnumerable<ComponentInfo> Components => TopologyRegistry.All.Select(t => new ComponentInfo(t.Name, "topology", t.Summary,
        t.Reference.Length > 0 ? t.Reference : "standard",
        t.Parameters.Select(p => (Param)new DescribedParam(p.Name.Replace('-', '_'), p.Type, p.Default ?? "(required)", p.Description)).ToArray()));

    private sealed class DescribedParam : Param
    {
        public DescribedParam(string name, string type, string def, string doc) : base(name, doc, def == "(required)")
        {
            TypeName = type;
            DefaultText = def;
        }

        public override string TypeName { get; }

        public override string DefaultText { get; }

        public override string AllowedText => "";

        internal override object? ReadBoxed(object raw, string where, string file) => raw;
    }
}
