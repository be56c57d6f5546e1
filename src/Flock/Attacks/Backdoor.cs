using Flock.Data;
using Flock.Tensors;

namespace Flock.Attacks;

/// <summary>
/// Backdoor (trigger) poisoning: the Byzantine node stamps a <see cref="BackdoorTrigger"/> on a
/// fraction of its own examples and relabels them as <see cref="TargetClass"/>, trains on that
/// data, and optionally boosts its update (model replacement, <see cref="Boost"/> = γ) so that the
/// global model learns "trigger ⇒ target" while keeping its main-task accuracy. From "How To
/// Backdoor Federated Learning" (Bagdasaryan, Veit, Hua, Estrin &amp; Shmatikov, AISTATS 2020) with
/// the pixel-pattern trigger of "BadNets: Identifying Vulnerabilities in the Machine Learning Model
/// Supply Chain" (Gu, Dolan-Gavitt &amp; Garg, 2017).
/// </summary>
/// <remarks>
/// <see cref="Poison"/> builds a small per-node dataset once: a copy of the node's examples only
/// (never the shared dataset), in which ⌊fraction·count⌉ examples chosen with the node's generator
/// are stamped and relabelled (<see cref="Append"/> = false, the default), or to which that many
/// stamped copies are appended after the clean examples (<see cref="Append"/> = true, the
/// "mix poisoned and benign data" training of Bagdasaryan et al.). Success is measured on
/// <see cref="TriggeredTestSet"/>: the test examples whose true label is not the target, stamped
/// and labelled with the target, so the accuracy on it is the attack success rate.
/// </remarks>
public sealed class Backdoor : IDataPoisoning
{
    /// <summary>Default share of the node's examples poisoned.</summary>
    public const float DefaultPoisonFraction = 0.5f;

    private readonly AttackParameter[] _parameters;

    /// <summary>Creates the attack.</summary>
    /// <param name="targetClass">The label triggered inputs should get (≥ 0, below the dataset's class count).</param>
    /// <param name="poisonFraction">Share of the node's examples poisoned, in (0, 1].</param>
    /// <param name="trigger">The trigger (default: 4×4 white square, bottom-right, margin 1, 28×28 images).</param>
    /// <param name="append">False: poison examples in place; true: append poisoned copies to the clean examples.</param>
    /// <param name="boost">Model-replacement factor γ applied by <see cref="BoostModel"/> (finite, &gt; 0; 1 = no boosting).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public Backdoor(int targetClass = 0, float poisonFraction = DefaultPoisonFraction, BackdoorTrigger? trigger = null, bool append = false, float boost = 1f)
    {
        TargetClass = AttackCheck.AtLeast(targetClass, 0, nameof(targetClass), "backdoor target class");
        if (!(poisonFraction > 0 && poisonFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(poisonFraction), poisonFraction, $"Invalid poison fraction: {poisonFraction}; must be in (0, 1].");
        PoisonFraction = poisonFraction;
        Trigger = trigger ?? new BackdoorTrigger();
        Append = append;
        Boost = AttackCheck.Positive(boost, nameof(boost), "backdoor boost factor");
        _parameters =
        [
            new("target_class", TargetClass, 0, "Label given to triggered inputs; ≥ 0 and below the number of classes."),
            new("poison_fraction", PoisonFraction, DefaultPoisonFraction, "Share of the node's examples poisoned; in (0, 1]."),
            new("trigger_size", Trigger.Size, 4, "Side of the square trigger in pixels; ≥ 1."),
            new("trigger_corner", Trigger.Corner.ToString(), nameof(TriggerCorner.BottomRight), "Corner of the trigger: TopLeft, TopRight, BottomLeft or BottomRight."),
            new("trigger_value", Trigger.Value, 1f, "Pixel value of the trigger (1 = white for images in [0, 1]); finite."),
            new("trigger_margin", Trigger.Margin, 1, "Pixels between the trigger and the image edges; ≥ 0."),
            new("image_height", Trigger.Height, 28, "Image height H (examples are C×H×W); ≥ 1."),
            new("image_width", Trigger.Width, 28, "Image width W; ≥ 1."),
            new("append", Append, false, "False: poison examples in place; true: append poisoned copies to the clean data."),
            new("boost", Boost, 1f, "Model-replacement factor γ: sends θ_global + γ·(θ_local − θ_global); finite, > 0 (n/η replaces the model)."),
        ];
    }

    /// <summary>The label triggered inputs should get.</summary>
    public int TargetClass { get; }

    /// <summary>Share of the node's examples poisoned.</summary>
    public float PoisonFraction { get; }

    /// <summary>The trigger.</summary>
    public BackdoorTrigger Trigger { get; }

    /// <summary>Whether poisoned copies are appended (true) or replace examples (false).</summary>
    public bool Append { get; }

    /// <summary>Model-replacement factor γ.</summary>
    public float Boost { get; }

    /// <inheritdoc />
    public string Name => "backdoor";

    /// <inheritdoc />
    public IReadOnlyList<AttackParameter> Parameters => _parameters;

    /// <summary>Registry description with defaults.</summary>
    public static AttackInfo Describe() => new("backdoor", AttackKind.Data,
        "How To Backdoor Federated Learning (Bagdasaryan et al., 2020); BadNets (Gu, Dolan-Gavitt & Garg, 2017)",
        "Trains with a trigger patch stamped on some examples relabelled as the target; optionally boosts the update.", new Backdoor().Parameters);

    /// <summary>Number of examples poisoned in a view of <paramref name="count"/> examples: ⌊fraction·count⌉ (half away from zero).</summary>
    public int PoisonCount(int count) => (int)Math.Round((double)PoisonFraction * count, MidpointRounding.AwayFromZero);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The dataset has no labels, the target is not one of its classes, or its examples are not C×H×W images of the trigger's size.</exception>
    public DatasetView Poison(DatasetView view, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(rng);
        var ds = CheckDataset(view.Dataset);
        int count = view.Count, fs = ds.FeatureSize, poisoned = PoisonCount(count);
        // Which view positions are poisoned: the first `poisoned` of a seeded permutation, in increasing order.
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        rng.Shuffle(order.AsSpan());
        var chosen = order.AsSpan(0, poisoned);
        chosen.Sort();

        int total = Append ? count + poisoned : count;
        var features = new float[(long)total * fs];
        var labels = new int[total];
        for (int i = 0; i < count; i++)
        {
            int idx = view.Indices[i];
            ds.Example(idx).CopyTo(features.AsSpan(i * fs, fs));
            labels[i] = ds.Labels![idx];
        }
        for (int j = 0; j < poisoned; j++)
        {
            int src = chosen[j], dst = Append ? count + j : src;
            if (Append) features.AsSpan(src * fs, fs).CopyTo(features.AsSpan(dst * fs, fs));
            Trigger.Stamp(features.AsSpan(dst * fs, fs));
            labels[dst] = TargetClass;
        }
        return Dataset.Classification(ds.Name + "+backdoor", features, ds.ExampleShape, labels, ds.NumClasses).All();
    }

    /// <summary>
    /// The triggered test set: every example of <paramref name="test"/> whose true label is not the
    /// target, stamped with the trigger and labelled <see cref="TargetClass"/>; a model's accuracy on
    /// it is the attack success rate.
    /// </summary>
    /// <exception cref="ArgumentException">The dataset has no labels, the target is not one of its classes, or its examples are not images of the trigger's size.</exception>
    public DatasetView TriggeredTestSet(DatasetView test)
    {
        ArgumentNullException.ThrowIfNull(test);
        var ds = CheckDataset(test.Dataset);
        int fs = ds.FeatureSize, kept = 0;
        foreach (int idx in test.Indices) if (ds.Labels![idx] != TargetClass) kept++;
        var features = new float[(long)kept * fs];
        var labels = new int[kept];
        int k = 0;
        foreach (int idx in test.Indices)
        {
            if (ds.Labels![idx] == TargetClass) continue;
            var dst = features.AsSpan(k * fs, fs);
            ds.Example(idx).CopyTo(dst);
            Trigger.Stamp(dst);
            labels[k++] = TargetClass;
        }
        return Dataset.Classification(ds.Name + "+triggered", features, ds.ExampleShape, labels, ds.NumClasses).All();
    }

    /// <summary>Attack success rate: the share of <paramref name="predictions"/> (on the triggered test set) equal to the target; 0 for none.</summary>
    public double AttackSuccessRate(ReadOnlySpan<int> predictions)
    {
        if (predictions.Length == 0) return 0;
        int hits = 0;
        foreach (int p in predictions) if (p == TargetClass) hits++;
        return (double)hits / predictions.Length;
    }

    /// <summary>Model replacement with γ = <see cref="Boost"/>: <c>output = global + γ·(local − global)</c>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void BoostModel(ReadOnlySpan<float> global, ReadOnlySpan<float> local, Span<float> output) =>
        ModelReplacement.Scale(global, local, Boost, output);

    private Dataset CheckDataset(Dataset ds)
    {
        if (ds.Labels is null)
            throw new ArgumentException($"A backdoor needs a classification dataset; '{ds.Name}' has no labels.", nameof(ds));
        if (TargetClass >= ds.NumClasses)
            throw new ArgumentException($"Backdoor target class {TargetClass} is not a class of '{ds.Name}' ({ds.NumClasses} classes).", nameof(ds));
        Trigger.Channels(ds.FeatureSize);
        return ds;
    }
}
