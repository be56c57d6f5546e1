using System.ComponentModel;
using Flock.Experiments.Results;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Flock.Cli.Commands;

/// <summary><c>flock plot DIR...</c>: overlays the runs' accuracy curves in one figure per x axis.</summary>
public sealed class PlotCommand : Command<PlotCommand.Settings>
{
    /// <summary>Arguments of <c>flock plot</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>Run folders (each with a metrics.csv).</summary>
        [CommandArgument(0, "<RUN_DIR>")]
        [Description("Run folders, each holding a metrics.csv.")]
        public string[] Runs { get; init; } = Array.Empty<string>();

        /// <summary>Where to write the PNGs.</summary>
        [CommandOption("-o|--out <DIR>")]
        [Description("Folder for the PNG files (default: the current folder).")]
        public string Out { get; init; } = ".";
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var runs = settings.Runs.Select(d => (Label: RunLabel(d), Table: MetricsTable.Read(Path.Combine(d, "metrics.csv")))).ToList();
        Directory.CreateDirectory(settings.Out);
        var files = Plots.AccuracyPlots(runs, settings.Out, "compare_");
        foreach (var f in files) AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(f)}[/]");
        return 0;
    }

    private static string RunLabel(string dir)
    {
        var full = Path.GetFullPath(dir).TrimEnd('/');
        var parent = Path.GetFileName(Path.GetDirectoryName(full) ?? "");
        return parent.Length > 0 && parent != "runs" ? $"{parent}/{Path.GetFileName(full)}" : Path.GetFileName(full);
    }
}
