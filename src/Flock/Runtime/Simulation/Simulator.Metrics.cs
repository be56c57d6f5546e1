using System.Diagnostics;
using Flock.Models;

namespace Flock.Runtime.Simulation;

public sealed partial class Simulator
{
    private readonly Dictionary<long, List<PendingEvaluation>> _roundEvaluations = new();
    private int _upReporters;
    private int _upBehind;

    /// <summary>A model to evaluate for a row, with its evaluation (running or done).</summary>
    private sealed class PendingEvaluation(int node, ReadOnlyMemory<float> model)
    {
        public int Node { get; } = node;
        public ReadOnlyMemory<float> Model { get; } = model;
        public Task<NodeEvaluation>? Task;
        public NodeEvaluation? Result;
    }

    private readonly record struct NodeEvaluation(EvaluationResult Result, double[] Extra);

    private bool IsEvaluationRound(long round)
    {
        int every = _options.Metrics.EveryRounds;
        return (every > 0 && round % every == 0) || (_options.MaxRounds > 0 && round == _options.MaxRounds);
    }

    private void RoundTrackerUp(NodeHost node)
    {
        if (!node.IsReporter || node.Tracked) return;
        node.Tracked = true;
        _upReporters++;
        if (node.LastReported < Round + 1) _upBehind++;
    }

    private void RoundTrackerDown(NodeHost node)
    {
        if (!node.IsReporter || !node.Tracked) return;
        node.Tracked = false;
        _upReporters--;
        if (node.LastReported < Round + 1) _upBehind--;
        AdvanceRounds();
    }

    private void OnRoundReported(NodeHost node, long round)
    {
        long previous = node.LastReported;
        node.LastReported = round;
        if (round > Round && node.IsEvaluated && IsEvaluationRound(round))
        {
            var model = _behaviors[node.Id].EvaluationModel;
            if (!model.IsEmpty)
            {
                var pending = new PendingEvaluation(node.Id, model.ToArray());
                pending.Task = StartEvaluation(pending.Model);
                if (!_roundEvaluations.TryGetValue(round, out var list)) _roundEvaluations[round] = list = new List<PendingEvaluation>();
                list.Add(pending);
            }
        }
        long target = Round + 1;
        if (node.Tracked && previous < target && round >= target) _upBehind--;
        AdvanceRounds();
    }

    private void AdvanceRounds()
    {
        while (!_stopRequested && _upReporters > 0 && _upBehind == 0)
        {
            long r = ++Round;
            FinalizeRound(r);
            if (_options.MaxRounds > 0 && r >= _options.MaxRounds) _stopRequested = true;
            RecountBehind();
        }
    }

    private void RecountBehind()
    {
        long target = Round + 1;
        int behind = 0, up = 0;
        foreach (int i in _reporters)
        {
            var n = _nodes[i];
            if (!n.Tracked) continue;
            up++;
            if (n.LastReported < target) behind++;
        }
        _upReporters = up;
        _upBehind = behind;
    }

    private void FinalizeRound(long round)
    {
        _roundEvaluations.Remove(round, out var list);
        MetricsRow? row = null;
        if (IsEvaluationRound(round)) row = RecordRow(round, -1, list ?? new List<PendingEvaluation>());
        _pendingProgress.Add(new SimulationProgress(round, _options.MaxRounds, _now, _options.MaxTime, WallSeconds, row));
    }

    private void EvaluateTick(long tick)
    {
        var list = new List<PendingEvaluation>();
        foreach (int i in _evaluated)
        {
            var node = _nodes[i];
            if (!node.Up) continue;
            ReadOnlyMemory<float> model;
            if (node.BusyEvent is { } busy)
            {
                if (node.PreJobSnapshot is not null) model = node.PreJobSnapshot;
                else
                {
                    // Not expected (a snapshot is taken when a job spans a tick); fall back to the job's result.
                    WaitJob(busy);
                    model = busy.Job?.Model.RawParameters ?? _behaviors[i].EvaluationModel;
                }
            }
            else model = _behaviors[i].EvaluationModel;
            if (model.IsEmpty) continue;
            var pending = new PendingEvaluation(i, model);
            pending.Task = StartEvaluation(model);
            list.Add(pending);
        }
        var row = RecordRow(Math.Max(Round, 0), tick, list);
        _pendingProgress.Add(new SimulationProgress(Math.Max(Round, 0), _options.MaxRounds, _now, _options.MaxTime, WallSeconds, row));
    }

    private Task<NodeEvaluation>? StartEvaluation(ReadOnlyMemory<float> model)
    {
        var m = _options.Metrics;
        if (m.Learner is null && m.ExtraMetrics.Count == 0) return null;
        return Task.Run(() => EvaluateModel(model));
    }

    private NodeEvaluation EvaluateModel(ReadOnlyMemory<float> model)
    {
        var m = _options.Metrics;
        var result = m.Learner is { } learner ? learner.Evaluate(model.Span, m.TestSet!) : new EvaluationResult(double.NaN, double.NaN, 0);
        var extra = new double[m.ExtraMetrics.Count];
        for (int i = 0; i < extra.Length; i++) extra[i] = m.ExtraMetrics[i].Evaluate(model.Span);
        return new NodeEvaluation(result, extra);
    }

    private void WaitRoundEvaluations()
    {
        foreach (var list in _roundEvaluations.Values)
            foreach (var p in list) Complete(p);
    }

    private void Complete(PendingEvaluation p)
    {
        if (p.Result is not null || p.Task is null) return;
        long t0 = Stopwatch.GetTimestamp();
        try { p.Result = p.Task.GetAwaiter().GetResult(); }
        finally { _evalTicks += Stopwatch.GetTimestamp() - t0; }
        p.Task = null;
    }

    private MetricsRow RecordRow(long round, long tick, List<PendingEvaluation> evaluations)
    {
        evaluations.Sort((a, b) => a.Node.CompareTo(b.Node));
        foreach (var p in evaluations) Complete(p);
        var metrics = _options.Metrics;
        int m = evaluations.Count;
        double accSum = 0, accMin = double.NaN, accMax = double.NaN, lossSum = 0;
        var extra = new double[metrics.ExtraMetrics.Count];
        bool evaluated = m > 0 && (metrics.Learner is not null || extra.Length > 0);
        if (evaluated)
        {
            accMin = double.PositiveInfinity;
            accMax = double.NegativeInfinity;
            foreach (var p in evaluations)
            {
                var r = p.Result!.Value;
                accSum += r.Result.Accuracy;
                lossSum += r.Result.Loss;
                accMin = Math.Min(accMin, r.Result.Accuracy);
                accMax = Math.Max(accMax, r.Result.Accuracy);
                for (int j = 0; j < extra.Length; j++) extra[j] += r.Extra[j];
            }
        }
        if (metrics.Learner is null) accMin = accMax = double.NaN;
        long t0 = Stopwatch.GetTimestamp();
        double consensus = ModelStatistics.ConsensusDistance(evaluations.Select(p => p.Model).ToArray());
        _evalTicks += Stopwatch.GetTimestamp() - t0;
        var extras = new KeyValuePair<string, double>[extra.Length];
        for (int j = 0; j < extra.Length; j++) extras[j] = new(metrics.ExtraMetrics[j].Name, m > 0 ? extra[j] / m : double.NaN);
        bool hasLearner = metrics.Learner is not null && m > 0;
        var row = new MetricsRow(
            round, tick, _now, WallSeconds, m,
            hasLearner ? accSum / m : double.NaN, accMin, accMax, hasLearner ? lossSum / m : double.NaN, consensus,
            _trainLossCount > 0 ? _trainLossSum / _trainLossCount : double.NaN,
            _bytesSent, _messagesSent, _messagesLost, _failedRounds, extras);
        _trainLossSum = 0;
        _trainLossCount = 0;
        _rowsRecorded++;
        _pendingRows.Add(row);
        return row;
    }
}
