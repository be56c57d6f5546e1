using System.Globalization;
using System.Text.Json;
using Flock.Experiments.Config;
using Flock.Experiments.Results;
using Flock.Runtime.Simulation;
using Tomlyn;

namespace Flock.Experiments;

/// <summary>What <see cref="ExperimentRunner.Run"/> returns.</summary>
/// <param name="Directory">The run folder.</param>
/// <param name="Result">The simulator's result.</param>
/// <param name="Summary">What was written to summary.json.</param>
public sealed record RunOutcome(string Directory, SimulationResult Result, IReadOnlyDictionary<string, object> Summary);

/// <summary>
/// Runs an <see cref="Experiment"/> into a run folder: <c>config.resolved.toml</c>,
/// <c>partition.csv</c>, <c>metrics.csv</c> (one row per evaluation, flushed as it comes),
/// checkpoints, <c>summary.json</c> and PNG plots. An interrupted run keeps what it did; a run with
/// checkpoints can be resumed and then equals an uninterrupted one.
/// </summary>
public static class ExperimentRunner
{
    /// <summary>File names inside a run folder.</summary>
    public const string ConfigFile = "config.resolved.toml", MetricsFile = "metrics.csv", SummaryFile = "summary.json",
        CheckpointFile = "checkpoint.bin", CheckpointInfoFile = "checkpoint.json", PartitionFile = "partition.csv";

    /// <summary>Runs (or, with <paramref name="resume"/>, continues) <paramref name="experiment"/> in <paramref name="directory"/>.</summary>
    /// <param name="experiment">The built experiment.</param>
    /// <param name="directory">The run folder (created by <see cref="RunDirectory"/>, or an earlier run's to resume).</param>
    /// <param name="resume">Continue from the folder's last checkpoint.</param>
    /// <param name="progress">Called after each round / tick (from the simulation thread).</param>
    /// <param name="cancellationToken">Stops the run cleanly; what was done is written.</param>
    /// <exception cref="IOException">Resume asked but the folder has no checkpoint.</exception>
    public static RunOutcome Run(Experiment experiment, string directory, bool resume = false, Action<SimulationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        string metricsPath = Path.Combine(directory, MetricsFile);
        var sim = experiment.CreateSimulator();
        long rowsWritten = 0;
        if (resume)
        {
            string cp = Path.Combine(directory, CheckpointFile), info = Path.Combine(directory, CheckpointInfoFile);
            if (!File.Exists(cp) || !File.Exists(info))
                throw new IOException($"{directory} has no checkpoint to resume from (expected {CheckpointFile}); enable [checkpoint] every_rounds to make runs resumable.");
            using (var f = File.OpenRead(cp)) sim.LoadCheckpoint(f);
            rowsWritten = JsonDocument.Parse(File.ReadAllText(info)).RootElement.GetProperty("rows").GetInt64();
            TruncateCsv(metricsPath, rowsWritten);
        }
        else
        {
            File.WriteAllText(Path.Combine(directory, ConfigFile), "# Resolved configuration: every value used, defaults included.\n" + TomlSerializer.Serialize(experiment.Config.Resolved));
            WritePartition(experiment, Path.Combine(directory, PartitionFile));
            File.WriteAllText(metricsPath, MetricsRow.CsvHeader(experiment.Options.Metrics.ExtraMetrics.Select(m => m.Name)) + "\n");
        }

        var rows = new List<MetricsRow>();
        using var csv = new StreamWriter(metricsPath, append: true);
        sim.RowRecorded += row =>
        {
            csv.WriteLine(row.ToCsv());
            csv.Flush();
            rows.Add(row);
            rowsWritten++;
        };
        long lastCheckpoint = sim.Round;
        sim.Progress += p =>
        {
            if (experiment.CheckpointEvery > 0 && p.Round > 0 && p.Round % experiment.CheckpointEvery == 0 && p.Round != lastCheckpoint)
            {
                lastCheckpoint = p.Round;
                SaveCheckpoint(sim, directory, rowsWritten, p.Round);
            }
            progress?.Invoke(p);
        };
        var result = sim.Run(cancellationToken);
        csv.Flush();
        var all = MetricsTable.Read(metricsPath);
        var summary = Summarize(experiment, result, all);
        if (experiment.Protocol.Coordinator is int coord && result.Round > 0)
        {
            int clients = experiment.Protocol.NodeCount - 1;
            long up = Enumerable.Range(0, experiment.Protocol.NodeCount).Where(i => i != coord).Sum(sim.BytesSentBy);
            summary["uplink_bytes_per_client_per_round"] = Num((double)up / clients / result.Round);
            summary["downlink_bytes_per_client_per_round"] = Num((double)sim.BytesSentBy(coord) / clients / result.Round);
        }
        var st = sim.Statistics;
        summary["simulator"] = new Dictionary<string, object>
        {
            ["events"] = st.Events, ["jobs"] = st.JobsStarted, ["loop_seconds"] = Num(st.LoopSeconds), ["callback_seconds"] = Num(st.CallbackSeconds),
            ["job_wait_seconds"] = Num(st.JobWaitSeconds), ["evaluation_seconds"] = Num(st.EvaluationSeconds),
            ["aggregation_seconds"] = Num(st.AggregationSeconds), ["overhead_seconds"] = Num(st.OverheadSeconds),
            ["overhead_share"] = Num(st.LoopSeconds > 0 ? st.OverheadSeconds / st.LoopSeconds : 0),
        };
        File.WriteAllText(Path.Combine(directory, SummaryFile), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        Plots.AccuracyPlots(new[] { (experiment.Name, all) }, directory);
        return new RunOutcome(directory, result, summary);
    }

    private static void SaveCheckpoint(Simulator sim, string dir, long rows, long round)
    {
        string tmp = Path.Combine(dir, CheckpointFile + ".tmp");
        using (var f = File.Create(tmp)) sim.SaveCheckpoint(f);
        File.Move(tmp, Path.Combine(dir, CheckpointFile), overwrite: true);
        File.WriteAllText(Path.Combine(dir, CheckpointInfoFile), JsonSerializer.Serialize(new { rows, round }));
    }

    private static void TruncateCsv(string path, long rows)
    {
        var lines = File.ReadAllLines(path);
        File.WriteAllLines(path, lines.Take((int)Math.Min(lines.Length, rows + 1)));
    }

    private static void WritePartition(Experiment e, string path)
    {
        using var w = new StreamWriter(path);
        bool cls = e.Data.Train.IsClassification;
        int c = e.Data.Train.NumClasses;
        w.WriteLine("node,examples" + (cls ? "," + string.Join(",", Enumerable.Range(0, c).Select(k => $"class_{k}")) : ""));
        for (int i = 0; i < e.Partitions.Length; i++)
            w.WriteLine($"{i},{e.Partitions[i].Count}" + (cls ? "," + string.Join(",", e.Partitions[i].LabelHistogram()) : ""));
    }

    /// <summary>The summary of a finished (or interrupted) run.</summary>
    public static Dictionary<string, object> Summarize(Experiment e, SimulationResult r, MetricsTable rows)
    {
        double Last(string col) => rows.Rows.Count == 0 ? double.NaN : rows.Column(col)[^1];
        var acc = rows.Rows.Count == 0 ? Array.Empty<double>() : rows.Column("accuracy_mean").Where(v => !double.IsNaN(v)).ToArray();
        var s = new Dictionary<string, object>
        {
            ["name"] = e.Name,
            ["seed"] = e.Seed,
            ["protocol"] = e.Protocol.Description,
            ["stop_reason"] = r.Reason.ToString(),
            ["final_test_accuracy"] = Num(acc.Length > 0 ? acc[^1] : double.NaN),
            ["best_test_accuracy"] = Num(acc.Length > 0 ? acc.Max() : double.NaN),
            ["final_test_loss"] = Num(Last("loss_mean")),
            ["final_test_accuracy_min"] = Num(Last("accuracy_min")),
            ["rounds"] = Math.Max(r.Round, 0),
            ["virtual_seconds"] = Num(r.VirtualTime),
            ["wall_seconds"] = Num(r.WallSeconds),
            ["bytes_sent"] = r.BytesSent,
            ["messages_sent"] = r.MessagesSent,
            ["messages_lost"] = r.MessagesLost,
            ["failed_rounds"] = rows.Rows.Count == 0 ? 0 : (long)Last("failed_rounds"),
            ["nodes"] = e.Protocol.NodeCount,
            ["parameters"] = e.Learner.Layout.Length,
            ["partition"] = e.PartitionSummary.ToString(),
        };
        if (e.Protocol.HasAttackers)
        {
            s["final_test_accuracy_note"] = "mean over honest nodes";
            s["worst_honest_test_accuracy"] = Num(Last("accuracy_min"));
        }
        if (rows.Has("attack_success_rate")) s["attack_success_rate"] = Num(Last("attack_success_rate"));
        if (r.Round > 0) s["bytes_per_node_per_round"] = Num((double)r.BytesSent / e.Protocol.NodeCount / r.Round);
        return s;
    }

    private static object Num(double v) => double.IsFinite(v) ? Math.Round(v, 6) : (object)(double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");
}
