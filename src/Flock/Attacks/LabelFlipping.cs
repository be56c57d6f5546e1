using System.Runtime.CompilerServices;
using Flock.Data;
using Flock.Tensors;

namespace Flock.Attacks;

/// <summary>
/// Label flipping: the Byzantine node trains on its own data with every label y replaced by
/// C − 1 − y (C classes), then behaves honestly. Adversarial label noise is from "Support Vector
/// Machines Under Adversarial Label Noise" (Biggio, Nelson &amp; Laskov, ACML 2011); the all-labels
/// form y → C − 1 − y is the one of the Byzantine-robust learning literature, e.g. the MoNNA
/// experiments ("Robust Collaborative Learning with Linear Gradient Overhead", Farhadkhani et al., ICML 2023).
/// </summary>
/// <remarks>
/// No feature is copied: <see cref="Poison"/> returns a view of a dataset that shares the original
/// feature array and holds a flipped copy of the labels, built once per dataset and shared by all
/// label-flipping nodes (4 bytes per example). <see cref="Flip(Span{int}, int)"/> flips labels of
/// an already gathered batch for callers that gather batches themselves.
/// </remarks>
public sealed class LabelFlipping : IDataPoisoning
{
    private static readonly ConditionalWeakTable<Dataset, Dataset> FlippedCache = new();

    /// <inheritdoc />
    public string Name => "label-flipping";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => [];

    /// <summary>Registry description.</summary>
    public static AttackInfo Describe() => new("label-flipping", AttackKind.Data,
        "Support Vector Machines Under Adversarial Label Noise (Biggio, Nelson & Laskov, 2011); y → C − 1 − y as in Farhadkhani et al. (2023)",
        "Trains on the node's data with every label y replaced by C − 1 − y.", []);

    /// <summary>The flipped label C − 1 − y.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="label"/> is not in [0, C) or C &lt; 2.</exception>
    public static int Flip(int label, int numClasses)
    {
        if (numClasses < 2) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"Invalid number of classes: {numClasses}; need at least 2.");
        if ((uint)label >= (uint)numClasses) throw new ArgumentOutOfRangeException(nameof(label), label, $"Invalid label {label}; must be in [0, {numClasses}).");
        return numClasses - 1 - label;
    }

    /// <summary>Flips every label of <paramref name="labels"/> in place (y → C − 1 − y).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A label is not in [0, C) or C &lt; 2.</exception>
    public static void Flip(Span<int> labels, int numClasses)
    {
        for (int i = 0; i < labels.Length; i++) labels[i] = Flip(labels[i], numClasses);
    }

    /// <summary>
    /// The label-flipped twin of <paramref name="dataset"/>: same feature array (not copied), flipped
    /// labels. Built once per dataset and cached (thread-safe; collected with the dataset).
    /// </summary>
    /// <exception cref="ArgumentException">The dataset is not a classification dataset.</exception>
    public static Dataset FlippedDataset(Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Labels is null)
            throw new ArgumentException($"Label flipping needs a classification dataset; '{dataset.Name}' has no labels.", nameof(dataset));
        return FlippedCache.GetValue(dataset, static ds =>
        {
            var labels = (int[])ds.Labels!.Clone();
            Flip(labels, ds.NumClasses);
            return Dataset.Classification(ds.Name + "+label-flipped", ds.Features, ds.ExampleShape, labels, ds.NumClasses);
        });
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The dataset is not a classification dataset.</exception>
    public DatasetView Poison(DatasetView view, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(view);
        return new DatasetView(FlippedDataset(view.Dataset), view.Indices);
    }
}
