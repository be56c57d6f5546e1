using System.Globalization;
using Flock.Data;

namespace Flock.Tests.Data;

/// <summary>A fact that runs only where the Debian package <c>dataset-fashion-mnist</c> is installed (it is skipped elsewhere).</summary>
public sealed class FashionMnistInstalledFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the dataset directory is missing.</summary>
    public FashionMnistInstalledFactAttribute()
    {
        if (!File.Exists(Path.Combine(FashionMnist.DefaultDirectory, "train-images-idx3-ubyte.gz")))
            Skip = $"Fashion-MNIST is not installed at {FashionMnist.DefaultDirectory} (apt-get install -y {FashionMnist.DebianPackage}).";
    }
}

public sealed class FashionMnistTests : IDisposable
{
    internal static readonly string SampleDir = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-sample");
    private readonly string _dir = Directory.CreateTempSubdirectory("flock-fmnist-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dictionary<string, string> Golden() =>
        File.ReadLines(Path.Combine(SampleDir, "golden.txt"))
            .Where(l => !l.StartsWith('#') && l.Contains('='))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);

    private static long Pixel(float x) => (long)Math.Round(x * 255.0);

    [Fact]
    public void Sample_loads_with_golden_counts_labels_and_pixel_checksums()
    {
        var golden = Golden();
        var (train, test) = FashionMnist.Load(SampleDir);
        foreach (var (split, ds) in new[] { ("train", train), ("test", test) })
        {
            Assert.Equal(int.Parse(golden[$"{split}.count"], CultureInfo.InvariantCulture), ds.Count);
            Assert.Equal(FashionMnist.ExampleShape, ds.ExampleShape);
            Assert.Equal(784, ds.FeatureSize);
            Assert.Equal(10, ds.NumClasses);
            Assert.Equal($"fashion-mnist/{split}", ds.Name);
            Assert.All(ds.Labels!, l => Assert.InRange(l, 0, 9));
            Assert.Equal(golden[$"{split}.label_histogram"], string.Join(",", ds.All().LabelHistogram()));
            Assert.Equal(long.Parse(golden[$"{split}.label_sum"], CultureInfo.InvariantCulture), ds.Labels!.Sum(l => (long)l));
            Assert.Equal(int.Parse(golden[$"{split}.first_label"], CultureInfo.InvariantCulture), ds.Labels![0]);

            long sum = 0, weighted = 0, max = 0;
            for (int p = 0; p < ds.Features.Length; p++)
            {
                float x = ds.Features[p];
                Assert.InRange(x, 0f, 1f);
                long b = Pixel(x);
                Assert.Equal(b / 255f, x); // exactly byte / 255
                sum += b;
                weighted += b * ((p + 1) % 1000003);
                max = Math.Max(max, b);
            }
            Assert.Equal(long.Parse(golden[$"{split}.pixel_sum"], CultureInfo.InvariantCulture), sum);
            Assert.Equal(long.Parse(golden[$"{split}.pixel_weighted_sum"], CultureInfo.InvariantCulture), weighted);
            Assert.Equal(long.Parse(golden[$"{split}.pixel_max"], CultureInfo.InvariantCulture), max);
            var row14 = ds.Example(0).Slice(14 * 28, 28).ToArray().Select(Pixel);
            Assert.Equal(golden[$"{split}.first_image_row14"], string.Join(",", row14));
        }
    }

    [Fact]
    public void First_n_examples_are_a_prefix_of_the_full_load()
    {
        var full = FashionMnist.Load(SampleDir);
        var part = FashionMnist.Load(SampleDir, new FashionMnistOptions { MaxTrainExamples = 37, MaxTestExamples = 5000 });
        Assert.Equal(37, part.Train.Count);
        Assert.Equal(500, part.Test.Count); // limit above the file size loads everything
        Assert.Equal(full.Train.Features.AsSpan(0, 37 * 784).ToArray(), part.Train.Features);
        Assert.Equal(full.Train.Labels!.AsSpan(0, 37).ToArray(), part.Train.Labels);
        var both = FashionMnist.Load(SampleDir, FashionMnistOptions.FirstExamples(3));
        Assert.Equal((3, 3), (both.Train.Count, both.Test.Count));
    }

    [Fact]
    public void Normalisation_is_affine_in_the_scaled_pixels()
    {
        var plain = FashionMnist.Load(SampleDir, FashionMnistOptions.FirstExamples(20)).Train;
        var norm = FashionMnist.Load(SampleDir, new FashionMnistOptions { MaxTrainExamples = 20, MaxTestExamples = 1, Normalize = true }).Train;
        var custom = FashionMnist.Load(SampleDir, new FashionMnistOptions { MaxTrainExamples = 20, MaxTestExamples = 1, Normalize = true, Mean = 0.5f, Std = 0.25f }).Train;
        for (int i = 0; i < plain.Features.Length; i++)
        {
            Assert.Equal((plain.Features[i] - 0.2860f) / 0.3530f, norm.Features[i], 6);
            Assert.Equal((plain.Features[i] - 0.5f) / 0.25f, custom.Features[i], 6);
        }
        Assert.Equal(-0.2860f / 0.3530f, norm.Features.Min(), 5); // a background pixel
    }

    [Fact]
    public void Invalid_options_name_the_bad_value()
    {
        Assert.Contains("-1", Assert.Throws<ArgumentException>(() => FashionMnist.Load(SampleDir, new FashionMnistOptions { MaxTrainExamples = -1 })).Message);
        Assert.Contains("0", Assert.Throws<ArgumentException>(() => FashionMnist.Load(SampleDir, new FashionMnistOptions { MaxTestExamples = 0 })).Message);
        Assert.Contains("std: 0", Assert.Throws<ArgumentException>(() => FashionMnist.Load(SampleDir, new FashionMnistOptions { Std = 0 })).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => FashionMnist.Load(SampleDir, new FashionMnistOptions { Mean = float.NaN })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => FashionMnistOptions.FirstExamples(0));
    }

    [Fact]
    public void Missing_directory_says_which_package_to_install()
    {
        string missing = Path.Combine(_dir, "does-not-exist");
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.Load(missing));
        Assert.Contains("apt-get install -y dataset-fashion-mnist", e.Message);
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void Missing_file_names_both_searched_paths_and_the_package()
    {
        CopySample();
        File.Delete(Path.Combine(_dir, "t10k-labels-idx1-ubyte.gz"));
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "t10k-labels-idx1-ubyte.gz"), e.Message);
        Assert.Contains(Path.Combine(_dir, "t10k-labels-idx1-ubyte") + "'", e.Message);
        Assert.Contains("apt-get install -y dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void Ungzipped_files_are_accepted()
    {
        foreach (var f in Directory.GetFiles(SampleDir, "*.gz"))
        {
            using var gz = new System.IO.Compression.GZipStream(File.OpenRead(f), System.IO.Compression.CompressionMode.Decompress);
            using var outFile = File.Create(Path.Combine(_dir, Path.GetFileNameWithoutExtension(f)));
            gz.CopyTo(outFile);
        }
        var raw = FashionMnist.Load(_dir);
        var gzipped = FashionMnist.Load(SampleDir);
        Assert.Equal(gzipped.Train.Features, raw.Train.Features);
        Assert.Equal(gzipped.Test.Labels, raw.Test.Labels);
    }

    [Fact]
    public void Image_label_count_mismatch_is_reported_with_both_files()
    {
        CopySample();
        // Labels file declaring 499 labels (and holding 499) against 500 test images.
        File.WriteAllBytes(Path.Combine(_dir, "t10k-labels-idx1-ubyte.gz"), IdxReaderTests.Gzip(IdxReaderTests.Idx(0x08, [499], new byte[499])));
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.Load(_dir));
        Assert.Contains("declares 500 images", e.Message);
        Assert.Contains("declares 499 labels", e.Message);
        Assert.Contains("t10k-images-idx3-ubyte.gz", e.Message);
        Assert.Contains("t10k-labels-idx1-ubyte.gz", e.Message);
    }

    [Fact]
    public void Label_out_of_range_gives_example_and_offset()
    {
        CopySample();
        var labels = new byte[1000];
        labels[123] = 10;
        File.WriteAllBytes(Path.Combine(_dir, "train-labels-idx1-ubyte.gz"), IdxReaderTests.Gzip(IdxReaderTests.Idx(0x08, [1000], labels)));
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.Load(_dir));
        Assert.Contains("label 10 of example 123 at byte offset 131", e.Message);
        Assert.Equal(131, e.ByteOffset);
    }

    [Fact]
    public void Wrong_image_size_and_wrong_file_kind_are_reported()
    {
        CopySample();
        File.WriteAllBytes(Path.Combine(_dir, "t10k-images-idx3-ubyte.gz"), IdxReaderTests.Gzip(IdxReaderTests.Idx(0x08, [500, 32, 32], new byte[500 * 1024])));
        Assert.Contains("images are 32x32", Assert.Throws<DataFormatException>(() => FashionMnist.Load(_dir)).Message);
        // A labels file where images are expected: rank 1 instead of 3.
        File.Copy(Path.Combine(SampleDir, "t10k-labels-idx1-ubyte.gz"), Path.Combine(_dir, "t10k-images-idx3-ubyte.gz"), overwrite: true);
        Assert.Contains("wrong number of dimensions 1 at decompressed byte offset 3; expected 3", Assert.Throws<DataFormatException>(() => FashionMnist.Load(_dir)).Message);
    }

    [Fact]
    public void Truncated_and_bad_magic_dataset_files_are_reported()
    {
        CopySample();
        string images = Path.Combine(_dir, "train-images-idx3-ubyte.gz");
        byte[] raw = Decompress(images);
        File.WriteAllBytes(images, IdxReaderTests.Gzip(raw[..(16 + 784 * 10 + 5)]));
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.Load(_dir));
        Assert.Contains("784000 data bytes", e.Message);
        Assert.Contains("after 7845 data bytes (only 10 complete items)", e.Message);
        // The first 10 images are still loadable.
        Assert.Equal(10, FashionMnist.Load(_dir, new FashionMnistOptions { MaxTrainExamples = 10 }).Train.Count);
        raw[1] = 0x42;
        File.WriteAllBytes(images, IdxReaderTests.Gzip(raw));
        Assert.Contains("bad magic number 0x00420803", Assert.Throws<DataFormatException>(() => FashionMnist.Load(_dir)).Message);
    }

    [FashionMnistInstalledFact]
    public void Sample_equals_the_installed_dataset_at_the_recorded_indices()
    {
        var sample = FashionMnist.Load(SampleDir);
        foreach (var (split, ds) in new[] { ("train", sample.Train), ("test", sample.Test) })
        {
            var idx = File.ReadAllLines(Path.Combine(SampleDir, $"{split}-indices.txt")).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(ds.Count, idx.Length);
            var opts = split == "train" ? new FashionMnistOptions { MaxTrainExamples = idx[^1] + 1, MaxTestExamples = 1 } : new FashionMnistOptions { MaxTrainExamples = 1, MaxTestExamples = idx[^1] + 1 };
            var fullSplits = FashionMnist.Load(opts);
            var full = split == "train" ? fullSplits.Train : fullSplits.Test;
            for (int i = 0; i < idx.Length; i++)
            {
                Assert.Equal(full.Labels![idx[i]], ds.Labels![i]);
                Assert.True(full.Example(idx[i]).SequenceEqual(ds.Example(i)), $"{split} example {i} differs from original {idx[i]}");
            }
        }
    }

    [FashionMnistInstalledFact]
    public void Installed_dataset_has_the_documented_sizes_and_pixel_statistics()
    {
        var (train, test) = FashionMnist.Load();
        Assert.Equal(60000, train.Count);
        Assert.Equal(10000, test.Count);
        Assert.All(train.All().LabelHistogram(), c => Assert.Equal(6000, c));
        Assert.All(test.All().LabelHistogram(), c => Assert.Equal(1000, c));
        double sum = 0, sq = 0;
        foreach (float x in train.Features) { sum += x; sq += (double)x * x; }
        double mean = sum / train.Features.Length, std = Math.Sqrt(sq / train.Features.Length - mean * mean);
        Assert.Equal(FashionMnist.TrainPixelMean, mean, 4);
        Assert.Equal(FashionMnist.TrainPixelStd, std, 4);
    }

    private void CopySample()
    {
        foreach (var f in Directory.GetFiles(SampleDir, "*.gz")) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
    }

    private static byte[] Decompress(string path)
    {
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }
}
