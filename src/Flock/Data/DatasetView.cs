using Flock.Tensors;

namespace Flock.Data;

/// <summary>
/// A node's view of a shared <see cref="Dataset"/>: a list of example indices. Copying a view
/// copies only indices. Batches are gathered into caller-owned (workspace) buffers.
/// </summary>
public sealed class DatasetView
{
    /// <summary>Creates a view over <paramref name="indices"/> of <paramref name="dataset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the dataset.</exception>
    public DatasetView(Dataset dataset, int[] indices)
    {
        Dataset = dataset;
        foreach (int i in indices)
            if ((uint)i >= (uint)dataset.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"Index outside dataset '{dataset.Name}' of {dataset.Count} examples.");
        Indices = indices;
    }

    /// <summary>The underlying shared dataset.</summary>
    public Dataset Dataset { get; }

    /// <summary>The example indices this view sees.</summary>
    public int[] Indices { get; }

    /// <summary>Number of examples in the view.</summary>
    public int Count => Indices.Length;

    /// <summary>
    /// Copies the examples at view positions <paramref name="positions"/> into <paramref name="features"/>
    /// (positions.Length × FeatureSize) and their labels or targets into <paramref name="labels"/> /
    /// <paramref name="targets"/> (whichever the dataset has; the other may be empty).
    /// </summary>
    public void Gather(ReadOnlySpan<int> positions, Span<float> features, Span<int> labels, Span<float> targets)
    {
        var ds = Dataset;
        int f = ds.FeatureSize;
        for (int b = 0; b < positions.Length; b++)
        {
            int idx = Indices[positions[b]];
            ds.Features.AsSpan(idx * f, f).CopyTo(features.Slice(b * f, f));
            if (ds.Labels is not null) labels[b] = ds.Labels[idx];
            else ds.Targets.AsSpan(idx * ds.TargetDim, ds.TargetDim).CopyTo(targets.Slice(b * ds.TargetDim, ds.TargetDim));
        }
    }

    /// <summary>Per-class example counts (classification only).</summary>
    public int[] LabelHistogram()
    {
        if (Dataset.Labels is null) throw new InvalidOperationException($"Dataset '{Dataset.Name}' has no labels.");
        var h = new int[Dataset.NumClasses];
        foreach (int i in Indices) h[Dataset.Labels[i]]++;
        return h;
    }
}
