using System.Globalization;
using Flock.Topology.Generators;

namespace Flock.Topology;

/// <summary>One parameter of a registered topology.</summary>
/// <param name="Name">Key in the configuration (kebab-case).</param>
/// <param name="Type"><c>"integer"</c>, <c>"number"</c>, <c>"string"</c> or <c>"boolean"</c>.</param>
/// <param name="Default">Default value as text, or null when the parameter is required.</param>
/// <param name="Description">What it means and its allowed range.</param>
public sealed record TopologyParameter(string Name, string Type, string? Default, string Description)
{
    /// <summary>True when the parameter has no default.</summary>
    public bool IsRequired => Default is null;
}

/// <summary>A registered topology: its name, aliases, description, reference and parameters.</summary>
/// <param name="Name">Canonical name, e.g. <c>"erdos-renyi"</c>.</param>
/// <param name="Aliases">Other accepted names.</param>
/// <param name="Summary">One-line description.</param>
/// <param name="Reference">Paper (title, year), or empty.</param>
/// <param name="Parameters">Accepted parameters.</param>
public sealed record TopologyInfo(string Name, IReadOnlyList<string> Aliases, string Summary, string Reference, IReadOnlyList<TopologyParameter> Parameters);

/// <summary>
/// Builds topology generators by registered name from a dictionary of parameters, as read from a
/// TOML experiment file (integers may arrive as <c>long</c>, numbers as <c>double</c>). Names are
/// matched case-insensitively with <c>_</c> and spaces read as <c>-</c>; unknown names, unknown
/// parameters, missing required parameters and values of the wrong type are rejected with a clear
/// message (and a "did you mean" suggestion where one is close).
/// </summary>
public static class TopologyRegistry
{
    /// <summary>The schedule parameter accepted by <see cref="CreateSchedule"/> on top of a topology's own: rounds per resampled graph (0 = static).</summary>
    public const string ResampleEveryParameter = "resample-every";

    private const string MaxAttemptsDoc = "connected samples are redrawn at most this many times, in [1, 1000000]";

    private sealed record Entry(TopologyInfo Info, Func<ParameterReader, ITopologyGenerator> Build);

    private static readonly Entry[] Entries =
    [
        new(new("ring", [], "Ring lattice: each node linked to its k nearest nodes on each side (degree 2k).", "",
                [new("k", "integer", "1", "neighbours on each side, ≥ 1 (n ≥ 2k+1)")]),
            r => new Ring(r.Int("k", 1))),
        new(new("torus", ["grid"], "2-D torus: rows × cols grid with wrap-around (degree 4); near-square when sides are not given.", "",
                [new("rows", "integer", "0", "rows ≥ 3, or 0 to derive from n"), new("cols", "integer", "0", "columns ≥ 3, or 0 to derive from n")]),
            r => new Torus(r.Int("rows", 0), r.Int("cols", 0))),
        new(new("complete", ["fully-connected", "full"], "Complete graph: every pair linked (degree n − 1).", "", []),
            _ => new Complete()),
        new(new("star", [], "Star: node 0 linked to every other node.", "", []),
            _ => new Star()),
        new(new("erdos-renyi", ["er", "gnp"], "Erdős–Rényi G(n, p), redrawn until connected (needs p above about ln(n)/n).",
                "P. Erdős and A. Rényi, \"On random graphs I\", 1959",
                [new("p", "number", null, "edge probability in (0, 1]"), new("max-attempts", "integer", "100", MaxAttemptsDoc)]),
            r => new ErdosRenyi(r.Double("p"), r.Int("max-attempts", 100))),
        new(new("barabasi-albert", ["ba"], "Barabási–Albert preferential attachment: each new node adds m edges; m·(n − m) edges in total.",
                "A.-L. Barabási and R. Albert, \"Emergence of scaling in random networks\", 1999",
                [new("m", "integer", null, "edges per new node, ≥ 1 (n ≥ m+1)")]),
            r => new BarabasiAlbert(r.Int("m"))),
        new(new("k-regular", ["random-regular", "regular"], "Random k-regular graph (pairing model), redrawn until connected.",
                "A. Steger and N. C. Wormald, \"Generating random regular graphs quickly\", 1999",
                [new("k", "integer", null, "degree, 1 ≤ k < n with n·k even"), new("max-attempts", "integer", "100", MaxAttemptsDoc)]),
            r => new KRegular(r.Int("k"), r.Int("max-attempts", 100))),
        new(new("exponential", ["exp"], "Static exponential graph: i linked to i ± 2^j mod n (degree about 2·log₂n).",
                "B. Ying et al., \"Exponential Graph is Provably Efficient for Decentralized Deep Training\", 2021", []),
            _ => new Exponential()),
        new(new("watts-strogatz", ["ws", "small-world"], "Watts–Strogatz small world: ring lattice with k neighbours per side, each edge rewired with probability beta; redrawn until connected.",
                "D. J. Watts and S. H. Strogatz, \"Collective dynamics of 'small-world' networks\", 1998",
                [new("k", "integer", null, "lattice neighbours on each side (NetworkX's k is 2k), ≥ 1"), new("beta", "number", null, "rewiring probability in [0, 1]"), new("max-attempts", "integer", "100", MaxAttemptsDoc)]),
            r => new WattsStrogatz(r.Int("k"), r.Double("beta"), r.Int("max-attempts", 100))),
        new(new("file", ["edge-list"], "A fixed graph from an edge-list file (lines \"u v\", '#' comments, nodes numbered from 0).", "",
                [new("path", "string", null, "the edge-list file"), new("nodes", "integer", "0", "expected node count, or 0 to use the experiment's"), new("require-connected", "boolean", "true", "reject a disconnected graph")]),
            r => new FromFile(r.String("path"), r.Int("nodes", 0), r.Bool("require-connected", true))),
    ];

    /// <summary>Every registered topology, in listing order.</summary>
    public static IReadOnlyList<TopologyInfo> All { get; } = Entries.Select(e => e.Info).ToArray();

    /// <summary>Canonical names of every registered topology.</summary>
    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Info.Name).ToArray();

    /// <summary>Looks up a topology by name or alias.</summary>
    /// <exception cref="ArgumentException">The name is unknown (the message suggests the closest one).</exception>
    public static TopologyInfo Describe(string name) => Find(name).Info;

    /// <summary>
    /// Builds the generator registered as <paramref name="name"/> with <paramref name="parameters"/>
    /// (null or empty for all defaults).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name, unknown or missing parameter, or a value of the wrong type.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A parameter value is outside its allowed range.</exception>
    public static ITopologyGenerator Create(string name, IReadOnlyDictionary<string, object?>? parameters = null)
    {
        var entry = Find(name);
        var reader = new ParameterReader(entry.Info, parameters, ignore: null);
        var generator = entry.Build(reader);
        return generator;
    }

    /// <summary>
    /// Builds a topology schedule: the generator registered as <paramref name="name"/>, plus the
    /// optional <c>resample-every</c> parameter (rounds per graph; 0, the default, keeps one graph;
    /// only meaningful for random topologies). Round 0's graph is built immediately, so errors
    /// such as an impossible node count surface here.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name, unknown or missing parameter, or a value of the wrong type.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range, or the node count is impossible for the topology.</exception>
    /// <exception cref="InvalidOperationException">No connected graph could be generated.</exception>
    /// <exception cref="FormatException">A topology file is malformed.</exception>
    /// <exception cref="FileNotFoundException">A topology file does not exist.</exception>
    public static ITopologySchedule CreateSchedule(string name, IReadOnlyDictionary<string, object?>? parameters, int nodeCount, ulong seed)
    {
        var entry = Find(name);
        var reader = new ParameterReader(entry.Info, parameters, ignore: ResampleEveryParameter);
        var generator = entry.Build(reader);
        int every = reader.ScheduleInt(ResampleEveryParameter, 0);
        if (every < 0)
            throw new ArgumentOutOfRangeException(ResampleEveryParameter, every, $"Invalid {ResampleEveryParameter} for topology '{entry.Info.Name}': {every}; must be ≥ 1 (rounds per new graph), or 0 for a static graph.");
        if (every > 0 && !generator.IsRandom)
            throw new ArgumentException($"{ResampleEveryParameter} = {every} has no effect: topology '{entry.Info.Name}' is deterministic{(generator is WattsStrogatz ? " (beta = 0)" : "")}; remove it or use a random topology.");
        if (every == 0) return new StaticTopology(generator.Generate(nodeCount, seed));
        return new ResampledTopology(generator, nodeCount, seed, every);
    }

    private static Entry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = Normalize(name);
        foreach (var e in Entries)
            if (e.Info.Name == key || e.Info.Aliases.Contains(key)) return e;
        var candidates = Entries.SelectMany(e => e.Info.Aliases.Prepend(e.Info.Name).Select(a => (Alias: a, Canonical: e.Info.Name)));
        string? best = NameSuggestion.Closest(key, candidates.Select(c => c.Alias));
        string hint = best is null ? "" : $" Did you mean '{candidates.First(c => c.Alias == best).Canonical}'?";
        throw new ArgumentException($"Unknown topology '{name}'.{hint} Known topologies: {string.Join(", ", Names)}.", nameof(name));
    }

    private static string Normalize(string name) => name.Trim().ToLowerInvariant().Replace('_', '-').Replace(' ', '-');

    /// <summary>Typed, checked access to one topology's parameter dictionary.</summary>
    private sealed class ParameterReader
    {
        private readonly TopologyInfo _info;
        private readonly IReadOnlyDictionary<string, object?> _values;

        public ParameterReader(TopologyInfo info, IReadOnlyDictionary<string, object?>? values, string? ignore)
        {
            _info = info;
            _values = values ?? new Dictionary<string, object?>();
            var known = info.Parameters.Select(p => p.Name).Concat(ignore is null ? [] : [ignore]).ToArray();
            foreach (var key in _values.Keys)
            {
                if (known.Contains(key)) continue;
                string? best = NameSuggestion.Closest(key, known);
                string accepted = known.Length == 0 ? "it takes no parameters" : $"accepted: {string.Join(", ", known)}";
                throw new ArgumentException($"Unknown parameter '{key}' for topology '{info.Name}'.{(best is null ? "" : $" Did you mean '{best}'?")} ({accepted}).");
            }
        }

        private object? Raw(string name, out bool present)
        {
            present = _values.TryGetValue(name, out var v);
            if (!present && _info.Parameters.First(p => p.Name == name).IsRequired)
                throw new ArgumentException($"Missing parameter '{name}' for topology '{_info.Name}': {Describe(name)}.");
            return v;
        }

        private string Describe(string name) => _info.Parameters.FirstOrDefault(p => p.Name == name)?.Description ?? name;

        private ArgumentException WrongType(string name, object? v, string expected) =>
            new($"Invalid value for '{name}' of topology '{_info.Name}': {Show(v)}; must be {expected} ({Describe(name)}).");

        private static string Show(object? v) => v switch
        {
            null => "nothing (null)",
            string s => $"the string \"{s}\"",
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => $"a {v.GetType().Name}",
        };

        public int Int(string name, int? fallback = null)
        {
            var v = Raw(name, out bool present);
            if (!present) return fallback!.Value;
            return ToInt(name, v);
        }

        public int ScheduleInt(string name, int fallback) =>
            _values.TryGetValue(name, out var v) ? ToInt(name, v) : fallback;

        private int ToInt(string name, object? v)
        {
            switch (v)
            {
                case int i: return i;
                case long l when l is >= int.MinValue and <= int.MaxValue: return (int)l;
                case short s: return s;
                case byte b: return b;
                case double d when Math.Floor(d) == d && Math.Abs(d) <= int.MaxValue: return (int)d;
                case long or double: throw WrongType(name, v, "an integer in the 32-bit range");
                default: throw WrongType(name, v, "an integer");
            }
        }

        public double Double(string name, double? fallback = null)
        {
            var v = Raw(name, out bool present);
            if (!present) return fallback!.Value;
            return v switch
            {
                double d => d,
                float f => f,
                int i => i,
                long l => l,
                _ => throw WrongType(name, v, "a number"),
            };
        }

        public string String(string name, string? fallback = null)
        {
            var v = Raw(name, out bool present);
            if (!present) return fallback!;
            return v as string ?? throw WrongType(name, v, "a string");
        }

        public bool Bool(string name, bool? fallback = null)
        {
            var v = Raw(name, out bool present);
            if (!present) return fallback!.Value;
            return v is bool b ? b : throw WrongType(name, v, "true or false");
        }
    }
}

/// <summary>"Did you mean" suggestions by edit distance.</summary>
internal static class NameSuggestion
{
    /// <summary>The candidate closest to <paramref name="name"/> (optimal string alignment distance), if close enough to be a plausible typo.</summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string lower = name.ToLowerInvariant();
        var list = candidates.ToArray();
        if (lower.Length >= 3)
        {
            var prefixed = list.Where(c => c.StartsWith(lower, StringComparison.OrdinalIgnoreCase)).OrderBy(c => c.Length).FirstOrDefault();
            if (prefixed is not null) return prefixed;
        }
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in list)
        {
            int d = Distance(lower, c.ToLowerInvariant());
            if (d < bestDistance) { bestDistance = d; best = c; }
        }
        if (best is null) return null;
        int allowed = Math.Max(2, Math.Max(name.Length, best.Length) / 3);
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>Edit distance with adjacent transpositions (optimal string alignment).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
