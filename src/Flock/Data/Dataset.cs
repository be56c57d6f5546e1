using Flock.Tensors;

namespace Flock.Data;

/// <summary>
/// An in-memory dataset shared read-only by every node: features as one flat row-major array
/// (<see cref="Count"/> × <see cref="ExampleShape"/>.Size), and either class labels
/// (classification) or real-valued targets (regression). Nodes see it through a
/// <see cref="DatasetView"/> (an index list), never a copy.
/// </summary>
public sealed class Dataset
{
    /// <summary>Creates a classification dataset.</summary>
    /// <exception cref="ArgumentException">Sizes disagree or a label is outside [0, numClasses).</exception>
    public static Dataset Classification(string name, float[] features, TensorShape exampleShape, int[] labels, int numClasses)
    {
        if (numClasses < 2) throw new ArgumentException($"Invalid number of classes: {numClasses}; need at least 2.", nameof(numClasses));
        var ds = new Dataset(name, features, exampleShape, labels.Length, labels, null, 0, numClasses);
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)numClasses)
                throw new ArgumentException($"Label {labels[i]} of example {i} in '{name}' is outside [0, {numClasses}).", nameof(labels));
        return ds;
    }

    /// <summary>Creates a regression dataset with <paramref name="targetDim"/> real targets per example.</summary>
    /// <exception cref="ArgumentException">Sizes disagree.</exception>
    public static Dataset Regression(string name, float[] features, TensorShape exampleShape, float[] targets, int targetDim)
    {
        if (targetDim <= 0) throw new ArgumentException($"Invalid target dimension: {targetDim}.", nameof(targetDim));
        if (targets.Length % targetDim != 0) throw new ArgumentException($"Target array length {targets.Length} is not a multiple of {targetDim}.", nameof(targets));
        return new Dataset(name, features, exampleShape, targets.Length / targetDim, null, targets, targetDim, 0);
    }

    private Dataset(string name, float[] features, TensorShape exampleShape, int count, int[]? labels, float[]? targets, int targetDim, int numClasses)
    {
        Name = name;
        if ((long)count * exampleShape.Size != features.Length)
            throw new ArgumentException($"Dataset '{name}': {features.Length} feature values do not make {count} examples of shape {exampleShape}.");
        Features = features;
        ExampleShape = exampleShape;
        Count = count;
        Labels = labels;
        Targets = targets;
        TargetDim = targetDim;
        NumClasses = numClasses;
    }

    /// <summary>A human-readable name (e.g. <c>fashion-mnist/train</c>).</summary>
    public string Name { get; }

    /// <summary>All features, row-major, one example after another.</summary>
    public float[] Features { get; }

    /// <summary>The shape of one example.</summary>
    public TensorShape ExampleShape { get; }

    /// <summary>Number of features per example.</summary>
    public int FeatureSize => ExampleShape.Size;

    /// <summary>Number of examples.</summary>
    public int Count { get; }

    /// <summary>Class labels, or null for regression.</summary>
    public int[]? Labels { get; }

    /// <summary>Regression targets (Count × TargetDim), or null for classification.</summary>
    public float[]? Targets { get; }

    /// <summary>Targets per example for regression; 0 for classification.</summary>
    public int TargetDim { get; }

    /// <summary>Number of classes for classification; 0 for regression.</summary>
    public int NumClasses { get; }

    /// <summary>True for a classification dataset.</summary>
    public bool IsClassification => Labels is not null;

    /// <summary>Example <paramref name="i"/>'s features.</summary>
    public ReadOnlySpan<float> Example(int i) => Features.AsSpan(i * FeatureSize, FeatureSize);

    /// <summary>A view of every example.</summary>
    public DatasetView All() => new(this, Enumerable.Range(0, Count).ToArray());
}
