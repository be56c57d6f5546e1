using Flock.Data;
using Flock.Models;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;

namespace Flock.Tests.Runtime;

/// <summary>Shared helpers for simulator and protocol tests.</summary>
public static class SimTestSupport
{
    /// <summary>Gaussian blobs: class centres ~ N(0, 3²) per coordinate, points = centre + N(0, 1); labels cycle 0..c−1.</summary>
    public static Dataset Blobs(int count, int dim, int classes, ulong seed)
    {
        var rng = new Rng(seed);
        var centres = new float[classes * dim];
        rng.FillGaussian(centres, 0, 3);
        var x = new float[count * dim];
        var y = new int[count];
        for (int i = 0; i < count; i++)
        {
            y[i] = i % classes;
            for (int j = 0; j < dim; j++) x[i * dim + j] = centres[y[i] * dim + j] + (float)rng.NextGaussian();
        }
        return Dataset.Classification("blobs", x, new TensorShape(dim), y, classes);
    }

    /// <summary>Splits a dataset into <paramref name="parts"/> contiguous equal views (examples are already mixed by label).</summary>
    public static DatasetView[] Split(Dataset data, int parts)
    {
        int per = data.Count / parts;
        return Enumerable.Range(0, parts).Select(p => new DatasetView(data, Enumerable.Range(p * per, per).ToArray())).ToArray();
    }

    /// <summary>A tiny MLP classifier.</summary>
    public static NetworkLearner TinyMlp(int dim, int classes, int hidden = 8) => Mlp.CreateClassifier(new TensorShape(dim), new[] { hidden }, classes);

    /// <summary>
    /// Reference local training written independently of <see cref="TrainingJob"/>: K steps of the
    /// optimizer with minibatches from <c>MinibatchSampler(Rng.Derive(seed, node, round, "batches"))</c>.
    /// </summary>
    public static void LocalTrain(ILearner learner, IOptimizer optimizer, float[] parameters, float[] state, ref long step,
        DatasetView data, int steps, int batch, ulong seed, int node, long round)
    {
        var sampler = new MinibatchSampler(data.Count, Rng.Derive(seed, (ulong)node, (ulong)round, "batches"));
        var dropout = Rng.Derive(seed, (ulong)node, (ulong)round, "dropout");
        var g = new float[parameters.Length];
        var pos = new int[batch];
        for (int s = 0; s < steps; s++)
        {
            sampler.Next(pos);
            learner.LossAndGradient(parameters, data, pos, g, dropout);
            optimizer.Step(parameters, g, state, ++step);
        }
    }

    /// <summary>Runs a simulator and returns its rows.</summary>
    public static List<MetricsRow> RunRows(Simulator sim, CancellationToken ct = default)
    {
        var rows = new List<MetricsRow>();
        sim.RowRecorded += rows.Add;
        sim.Run(ct);
        return rows;
    }

    /// <summary>Asserts two row lists are equal except for wall time.</summary>
    public static void AssertRowsEqual(IReadOnlyList<MetricsRow> expected, IReadOnlyList<MetricsRow> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(expected[i].EqualsIgnoringWallTime(actual[i]), $"row {i} differs:\n{expected[i].ToCsv()}\n{actual[i].ToCsv()}");
    }

    /// <summary>Complete graph with self weight <paramref name="self"/> and (1 − self)/(n − 1) to every other node.</summary>
    public static (int[][] Neighbors, double[][] Weights, double[] Self) Complete(int n, double self)
    {
        var nb = new int[n][];
        var w = new double[n][];
        for (int i = 0; i < n; i++)
        {
            nb[i] = Enumerable.Range(0, n).Where(j => j != i).ToArray();
            w[i] = Enumerable.Repeat((1 - self) / (n - 1), n - 1).ToArray();
        }
        return (nb, w, Enumerable.Repeat(self, n).ToArray());
    }

    /// <summary>Ring where each node links to <paramref name="k"/> nodes on each side, uniform weights 1/(2k+1).</summary>
    public static (int[][] Neighbors, double[][] Weights, double[] Self) Ring(int n, int k)
    {
        var nb = new int[n][];
        var w = new double[n][];
        for (int i = 0; i < n; i++)
        {
            nb[i] = Enumerable.Range(1, k).SelectMany(d => new[] { (i + d) % n, (i - d + n) % n }).Distinct().ToArray();
            w[i] = Enumerable.Repeat(1.0 / (nb[i].Length + 1), nb[i].Length).ToArray();
        }
        return (nb, w, nb.Select(a => 1.0 / (a.Length + 1)).ToArray());
    }
}

/// <summary>A scripted behaviour that records what happens to it, for simulator semantics tests.</summary>
public sealed class ProbeBehavior : INodeBehavior
{
    /// <summary>Log lines "time:what".</summary>
    public List<string> Log { get; } = new();

    /// <summary>Run at start.</summary>
    public Action<INodeContext>? Start { get; init; }

    /// <summary>Run on each timer.</summary>
    public Action<INodeContext, TimerTag>? Timer { get; init; }

    /// <summary>Run on each message.</summary>
    public Action<INodeContext, int, Message>? Received { get; init; }

    /// <summary>Run on recovery.</summary>
    public Action<INodeContext>? Recovered { get; init; }

    /// <summary>Run when training finishes.</summary>
    public Action<INodeContext, TrainingResult>? Trained { get; init; }

    /// <summary>A model to expose for evaluation.</summary>
    public float[]? Model { get; init; }

    /// <inheritdoc />
    public bool ReportsRounds { get; init; }

    /// <inheritdoc />
    public ReadOnlyMemory<float> EvaluationModel => Model ?? ReadOnlyMemory<float>.Empty;

    private static string T(INodeContext c) => c.Now.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public void OnStart(INodeContext context) { Log.Add($"{T(context)}:start"); Start?.Invoke(context); }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message) { Log.Add($"{T(context)}:msg {message.Kind} from {from}"); Received?.Invoke(context, from, message); }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer) { Log.Add($"{T(context)}:timer {timer.Name}"); Timer?.Invoke(context, timer); }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result) { Log.Add($"{T(context)}:trained {result.Round}"); Trained?.Invoke(context, result); }

    /// <inheritdoc />
    public void OnRecover(INodeContext context) { Log.Add($"{T(context)}:recover"); Recovered?.Invoke(context); }

    /// <inheritdoc />
    public void WriteState(StateWriter writer) { }

    /// <inheritdoc />
    public void ReadState(StateReader reader) { }
}
