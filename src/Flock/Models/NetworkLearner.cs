using System.Numerics.Tensors;
using System.Runtime.Intrinsics.X86;
using Flock.Data;
using Flock.Models.Engine;
using Flock.Models.Losses;
using Flock.Tensors;

namespace Flock.Models;

/// <summary>
/// An <see cref="ILearner"/> backed by a managed-engine <see cref="Network"/> and a loss.
/// Thread-safe: every thread gets its own <see cref="Workspace"/>.
/// </summary>
public sealed class NetworkLearner : ILearner
{
    private readonly ThreadLocal<Workspace> _workspaces = new(() => new Workspace());

    /// <summary>Creates a learner.</summary>
    /// <param name="network">The architecture.</param>
    /// <param name="loss">The loss (softmax cross-entropy for classifiers).</param>
    /// <param name="evaluationBatch">Batch size used by <see cref="Evaluate"/> (default 256).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="evaluationBatch"/> is not positive.</exception>
    public NetworkLearner(Network network, ILoss loss, int evaluationBatch = 256)
    {
        if (evaluationBatch <= 0) throw new ArgumentOutOfRangeException(nameof(evaluationBatch), evaluationBatch, "Must be positive.");
        Network = network;
        LossFunction = loss;
        EvaluationBatch = evaluationBatch;
    }

    /// <summary>The architecture.</summary>
    public Network Network { get; }

    /// <summary>The loss.</summary>
    public ILoss LossFunction { get; }

    /// <summary>Batch size used for evaluation.</summary>
    public int EvaluationBatch { get; }

    /// <inheritdoc />
    public ParameterLayout Layout => Network.Layout;

    /// <inheritdoc />
    public long FlopsPerExample => Network.FlopsPerExample;

    /// <summary>This thread's workspace.</summary>
    public Workspace CurrentWorkspace => _workspaces.Value!;

    /// <inheritdoc />
    public void InitializeParameters(Span<float> parameters, ulong seed) => Network.InitializeParameters(parameters, seed);

    private int OutputSize => Network.OutputShape.Size;

    private void CheckData(DatasetView data)
    {
        if (data.Dataset.FeatureSize != Network.InputShape.Size)
            throw new ArgumentException($"Dataset '{data.Dataset.Name}' has {data.Dataset.FeatureSize} features per example but the model expects {Network.InputShape} = {Network.InputShape.Size}.");
        if (data.Dataset.IsClassification && data.Dataset.NumClasses > OutputSize)
            throw new ArgumentException($"Dataset '{data.Dataset.Name}' has {data.Dataset.NumClasses} classes but the model outputs {OutputSize}.");
        if (!data.Dataset.IsClassification && data.Dataset.TargetDim != OutputSize)
            throw new ArgumentException($"Dataset '{data.Dataset.Name}' has {data.Dataset.TargetDim} targets per example but the model has {OutputSize} outputs.");
    }

    private Workspace Gather(DatasetView data, ReadOnlySpan<int> positions)
    {
        var ws = CurrentWorkspace;
        int b = positions.Length;
        ws.EnsureFor(Network, b, data.Dataset.TargetDim);
        Prefetch(data, positions);
        data.Gather(positions, ws.Input.AsSpan(0, b * Network.InputShape.Size), ws.Labels.AsSpan(0, b), ws.Targets.AsSpan(0, b * data.Dataset.TargetDim));
        return ws;
    }

    /// <summary>
    /// Asks the memory system for the feature rows of a batch before they are copied: the rows of a
    /// random batch are scattered over the whole dataset (tens of MB), so copying them one after
    /// another would wait for memory once per row; prefetching them all first overlaps those waits.
    /// </summary>
    private static unsafe void Prefetch(DatasetView data, ReadOnlySpan<int> positions)
    {
        if (!Sse.IsSupported) return;
        var features = data.Dataset.Features;
        int f = data.Dataset.FeatureSize;
        var indices = data.Indices;
        fixed (float* basePtr = features)
        {
            long lines = ((long)f * sizeof(float) + 63) / 64;
            foreach (int pos in positions)
            {
                if ((uint)pos >= (uint)indices.Length) continue;
                byte* row = (byte*)(basePtr + (long)indices[pos] * f);
                for (long l = 0; l < lines; l++) Sse.Prefetch0(row + l * 64);
            }
        }
    }

    /// <inheritdoc />
    public float LossAndGradient(ReadOnlySpan<float> parameters, DatasetView data, ReadOnlySpan<int> positions, Span<float> gradient, Rng? rng = null)
    {
        Layout.Validate(parameters);
        Layout.Validate(gradient, "gradient");
        CheckData(data);
        int b = positions.Length;
        var ws = Gather(data, positions);
        if (rng is null) { ws.FixedRandom.Reset(0); ws.Context.Random = ws.FixedRandom; }
        else ws.Context.Random = rng;
        var output = Network.Forward(parameters, ws, b, training: true);
        float loss = LossFunction.LossAndGradient(output, b, OutputSize, ws.Labels.AsSpan(0, b), ws.Targets.AsSpan(0, b * data.Dataset.TargetDim), ws.OutputGradient.AsSpan(0, b * OutputSize));
        Network.Backward(parameters, ws, b, gradient);
        return loss;
    }

    /// <inheritdoc />
    public float Loss(ReadOnlySpan<float> parameters, DatasetView data, ReadOnlySpan<int> positions)
    {
        Layout.Validate(parameters);
        CheckData(data);
        int b = positions.Length;
        var ws = Gather(data, positions);
        var output = Network.Forward(parameters, ws, b, training: false);
        return LossFunction.Loss(output, b, OutputSize, ws.Labels.AsSpan(0, b), ws.Targets.AsSpan(0, b * data.Dataset.TargetDim));
    }

    /// <inheritdoc />
    public EvaluationResult Evaluate(ReadOnlySpan<float> parameters, DatasetView data)
    {
        Layout.Validate(parameters);
        CheckData(data);
        double lossSum = 0;
        long correct = 0;
        int c = OutputSize;
        bool cls = data.Dataset.IsClassification;
        var positions = new int[Math.Min(EvaluationBatch, Math.Max(1, data.Count))];
        for (int start = 0; start < data.Count; start += EvaluationBatch)
        {
            int b = Math.Min(EvaluationBatch, data.Count - start);
            for (int i = 0; i < b; i++) positions[i] = start + i;
            var ws = Gather(data, positions.AsSpan(0, b));
            var output = Network.Forward(parameters, ws, b, training: false);
            lossSum += (double)LossFunction.Loss(output, b, c, ws.Labels.AsSpan(0, b), ws.Targets.AsSpan(0, b * data.Dataset.TargetDim)) * b;
            if (cls)
                for (int i = 0; i < b; i++)
                    if (TensorPrimitives.IndexOfMax(output.Slice(i * c, c)) == ws.Labels[i]) correct++;
        }
        int n = data.Count;
        return new EvaluationResult(n == 0 ? double.NaN : lossSum / n, cls && n > 0 ? (double)correct / n : double.NaN, n);
    }

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> parameters, DatasetView data, Span<int> predictions)
    {
        Layout.Validate(parameters);
        CheckData(data);
        if (predictions.Length < data.Count) throw new ArgumentException($"Prediction buffer of {predictions.Length} is shorter than the {data.Count} examples.", nameof(predictions));
        int c = OutputSize;
        var positions = new int[Math.Min(EvaluationBatch, Math.Max(1, data.Count))];
        for (int start = 0; start < data.Count; start += EvaluationBatch)
        {
            int b = Math.Min(EvaluationBatch, data.Count - start);
            for (int i = 0; i < b; i++) positions[i] = start + i;
            var ws = Gather(data, positions.AsSpan(0, b));
            var output = Network.Forward(parameters, ws, b, training: false);
            for (int i = 0; i < b; i++) predictions[start + i] = TensorPrimitives.IndexOfMax(output.Slice(i * c, c));
        }
    }
}
