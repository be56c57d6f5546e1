using Flock.Data;
using Flock.Data.Partitioning;
using Flock.Data.Synthetic;
using Flock.Tensors;

namespace Flock.Tests.Data;

public class PartitionerTests
{
    private static readonly Lazy<Dataset> SampleTrain = new(() => FashionMnist.Load(FashionMnistTests.SampleDir).Train);

    /// <summary>Every example of <paramref name="source"/> is in exactly one view, and views are sorted.</summary>
    private static void AssertExactCover(DatasetView source, DatasetView[] views)
    {
        var seen = new int[source.Dataset.Count];
        foreach (var v in views)
        {
            Assert.Same(source.Dataset, v.Dataset);
            for (int i = 1; i < v.Count; i++) Assert.True(v.Indices[i - 1] < v.Indices[i], "indices not strictly ascending");
            foreach (int i in v.Indices) seen[i]++;
        }
        var expected = new int[source.Dataset.Count];
        foreach (int i in source.Indices) expected[i] = 1;
        Assert.Equal(expected, seen);
    }

    private static void AssertSame(DatasetView[] a, DatasetView[] b)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i].Indices, b[i].Indices);
    }

    private static bool Differs(DatasetView[] a, DatasetView[] b) => a.Zip(b).Any(p => !p.First.Indices.SequenceEqual(p.Second.Indices));

    public static TheoryData<string> AllPartitioners => ["iid", "dirichlet", "shards", "quantity-dirichlet", "quantity-power"];

    private static IPartitioner Make(string name) => name switch
    {
        "iid" => new IidPartitioner(),
        "dirichlet" => new DirichletPartitioner(0.5, minSize: 5),
        "shards" => new ShardPartitioner(2),
        "quantity-dirichlet" => new QuantitySkewPartitioner(QuantitySkewDistribution.Dirichlet, 0.5),
        _ => new QuantitySkewPartitioner(QuantitySkewDistribution.PowerLaw, 1.5, minSize: 3),
    };

    [Theory]
    [MemberData(nameof(AllPartitioners))]
    public void Every_example_is_assigned_exactly_once_and_seeds_are_deterministic(string name)
    {
        var p = Make(name);
        var all = SampleTrain.Value.All();
        var a = p.Partition(all, 17, seed: 42);
        Assert.Equal(17, a.Length);
        AssertExactCover(all, a);
        AssertSame(a, p.Partition(SampleTrain.Value, 17, seed: 42));
        Assert.True(Differs(a, p.Partition(all, 17, seed: 43)), "a different seed gave the same partition");
        // A sub-view is partitioned within itself.
        var sub = new DatasetView(all.Dataset, Enumerable.Range(0, 1000).Where(i => i % 3 == 0).ToArray());
        AssertExactCover(sub, p.Partition(sub, 5, seed: 1));
    }

    [Fact]
    public void Iid_sizes_differ_by_at_most_one_and_labels_are_near_global()
    {
        var views = new IidPartitioner().Partition(SampleTrain.Value, 7, 3);
        Assert.Equal(new[] { 143, 143, 143, 143, 143, 143, 142 }, views.Select(v => v.Count));
        var s = PartitionSummary.Of(views);
        Assert.Equal(10, s.MinClassesPerNode);
        Assert.True(s.MeanLabelDistance < 0.15, $"TV {s.MeanLabelDistance}");
    }

    [Fact]
    public void Dirichlet_small_alpha_gives_few_classes_and_large_alpha_near_uniform_histograms()
    {
        var ds = SampleTrain.Value;
        var skewed = PartitionSummary.Of(new DirichletPartitioner(0.05, minSize: 1).Partition(ds, 10, 7));
        Assert.True(skewed.MeanClassesPerNode < 4, $"alpha 0.05: {skewed}");
        Assert.True(skewed.MeanLabelDistance > 0.6, $"alpha 0.05: {skewed}");

        var flat = new DirichletPartitioner(1000, minSize: 1).Partition(ds, 10, 7);
        var fs = PartitionSummary.Of(flat);
        Assert.Equal(10, fs.MinClassesPerNode);
        Assert.True(fs.MeanLabelDistance < 0.05, $"alpha 1000: {fs}");
        // Each class has 100 examples; with alpha 1000 each node gets ≈10 of each.
        foreach (var h in fs.LabelHistograms) Assert.All(h, c => Assert.InRange(c, 4, 16));
    }

    [Fact]
    public void Dirichlet_minimum_size_is_guaranteed_or_reported()
    {
        var views = new DirichletPartitioner(0.3, minSize: 20).Partition(SampleTrain.Value, 20, 5);
        Assert.All(views, v => Assert.True(v.Count >= 20, $"node size {v.Count}"));
        var balanced = new DirichletPartitioner(0.3, minSize: 20, selfBalancing: true).Partition(SampleTrain.Value, 20, 5);
        Assert.All(balanced, v => Assert.True(v.Count >= 20));
        Assert.True(PartitionSummary.Of(balanced).SizeStd < PartitionSummary.Of(views).SizeStd);

        var e = Assert.Throws<InvalidOperationException>(() => new DirichletPartitioner(0.01, minSize: 19, maxAttempts: 3).Partition(SampleTrain.Value, 50, 1));
        Assert.Contains("after 3 draws", e.Message);
        Assert.Contains("minimum of 19", e.Message);
    }

    [Fact]
    public void Dirichlet_survives_tiny_alpha()
    {
        // Gamma(1e-4) underflows in linear space; the log-space draw still gives one dominant node per class.
        var s = PartitionSummary.Of(new DirichletPartitioner(1e-4, minSize: 0).Partition(SampleTrain.Value, 30, 2));
        Assert.Equal(1000, s.TotalExamples);
        Assert.True(s.MeanClassesPerNode <= 1.0, $"{s}");
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 50)]
    [InlineData(5, 20)]
    [InlineData(2, 10)]
    public void Shards_give_exactly_k_classes_per_node_when_divisible(int k, int nodes)
    {
        // 1000 examples, 100 per class; shards of 1000 / (nodes·k) examples divide 100.
        var views = new ShardPartitioner(k).Partition(SampleTrain.Value, nodes, 11);
        AssertExactCover(SampleTrain.Value.All(), views);
        var s = PartitionSummary.Of(views);
        Assert.Equal(k, s.MinClassesPerNode);
        Assert.Equal(k, s.MaxClassesPerNode);
        Assert.All(views, v => Assert.Equal(1000 / nodes, v.Count));
        Assert.All(s.LabelHistograms, h => Assert.All(h, c => Assert.True(c == 0 || c == 1000 / (nodes * k) * (c / (1000 / (nodes * k))))));
    }

    [Fact]
    public void Random_deal_shards_have_at_most_k_classes()
    {
        var views = new ShardPartitioner(2, distinctClasses: false).Partition(SampleTrain.Value, 50, 11);
        AssertExactCover(SampleTrain.Value.All(), views);
        var s = PartitionSummary.Of(views);
        Assert.True(s.MaxClassesPerNode <= 2);
        Assert.True(s.MinClassesPerNode >= 1);
    }

    [Fact]
    public void Non_divisible_shards_still_cover_and_stay_near_k_classes()
    {
        var views = new ShardPartitioner(3).Partition(SampleTrain.Value, 23, 4); // 69 shards of 14 or 15
        AssertExactCover(SampleTrain.Value.All(), views);
        Assert.All(views, v => Assert.InRange(v.Count, 42, 45));
        Assert.True(PartitionSummary.Of(views).MaxClassesPerNode <= 6); // a shard straddles at most 2 classes
    }

    [Theory]
    [InlineData(QuantitySkewDistribution.Dirichlet, 0.5)]
    [InlineData(QuantitySkewDistribution.PowerLaw, 1.0)]
    public void Quantity_skew_sizes_vary_with_guaranteed_minimum_and_iid_labels(QuantitySkewDistribution dist, double parameter)
    {
        var views = new QuantitySkewPartitioner(dist, parameter, minSize: 5).Partition(SampleTrain.Value, 20, 9);
        var s = PartitionSummary.Of(views);
        Assert.Equal(1000, s.TotalExamples);
        Assert.True(s.MinSize >= 5);
        Assert.True(s.MaxSize >= 3 * s.MinSize, $"{s}");
        Assert.True(s.SizeStd > 10, $"{s}");
        // The largest node's labels follow the global (balanced) distribution.
        var big = views.MaxBy(v => v.Count)!;
        var h = big.LabelHistogram();
        Assert.True(h.Max() - h.Min() < Math.Max(12, big.Count / 4), $"{string.Join(",", h)}");
    }

    [Fact]
    public void Quantity_skew_works_on_regression_data()
    {
        var data = LinearRegressionData.Generate(new LinearRegressionOptions { Dimensions = 3, TrainCount = 200, TestCount = 1 });
        var views = new QuantitySkewPartitioner(QuantitySkewDistribution.Dirichlet, 1).Partition(data.Train, 8, 1);
        AssertExactCover(data.Train.All(), views);
        var s = PartitionSummary.Of(views);
        Assert.Empty(s.LabelHistograms);
        Assert.Equal(0, s.MeanClassesPerNode);
        Assert.Throws<ArgumentException>(() => new DirichletPartitioner(1).Partition(data.Train, 4, 1));
        Assert.Throws<ArgumentException>(() => new ShardPartitioner(2).Partition(data.Train, 4, 1));
    }

    [Fact]
    public void Invalid_parameters_name_the_bad_value()
    {
        Assert.Contains("alpha: 0", Assert.Throws<ArgumentException>(() => new DirichletPartitioner(0)).Message);
        Assert.Contains("alpha: -1", Assert.Throws<ArgumentException>(() => new DirichletPartitioner(-1)).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => new DirichletPartitioner(double.NaN)).Message);
        Assert.Contains("-2", Assert.Throws<ArgumentException>(() => new DirichletPartitioner(1, minSize: -2)).Message);
        Assert.Contains("attempts: 0", Assert.Throws<ArgumentException>(() => new DirichletPartitioner(1, maxAttempts: 0)).Message);
        Assert.Contains("shards per node: 0", Assert.Throws<ArgumentException>(() => new ShardPartitioner(0)).Message);
        Assert.Contains("beta: 0", Assert.Throws<ArgumentException>(() => new QuantitySkewPartitioner(QuantitySkewDistribution.Dirichlet, 0)).Message);
        Assert.Contains("exponent: -3", Assert.Throws<ArgumentException>(() => new QuantitySkewPartitioner(QuantitySkewDistribution.PowerLaw, -3)).Message);
        Assert.Contains("size: 0", Assert.Throws<ArgumentException>(() => new QuantitySkewPartitioner(QuantitySkewDistribution.PowerLaw, 1, minSize: 0)).Message);

        var ds = SampleTrain.Value;
        Assert.Contains("nodes: 0; must be in [1, 1000]", Assert.Throws<ArgumentException>(() => new IidPartitioner().Partition(ds, 0, 1)).Message);
        Assert.Contains("nodes: 1001; must be in [1, 1000]", Assert.Throws<ArgumentException>(() => new IidPartitioner().Partition(ds, 1001, 1)).Message);
        Assert.Contains("at least 10 examples: that needs 1010", Assert.Throws<ArgumentException>(() => new DirichletPartitioner(1).Partition(ds, 101, 1)).Message);
        Assert.Contains("= 1200 shards", Assert.Throws<ArgumentException>(() => new ShardPartitioner(2).Partition(ds, 600, 1)).Message);
    }

    [Fact]
    public void Summary_of_a_hand_made_partition()
    {
        var ds = Dataset.Classification("six", new float[6], new TensorShape(1), [0, 0, 1, 1, 2, 2], 3);
        var s = PartitionSummary.Of([new DatasetView(ds, [0, 1]), new DatasetView(ds, [2, 3, 4, 5])]);
        Assert.Equal((2, 6, 2, 4), (s.Nodes, s.TotalExamples, s.MinSize, s.MaxSize));
        Assert.Equal(3.0, s.MeanSize, 12);
        Assert.Equal(1.0, s.SizeStd, 12);
        Assert.Equal(1.5, s.MeanClassesPerNode, 12);
        Assert.Equal((1, 2), (s.MinClassesPerNode, s.MaxClassesPerNode));
        // TV: node 0 (1,0,0) vs (1/3,1/3,1/3) = 2/3; node 1 (0,1/2,1/2) = 1/3; mean 1/2.
        Assert.Equal(0.5, s.MeanLabelDistance, 12);
        Assert.Equal(new[] { 2, 0, 0 }, s.LabelHistograms[0]);
        Assert.Equal("2 nodes, 6 examples, sizes 2–4 (mean 3.0 ± 1.0), classes/node 1.50 (1–2), label TV 0.500", s.ToString());
    }

    [Fact]
    public void Descriptions_name_the_parameters()
    {
        Assert.Equal("dirichlet(alpha=0.1, min-size=10)", new DirichletPartitioner(0.1).Description);
        Assert.Equal("shards(k=2)", new ShardPartitioner().Description);
        Assert.Equal("quantity-skew(power-law, exponent=1.5, min-size=1)", new QuantitySkewPartitioner(QuantitySkewDistribution.PowerLaw, 1.5).Description);
    }

    [Fact]
    public void Apportion_uses_largest_remainders()
    {
        Assert.Equal(new[] { 4, 3, 3 }, PartitionHelpers.Apportion([1, 1, 1], 10));
        Assert.Equal(new[] { 1, 3, 6 }, PartitionHelpers.Apportion([2, 5, 13], 10)); // 1, 2.5, 6.5: tie to the lower index
        Assert.Equal(new[] { 2, 2, 3 }, PartitionHelpers.Apportion([3, 3, 4], 7)); // 2.1, 2.1, 2.8
        Assert.Equal(new[] { 0, 3, 0 }, PartitionHelpers.Apportion([0, 1, 0], 3));
    }
}
