using System.Globalization;
using System.Text;

namespace Flock.Runtime.Simulation;

/// <summary>
/// One evaluation row. Every column is a pure function of the scenario and the seed except
/// <see cref="WallSeconds"/>. Means, minima and maxima are over the evaluated nodes; NaN when
/// nothing was evaluated.
/// </summary>
/// <param name="Round">The global round (for time rows: the global round reached at that time, 0 if none).</param>
/// <param name="Tick">The time-tick index for time rows (time = Tick × period); −1 for round rows.</param>
/// <param name="VirtualTime">Virtual time in seconds.</param>
/// <param name="WallSeconds">Wall-clock seconds since the run started (summed over resumed segments).</param>
/// <param name="EvaluatedNodes">Number of node models evaluated.</param>
/// <param name="AccuracyMean">Mean test accuracy.</param>
/// <param name="AccuracyMin">Lowest test accuracy.</param>
/// <param name="AccuracyMax">Highest test accuracy.</param>
/// <param name="LossMean">Mean test loss.</param>
/// <param name="ConsensusDistance">Mean squared L2 distance of the evaluated models to their average (0 for one model).</param>
/// <param name="TrainLoss">Mean training loss of the training jobs finished since the previous row (NaN if none).</param>
/// <param name="BytesSent">Bytes sent so far (all nodes).</param>
/// <param name="MessagesSent">Messages sent so far.</param>
/// <param name="MessagesLost">Messages lost so far (dropped, failed link, receiver down).</param>
/// <param name="FailedRounds">Rounds reported as failed so far.</param>
/// <param name="Extra">Extra metric means, in <see cref="MetricsOptions.ExtraMetrics"/> order.</param>
public sealed record MetricsRow(
    long Round, long Tick, double VirtualTime, double WallSeconds, int EvaluatedNodes,
    double AccuracyMean, double AccuracyMin, double AccuracyMax, double LossMean, double ConsensusDistance,
    double TrainLoss, long BytesSent, long MessagesSent, long MessagesLost, long FailedRounds,
    IReadOnlyList<KeyValuePair<string, double>> Extra)
{
    /// <summary>The standard CSV columns (extra metrics follow, named after the metric).</summary>
    public static readonly IReadOnlyList<string> Columns = new[]
    {
        "round", "tick", "virtual_time", "wall_seconds", "evaluated_nodes", "accuracy_mean", "accuracy_min", "accuracy_max",
        "loss_mean", "consensus_distance", "train_loss", "bytes_sent", "messages_sent", "messages_lost", "failed_rounds",
    };

    /// <summary>CSV header line for rows with these extra metric names.</summary>
    public static string CsvHeader(IEnumerable<string>? extraNames = null) =>
        string.Join(",", extraNames is null ? Columns : Columns.Concat(extraNames));

    /// <summary>This row as a CSV line (invariant culture, round-trip precision).</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder(256);
        sb.Append(Round).Append(',').Append(Tick).Append(',');
        Num(sb, VirtualTime); Num(sb, WallSeconds);
        sb.Append(EvaluatedNodes).Append(',');
        Num(sb, AccuracyMean); Num(sb, AccuracyMin); Num(sb, AccuracyMax); Num(sb, LossMean); Num(sb, ConsensusDistance); Num(sb, TrainLoss);
        sb.Append(BytesSent).Append(',').Append(MessagesSent).Append(',').Append(MessagesLost).Append(',').Append(FailedRounds);
        foreach (var e in Extra) { sb.Append(','); sb.Append(e.Value.ToString("R", CultureInfo.InvariantCulture)); }
        return sb.ToString();
    }

    /// <summary>This row with <see cref="WallSeconds"/> set to 0 (for comparing runs).</summary>
    public MetricsRow WithoutWallTime() => this with { WallSeconds = 0 };

    /// <summary>True if every column except <see cref="WallSeconds"/> is equal (NaN equals NaN).</summary>
    public bool EqualsIgnoringWallTime(MetricsRow other) =>
        Round == other.Round && Tick == other.Tick && VirtualTime.Equals(other.VirtualTime) && EvaluatedNodes == other.EvaluatedNodes
        && AccuracyMean.Equals(other.AccuracyMean) && AccuracyMin.Equals(other.AccuracyMin) && AccuracyMax.Equals(other.AccuracyMax)
        && LossMean.Equals(other.LossMean) && ConsensusDistance.Equals(other.ConsensusDistance) && TrainLoss.Equals(other.TrainLoss)
        && BytesSent == other.BytesSent && MessagesSent == other.MessagesSent && MessagesLost == other.MessagesLost
        && FailedRounds == other.FailedRounds
        && Extra.Count == other.Extra.Count && Extra.Zip(other.Extra).All(p => p.First.Key == p.Second.Key && p.First.Value.Equals(p.Second.Value));

    private static void Num(StringBuilder sb, double v) => sb.Append(v.ToString("R", CultureInfo.InvariantCulture)).Append(',');
}
