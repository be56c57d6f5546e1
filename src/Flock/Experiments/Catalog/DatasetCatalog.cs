using Flock.Data;
using Flock.Data.Synthetic;
using Flock.Experiments.Config;

namespace Flock.Experiments.Catalog;

/// <summary>What a dataset factory needs: the experiment's folder (relative paths) and seed.</summary>
public sealed record DatasetContext(string BaseDirectory, ulong Seed);

/// <summary>Registered datasets (<c>[data] name = ...</c>).</summary>
public static class DatasetCatalog
{
    private static readonly Param<string> FmPath = Params.String("path", FashionMnist.DefaultDirectory, "folder with the gzipped IDX files (Debian package dataset-fashion-mnist)");
    private static readonly Param<int> TrainLimit = Params.Int("train_limit", 0, "use only the first N training images (0 = all)", min: 0);
    private static readonly Param<int> TestLimit = Params.Int("test_limit", 0, "use only the first N test images (0 = all)", min: 0);
    private static readonly Param<bool> Normalize = Params.Bool("normalize", false, "standardise pixels with the training mean/std instead of scaling to [0, 1]");
    private static readonly Param<int> Classes = Params.Int("classes", 10, "number of classes", min: 2);
    private static readonly Param<int> Dims = Params.Int("dimensions", 20, "features per example", min: 1);
    private static readonly Param<int> TrainCount = Params.Int("train", 5000, "training examples", min: 1);
    private static readonly Param<int> TestCount = Params.Int("test", 1000, "test examples", min: 1);
    private static readonly Param<double> Separation = Params.Double("separation", 3.0, "distance between class means", min: 0);
    private static readonly Param<double> Noise = Params.Double("noise", 1.0, "per-feature noise standard deviation", min: 0, minExclusive: true);

    /// <summary>The registry.</summary>
    public static ComponentRegistry<DatasetContext, TrainTestSplit> Registry { get; } = new ComponentRegistry<DatasetContext, TrainTestSplit>("dataset")
        .Add("fashion-mnist", "Fashion-MNIST, 28×28 grey images, 10 classes (60,000 train / 10,000 test).",
            "Xiao et al., \"Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms\", 2017",
            new Param[] { FmPath, TrainLimit, TestLimit, Normalize },
            (s, ctx) =>
            {
                string path = s.Get(FmPath);
                if (!Path.IsPathRooted(path)) path = Path.GetFullPath(Path.Combine(ctx.BaseDirectory, path));
                s.Record("path", path);
                int tl = s.Get(TrainLimit), vl = s.Get(TestLimit);
                return FashionMnist.Load(path, new FashionMnistOptions
                {
                    MaxTrainExamples = tl == 0 ? null : tl,
                    MaxTestExamples = vl == 0 ? null : vl,
                    Normalize = s.Get(Normalize),
                });
            })
        .Add("gaussian-mixture", "Synthetic classification: isotropic Gaussian blobs, one per class.", "standard",
            new Param[] { Classes, Dims, TrainCount, TestCount, Separation, Noise },
            (s, ctx) =>
            {
                var g = GaussianMixtureData.Generate(new GaussianMixtureOptions
                {
                    Classes = s.Get(Classes), Dimensions = s.Get(Dims), TrainCount = s.Get(TrainCount), TestCount = s.Get(TestCount),
                    Separation = s.Get(Separation), NoiseStd = s.Get(Noise), Seed = ctx.Seed,
                });
                return new TrainTestSplit(g.Train, g.Test);
            });
}
