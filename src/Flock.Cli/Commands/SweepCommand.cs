using System.ComponentModel;
using System.Globalization;
using System.Text;
using Flock.Experiments;
using Flock.Experiments.Config;
using Flock.Experiments.Results;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Flock.Cli.Commands;

/// <summary><c>flock sweep FILE --grid key=v1,v2 ...</c>: runs every combination and writes a comparison table.</summary>
public sealed class SweepCommand : Command<SweepCommand.Settings>
{
    /// <summary>Arguments of <c>flock sweep</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>The experiment file.</summary>
        [CommandArgument(0, "<FILE>")]
        [Description("Experiment file (TOML).")]
        public string File { get; init; } = "";

        /// <summary>Grid axes.</summary>
        [CommandOption("-g|--grid <KEY=V1,V2>")]
        [Description("An axis of the grid, e.g. --grid optimizer.learning_rate=0.01,0.1 (repeatable; values are TOML; use ';' to separate values containing commas).")]
        public string[] Grid { get; init; } = Array.Empty<string>();

        /// <summary>Fixed overrides.</summary>
        [CommandOption("--set <KEY=VALUE>")]
        [Description("Override a value in every run (repeatable).")]
        public string[] Set { get; init; } = Array.Empty<string>();

        /// <summary>Output folder.</summary>
        [CommandOption("-o|--out <DIR>")]
        [Description("Sweep folder (must not hold files). Default: runs/<name>-sweep/<timestamp>.")]
        public string? Out { get; init; }

        /// <summary>Seeds.</summary>
        [CommandOption("--seeds <N>")]
        [Description("Repeat every combination with seeds 1..N (default: the file's seed only).")]
        public int Seeds { get; init; }

        /// <summary>Threads per large kernel call.</summary>
        [CommandOption("--kernel-threads <N>")]
        [Description("Most threads one large aggregation or compression call uses (default: every core; 1 keeps kernels single-threaded). Results do not depend on it.")]
        public int? KernelThreads { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate() =>
            KernelThreads is < 1 ? ValidationResult.Error($"Invalid --kernel-threads {KernelThreads}: must be ≥ 1.") : ValidationResult.Success();
    }

    /// <summary>Parses "key=v1,v2" (or "key=v1;v2") into a key and its values.</summary>
    /// <exception cref="ConfigException">Malformed axis.</exception>
    public static (string Key, string[] Values) ParseAxis(string axis)
    {
        int eq = axis.IndexOf('=');
        if (eq <= 0 || eq == axis.Length - 1) throw new ConfigException($"--grid '{axis}': expected KEY=V1,V2,...");
        string rest = axis[(eq + 1)..];
        var values = (rest.Contains(';') ? rest.Split(';') : SplitTopLevel(rest)).Select(v => v.Trim()).Where(v => v.Length > 0).ToArray();
        return (axis[..eq].Trim(), values);
    }

    private static string[] SplitTopLevel(string s)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '[') depth++;
            else if (s[i] == ']' || s[i] == '}') depth--;
            else if (s[i] == '{') depth++;
            else if (s[i] == ',' && depth == 0) { parts.Add(s[start..i]); start = i + 1; }
        }
        parts.Add(s[start..]);
        return parts.ToArray();
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        if (s.KernelThreads is int threads) Flock.Tensors.KernelParallelism.MaxThreads = threads;
        var axes = ExperimentFile.SweepAxes(s.File)
            .Where(a => !s.Grid.Any(g => ParseAxis(g).Key == a.Key))
            .Concat(s.Grid.Select(ParseAxis).Select(a => (a.Key, a.Values.Select(ExperimentFile.ParseValueText).ToArray())))
            .ToList();
        if (axes.Count == 0) throw new ConfigException($"{s.File} has no [sweep] table and no --grid KEY=V1,V2 was given: nothing to sweep.");
        var combos = new List<List<(string Key, object Value)>> { new() };
        foreach (var (key, values) in axes)
            combos = combos.SelectMany(c => values.Select(v => c.Append((key, v)).ToList())).ToList();
        var seeds = s.Seeds > 0 ? Enumerable.Range(1, s.Seeds).Select(i => (ulong?)(ulong)i).ToList() : new List<ulong?> { null };

        // Validate every combination before running anything.
        var experiments = new List<(List<(string Key, string Value)> Combo, ulong? Seed, Func<Experiment> Build)>();
        foreach (var combo in combos)
            foreach (var seed in seeds)
            {
                var assign = combo.Select(kv => new KeyValuePair<string, object>(kv.Key, kv.Value)).ToList();
                ExperimentBuilder.Load(s.File, s.Set, seed, assign); // throws ConfigException on a bad combination
                var shown = combo.Select(kv => (kv.Key, ValueLabel(kv.Value))).ToList();
                experiments.Add((shown, seed, () => ExperimentBuilder.Load(s.File, s.Set, seed, assign)));
            }
        string name = Path.GetFileNameWithoutExtension(s.File) + "-sweep";
        string dir = RunDirectory.Create("runs", name, s.Out, DateTime.Now);
        AnsiConsole.MarkupLine($"{experiments.Count} runs → [green]{Markup.Escape(dir)}[/]");

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        var rows = new List<(List<(string Key, string Value)> Combo, ulong Seed, IReadOnlyDictionary<string, object> Summary, string RunDir)>();
        try
        {
            foreach (var (combo, seed, build) in experiments)
            {
                if (cts.IsCancellationRequested) break;
                var exp = build();
                string label = string.Join(",", combo.Select(kv => kv.Key == "." ? kv.Value : $"{kv.Key.Split('.')[^1]}={kv.Value}")) + (seed is null ? "" : $",seed={seed}");
                string runDir = Path.Combine(dir, Sanitize(label));
                Directory.CreateDirectory(runDir);
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(label)}[/]");
                var outcome = ExperimentRunner.Run(exp, runDir, cancellationToken: cts.Token);
                rows.Add((combo, exp.Seed, outcome.Summary, runDir));
                AnsiConsole.MarkupLine($"  final accuracy {outcome.Summary["final_test_accuracy"]}, best {outcome.Summary["best_test_accuracy"]}, {outcome.Summary["bytes_sent"]:N0} bytes");
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        WriteTables(dir, axes.Select(a => a.Key).ToList(), rows.Select(r => (r.Combo.Select(c => c.Value).ToList(), r.Seed, r.Summary)).ToList());
        Plots.AccuracyPlots(rows.Select(r => (Path.GetFileName(r.RunDir), MetricsTable.Read(Path.Combine(r.RunDir, ExperimentRunner.MetricsFile)))).ToList(), dir, "compare_");
        if (axes.Count >= 2 && rows.Count > 0)
        {
            // Worst node's final accuracy: honest nodes only when the run has attackers.
            const string metric = "worst node's final test accuracy";
            static double Worst(IReadOnlyDictionary<string, object> d) =>
                (d.TryGetValue("worst_honest_test_accuracy", out var v) || d.TryGetValue("final_test_accuracy_min", out v)) && v is not string
                    ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : double.NaN;
            var cells = rows.Select(r => (Row: r.Combo[0].Value, Col: string.Join(", ", r.Combo.Skip(1).Select(c => c.Value)), Value: Worst(r.Summary))).ToList();
            string png = Path.Combine(dir, "heatmap.png");
            Plots.Heatmap(cells, $"{metric}: {(axes[0].Key == "." ? "variant" : axes[0].Key)} × {string.Join(" × ", axes.Skip(1).Select(a => a.Key))}", png);
            AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(png)}[/]");
        }
        AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(Path.Combine(dir, "comparison.md"))}[/] and comparison.csv");
        return cts.IsCancellationRequested ? 130 : 0;
    }

    private static readonly string[] SummaryColumns = { "final_test_accuracy", "best_test_accuracy", "final_test_accuracy_min", "worst_honest_test_accuracy", "attack_success_rate", "rounds", "bytes_sent", "bytes_per_node_per_round", "uplink_bytes_per_client_per_round", "downlink_bytes_per_client_per_round", "wall_seconds" };

    /// <summary>Writes comparison.csv and comparison.md.</summary>
    public static void WriteTables(string dir, List<string> keys, List<(List<string> Values, ulong Seed, IReadOnlyDictionary<string, object> Summary)> rows)
    {
        string Cell(IReadOnlyDictionary<string, object> d, string k) => d.TryGetValue(k, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? "" : "";
        var present = SummaryColumns.Where(c => rows.Any(r => r.Summary.ContainsKey(c))).ToArray();
        var header = keys.Append("seed").Concat(present).ToList();
        var csv = new StringBuilder(string.Join(",", header) + "\n");
        var md = new StringBuilder("| " + string.Join(" | ", header) + " |\n|" + string.Concat(header.Select(_ => "---|")) + "\n");
        foreach (var (values, seed, sum) in rows)
        {
            var cells = values.Append(seed.ToString(CultureInfo.InvariantCulture)).Concat(present.Select(c => Cell(sum, c))).ToList();
            csv.AppendLine(string.Join(",", cells.Select(c => c.Contains(',') ? $"\"{c}\"" : c)));
            md.AppendLine("| " + string.Join(" | ", cells) + " |");
        }
        File.WriteAllText(Path.Combine(dir, "comparison.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(dir, "comparison.md"), md.ToString());
    }

    /// <summary>A short label for a swept value: a table shows its name (and other keys), others their TOML text.</summary>
    public static string ValueLabel(object v) => v switch
    {
        Tomlyn.Model.TomlTable t => string.Join(" ", t.Select(kv => kv.Value is Tomlyn.Model.TomlTable inner ? ValueLabel(inner)
            : kv.Key == "name" ? Params.Format(kv.Value).Trim('"') : $"{kv.Key}={Params.Format(kv.Value).Trim('"')}")),
        _ => Params.Format(v).Trim('"'),
    };

    private static string Sanitize(string s) => new(s.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' or '=' or ',' ? c : '_').ToArray());
}
