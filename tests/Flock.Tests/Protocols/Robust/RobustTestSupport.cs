using Flock.Aggregation;
using Flock.Data;
using Flock.Models;
using Flock.Protocols;

namespace Flock.Tests.Protocols.Robust;

/// <summary>An aggregator that records copies of every call's inputs, then delegates.</summary>
internal sealed class RecordingAggregator(IAggregator inner) : IAggregator
{
    public List<float[][]> Calls { get; } = new();

    public string Name => inner.Name;

    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output)
    {
        lock (Calls) Calls.Add(inputs.Select(x => x.ToArray()).ToArray());
        inner.Aggregate(inputs, weights, output);
    }
}

internal static class RobustTestSupport
{
    public const int Dim = 5, Classes = 3;

    /// <summary>A blobs task split into n equal client views, and a held-out test view.</summary>
    public static (DatasetView[] Parts, DatasetView Test) Task(int n, int perNode, ulong seed = 3)
    {
        var all = Runtime.SimTestSupport.Blobs(n * perNode + 300, Dim, Classes, seed);
        var parts = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range(i * perNode, perNode).ToArray())).ToArray();
        return (parts, new DatasetView(all, Enumerable.Range(n * perNode, 300).ToArray()));
    }

    public static double Accuracy(ILearner learner, ReadOnlySpan<float> model, DatasetView test) => learner.Evaluate(model, test).Accuracy;

    public static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) { double e = a[i] - b[i]; s += e * e; }
        return Math.Sqrt(s);
    }

    public static float[][] HonestModels(INodeBehavior[] nodes, IEnumerable<int> honest) =>
        honest.Select(i => ((DSgdNode)nodes[i]).Model.Parameters.ToArray()).ToArray();

    public static double MaxPairwiseDistance(float[][] models)
    {
        double m = 0;
        for (int i = 0; i < models.Length; i++)
            for (int j = i + 1; j < models.Length; j++) m = Math.Max(m, Distance(models[i], models[j]));
        return m;
    }
}
