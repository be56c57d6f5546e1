using System.ComponentModel;
using System.Globalization;
using Flock.Experiments;
using Flock.Experiments.Results;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Flock.Cli.Commands;

/// <summary><c>flock run FILE [--out DIR] [--seed N] [--set key=value ...]</c>, or <c>flock run --resume DIR</c>.</summary>
public sealed class RunCommand : Command<RunCommand.Settings>
{
    /// <summary>Arguments of <c>flock run</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>The experiment file.</summary>
        [CommandArgument(0, "[FILE]")]
        [Description("Experiment file (TOML).")]
        public string? File { get; init; }

        /// <summary>Output folder.</summary>
        [CommandOption("-o|--out <DIR>")]
        [Description("Run folder (must not hold files). Default: runs/<name>/<timestamp>.")]
        public string? Out { get; init; }

        /// <summary>Seed override.</summary>
        [CommandOption("--seed <N>")]
        [Description("Replace the file's seed.")]
        public ulong? Seed { get; init; }

        /// <summary>Overrides.</summary>
        [CommandOption("--set <KEY=VALUE>")]
        [Description("Override a value, e.g. --set protocol.rounds=10 (repeatable).")]
        public string[] Set { get; init; } = Array.Empty<string>();

        /// <summary>Resume a run folder.</summary>
        [CommandOption("--resume <DIR>")]
        [Description("Continue an interrupted run from its last checkpoint.")]
        public string? Resume { get; init; }

        /// <summary>Threads per large kernel call.</summary>
        [CommandOption("--kernel-threads <N>")]
        [Description("Most threads one large aggregation or compression call uses (default: every core; 1 keeps kernels single-threaded). Results do not depend on it.")]
        public int? KernelThreads { get; init; }

        /// <summary>Plain output.</summary>
        [CommandOption("--quiet")]
        [Description("No progress bar; one line per evaluation.")]
        public bool Quiet { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (Resume is null && File is null) return ValidationResult.Error("Give an experiment FILE, or --resume DIR.");
            if (KernelThreads is < 1) return ValidationResult.Error($"Invalid --kernel-threads {KernelThreads}: must be ≥ 1.");
            if (Resume is not null && (File is not null || Set.Length > 0 || Seed is not null || Out is not null))
                return ValidationResult.Error("--resume DIR continues a run exactly as it was configured; it takes no FILE, --set, --seed or --out.");
            return ValidationResult.Success();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        if (s.KernelThreads is int threads) Flock.Tensors.KernelParallelism.MaxThreads = threads;
        Experiment exp;
        string dir;
        if (s.Resume is not null)
        {
            string cfg = Path.Combine(s.Resume, ExperimentRunner.ConfigFile);
            if (!System.IO.File.Exists(cfg)) throw new IOException($"{s.Resume} is not a Flock run folder (no {ExperimentRunner.ConfigFile}).");
            exp = ExperimentBuilder.Load(cfg);
            dir = s.Resume;
        }
        else
        {
            exp = ExperimentBuilder.Load(s.File!, s.Set, s.Seed);
            dir = RunDirectory.Create("runs", exp.Name, s.Out, DateTime.Now);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(exp.Name)}[/]: {Markup.Escape(exp.Protocol.Description)}; model {exp.Learner.Layout.Length:N0} parameters; {Markup.Escape(exp.PartitionSummary.ToString())}");
            AnsiConsole.MarkupLine($"writing [green]{Markup.Escape(dir)}[/]{(s.Resume is not null ? " (resuming)" : "")}");
            RunOutcome outcome;
            if (s.Quiet || Console.IsOutputRedirected)
            {
                outcome = ExperimentRunner.Run(exp, dir, s.Resume is not null, p =>
                {
                    if (p.Row is { } r) Console.WriteLine(Line(p, r));
                }, cts.Token);
            }
            else
            {
                outcome = null!;
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("starting", maxValue: 1.0);
                        outcome = ExperimentRunner.Run(exp, dir, s.Resume is not null, p =>
                        {
                            task.Value = Math.Min(1.0, p.Fraction);
                            if (p.Row is { } r) task.Description = Markup.Escape(Line(p, r));
                        }, cts.Token);
                        task.Value = 1.0;
                    });
            }
            var sum = outcome.Summary;
            AnsiConsole.MarkupLine($"{(cts.IsCancellationRequested ? "[yellow]interrupted[/]" : "[green]done[/]")}: final accuracy {sum["final_test_accuracy"]}, best {sum["best_test_accuracy"]}, " +
                $"{sum["rounds"]} rounds, {sum["bytes_sent"]:N0} bytes, {Convert.ToDouble(sum["wall_seconds"], CultureInfo.InvariantCulture):F1} s wall → {Markup.Escape(dir)}");
            return cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested ? 130 : 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static string Line(Flock.Runtime.Simulation.SimulationProgress p, Flock.Runtime.Simulation.MetricsRow r) =>
        string.Create(CultureInfo.InvariantCulture, $"{(r.Round >= 0 ? $"round {r.Round}" : $"tick {r.Tick}")}  t={r.VirtualTime:F1}s  acc {r.AccuracyMean:F4} (min {r.AccuracyMin:F4})  loss {r.LossMean:F4}  {r.BytesSent / 1e6:F1} MB");
}
