using Flock.Attacks;
using Flock.Data;
using Flock.Tensors;
using static Flock.Tests.Attacks.AttackTestSupport;

namespace Flock.Tests.Attacks;

public sealed class DataPoisoningTests
{
    /// <summary>40 images 28×28 with pixels in [0, 0.5), labels i mod 10.</summary>
    private static Dataset Images(int channels = 1, int count = 40)
    {
        var rng = new Rng(5);
        var shape = channels == 1 ? new TensorShape(784) : new TensorShape(channels, 28, 28);
        var features = new float[count * shape.Size];
        rng.FillUniform(features, 0f, 0.5f);
        var labels = Enumerable.Range(0, count).Select(i => i % 10).ToArray();
        return Dataset.Classification("synthetic-images", features, shape, labels, 10);
    }

    [Fact]
    public void Label_flip_mapping()
    {
        Assert.Equal(9, LabelFlipping.Flip(0, 10));
        Assert.Equal(0, LabelFlipping.Flip(9, 10));
        Assert.Equal(6, LabelFlipping.Flip(3, 10));
        Assert.Equal(1, LabelFlipping.Flip(0, 2));
        int[] batch = [0, 1, 2, 7, 9];
        LabelFlipping.Flip(batch, 10);
        Assert.Equal(new[] { 9, 8, 7, 2, 0 }, batch);
        Throws<ArgumentOutOfRangeException>(() => LabelFlipping.Flip(10, 10), "Invalid label 10; must be in [0, 10).");
    }

    [Fact]
    public void Label_flipped_view_shares_features_and_flips_labels()
    {
        var ds = Images();
        var view = new DatasetView(ds, [3, 17, 22, 39]);
        var poisoned = new LabelFlipping().Poison(view, new Rng(1));
        Assert.Same(ds.Features, poisoned.Dataset.Features); // never copied
        Assert.Equal(view.Indices, poisoned.Indices);
        Assert.Same(poisoned.Dataset, new LabelFlipping().Poison(new DatasetView(ds, [0]), new Rng(2)).Dataset); // built once
        var features = new float[4 * 784];
        var labels = new int[4];
        poisoned.Gather([0, 1, 2, 3], features, labels, []);
        Assert.Equal(new[] { 9 - 3, 9 - 7, 9 - 2, 9 - 9 }, labels);
        Assert.Equal(ds.Example(17).ToArray(), features.AsSpan(784, 784).ToArray());
        var regression = Dataset.Regression("r", new float[4], new TensorShape(2), new float[2], 1);
        Throws<ArgumentException>(() => new LabelFlipping().Poison(regression.All(), new Rng(1)), "Label flipping needs a classification dataset; 'r' has no labels.");
    }

    [Fact]
    public void Trigger_pixels()
    {
        var image = new float[784];
        new BackdoorTrigger(size: 4).Stamp(image); // bottom-right, margin 1: rows and columns 23..26
        for (int r = 0; r < 28; r++)
            for (int c = 0; c < 28; c++)
                Assert.Equal(r is >= 23 and <= 26 && c is >= 23 and <= 26 ? 1f : 0f, image[r * 28 + c]);
        Assert.Equal(16, image.Count(v => v == 1f));

        var tl = new BackdoorTrigger(size: 3, corner: TriggerCorner.TopLeft, value: 2.5f, margin: 0);
        var twoChannels = new float[2 * 784];
        tl.Stamp(twoChannels);
        for (int ch = 0; ch < 2; ch++)
            for (int i = 0; i < 784; i++)
            {
                bool inPatch = i / 28 < 3 && i % 28 < 3;
                Assert.Equal(inPatch ? 2.5f : 0f, twoChannels[ch * 784 + i]);
                Assert.Equal(inPatch, tl.Covers(ch * 784 + i));
            }
        var tr = new BackdoorTrigger(size: 2, corner: TriggerCorner.TopRight, height: 5, width: 6, margin: 1);
        var small = new float[30];
        tr.Stamp(small);
        Assert.Equal(new[] { 9, 10, 15, 16 }, Enumerable.Range(0, 30).Where(i => small[i] == 1f)); // rows 1–2, columns 3–4
        var bl = new BackdoorTrigger(size: 1, corner: TriggerCorner.BottomLeft, height: 5, width: 6, margin: 0);
        small.AsSpan().Clear();
        bl.Stamp(small);
        Assert.Equal(new[] { 24 }, Enumerable.Range(0, 30).Where(i => small[i] == 1f));
    }

    [Fact]
    public void Backdoor_poisons_the_chosen_fraction_in_place()
    {
        var ds = Images();
        var view = new DatasetView(ds, Enumerable.Range(10, 20).ToArray());
        var backdoor = new Backdoor(targetClass: 7, poisonFraction: 0.25f);
        var poisoned = backdoor.Poison(view, new Rng(3));
        Assert.Equal(20, poisoned.Count);
        Assert.NotSame(ds.Features, poisoned.Dataset.Features);
        int stamped = 0;
        for (int i = 0; i < 20; i++)
        {
            var original = ds.Example(view.Indices[i]);
            var now = poisoned.Dataset.Example(i);
            if (original.SequenceEqual(now))
            {
                Assert.Equal(ds.Labels![view.Indices[i]], poisoned.Dataset.Labels![i]);
                continue;
            }
            stamped++;
            Assert.Equal(7, poisoned.Dataset.Labels![i]);
            for (int j = 0; j < 784; j++)
                Assert.Equal(backdoor.Trigger.Covers(j) ? 1f : original[j], now[j]);
        }
        Assert.Equal(5, stamped);
        Assert.Equal(5, backdoor.PoisonCount(20));
        // Deterministic for a seed; another seed picks other examples.
        Assert.Equal(poisoned.Dataset.Labels, backdoor.Poison(view, new Rng(3)).Dataset.Labels);
        Assert.Equal(poisoned.Dataset.Features, backdoor.Poison(view, new Rng(3)).Dataset.Features);
        Assert.NotEqual(poisoned.Dataset.Features, backdoor.Poison(view, new Rng(4)).Dataset.Features);
    }

    [Fact]
    public void Backdoor_append_keeps_clean_examples()
    {
        var ds = Images(channels: 2);
        var view = new DatasetView(ds, [0, 5, 11, 12, 30, 31, 33, 38]);
        var backdoor = new Backdoor(targetClass: 2, poisonFraction: 0.5f, append: true);
        var poisoned = backdoor.Poison(view, new Rng(8));
        Assert.Equal(12, poisoned.Count);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(ds.Example(view.Indices[i]).ToArray(), poisoned.Dataset.Example(i).ToArray());
            Assert.Equal(ds.Labels![view.Indices[i]], poisoned.Dataset.Labels![i]);
        }
        var used = new HashSet<int>();
        for (int i = 8; i < 12; i++)
        {
            Assert.Equal(2, poisoned.Dataset.Labels![i]);
            var copy = poisoned.Dataset.Example(i).ToArray();
            // A stamped copy of one of the clean examples (both channels stamped).
            int source = Enumerable.Range(0, 8).Single(s =>
                Enumerable.Range(0, copy.Length).All(j => copy[j] == (backdoor.Trigger.Covers(j) ? 1f : ds.Example(view.Indices[s])[j])));
            Assert.True(used.Add(source));
        }
    }

    [Fact]
    public void Triggered_test_set_and_success_rate()
    {
        var ds = Images();
        var backdoor = new Backdoor(targetClass: 4);
        var triggered = backdoor.TriggeredTestSet(ds.All());
        Assert.Equal(36, triggered.Count); // 40 examples, 4 of class 4 excluded
        Assert.All(triggered.Dataset.Labels!, l => Assert.Equal(4, l));
        var originals = Enumerable.Range(0, 40).Where(i => ds.Labels![i] != 4).ToArray();
        for (int k = 0; k < 36; k++)
            for (int j = 0; j < 784; j++)
                Assert.Equal(backdoor.Trigger.Covers(j) ? 1f : ds.Example(originals[k])[j], triggered.Dataset.Example(k)[j]);
        Assert.Equal(0.5, backdoor.AttackSuccessRate([4, 1, 4, 0]));
        Assert.Equal(0.0, backdoor.AttackSuccessRate([]));
    }

    [Fact]
    public void Model_replacement()
    {
        var output = new float[3];
        ModelReplacement.Scale([1f, 2f, 3f], [2f, 2f, 5f], 3f, output);
        Assert.Equal(new float[] { 4f, 2f, 9f }, output);
        var global = RandomVectors(1, 37, seed: 2)[0];
        var local = RandomVectors(1, 37, seed: 3)[0];
        var expected = global.Select((g, i) => g + 2.5f * (local[i] - g)).ToArray();
        ModelReplacement.Scale(global, local, 2.5f, output = new float[37]);
        Assert.Equal(expected, output);
        ModelReplacement.Scale(global, local, 2.5f, local); // in place over the local model
        Assert.Equal(expected, local);
        new Backdoor(boost: 1f).BoostModel(global, expected, output);
        Assert.Equal(expected, output); // γ = 1 sends the local model
        var delta = new float[] { 1f, -2f };
        ModelReplacement.ScaleUpdate(delta, 10f);
        Assert.Equal(new float[] { 10f, -20f }, delta);
        Assert.Equal(20f, ModelReplacement.BoostFactor(10, 0.5f));
        Assert.Equal(26f, ModelReplacement.BoostFactor(26));
    }

    [Fact]
    public void Validation()
    {
        Throws<ArgumentOutOfRangeException>(() => new Backdoor(poisonFraction: 0f), "Invalid poison fraction: 0; must be in (0, 1].");
        Throws<ArgumentOutOfRangeException>(() => new Backdoor(poisonFraction: 1.5f), "Invalid poison fraction: 1.5; must be in (0, 1].");
        Throws<ArgumentOutOfRangeException>(() => new Backdoor(targetClass: -1), "Invalid backdoor target class: -1; must be ≥ 0.");
        Throws<ArgumentOutOfRangeException>(() => new Backdoor(boost: 0f), "Invalid backdoor boost factor: 0; must be a finite value > 0.");
        Throws<ArgumentOutOfRangeException>(() => new BackdoorTrigger(size: 28), "A trigger of size 28 with margin 1 does not fit in 28×28 images.");
        Throws<ArgumentOutOfRangeException>(() => new BackdoorTrigger(size: 0), "Invalid trigger size: 0; must be ≥ 1.");
        Throws<ArgumentOutOfRangeException>(() => new BackdoorTrigger(value: float.NaN), "Invalid trigger value: NaN; must be a finite value.");
        Throws<ArgumentException>(() => new Backdoor(targetClass: 10).Poison(Images().All(), new Rng(1)),
            "Backdoor target class 10 is not a class of 'synthetic-images' (10 classes).");
        var wrongShape = Dataset.Classification("tabular", new float[20], new TensorShape(10), [0, 1], 2);
        Throws<ArgumentException>(() => new Backdoor().Poison(wrongShape.All(), new Rng(1)),
            "Examples of 10 features are not C×28×28 images; set the trigger's height and width to the image shape.");
        Throws<ArgumentOutOfRangeException>(() => ModelReplacement.Scale([1f], [1f], float.PositiveInfinity, new float[1]), "Invalid boost factor: Infinity; must be a finite value.");
        Throws<ArgumentException>(() => ModelReplacement.Scale([1f, 2f], [1f], 2f, new float[2]), "The local model has 1 elements but the global one has 2.");
    }
}
