using System.Numerics.Tensors;
using Flock.Tensors;

namespace Flock.Data;

/// <summary>How to load Fashion-MNIST (see <see cref="FashionMnist.Load(string, FashionMnistOptions?)"/>).</summary>
public sealed record FashionMnistOptions
{
    /// <summary>If set, load only the first this-many training examples (in file order); null loads all 60,000.</summary>
    public int? MaxTrainExamples { get; init; }

    /// <summary>If set, load only the first this-many test examples (in file order); null loads all 10,000.</summary>
    public int? MaxTestExamples { get; init; }

    /// <summary>
    /// False (default): pixels are scaled to [0, 1] (byte / 255, as torchvision's <c>ToTensor</c>).
    /// True: they are then standardised, (x − <see cref="Mean"/>) / <see cref="Std"/>.
    /// </summary>
    public bool Normalize { get; init; }

    /// <summary>Mean subtracted when <see cref="Normalize"/> is set; default 0.2860, the mean of the 60,000 training images scaled to [0, 1].</summary>
    public float Mean { get; init; } = FashionMnist.TrainPixelMean;

    /// <summary>Standard deviation divided by when <see cref="Normalize"/> is set; default 0.3530, the std of the training pixels scaled to [0, 1].</summary>
    public float Std { get; init; } = FashionMnist.TrainPixelStd;

    /// <summary>Options that load only the first <paramref name="n"/> examples of each split.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not positive.</exception>
    public static FashionMnistOptions FirstExamples(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, $"Invalid example limit: {n}; must be positive.");
        return new FashionMnistOptions { MaxTrainExamples = n, MaxTestExamples = n };
    }
}

/// <summary>A training set and a test set.</summary>
/// <param name="Train">The training split.</param>
/// <param name="Test">The test split.</param>
public sealed record TrainTestSplit(Dataset Train, Dataset Test);

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
/// Machine Learning Algorithms", 2017): 60,000 training and 10,000 test 28×28 grey-scale images of
/// 10 clothing classes, read from the four (gzipped) IDX files of the Debian package
/// <c>dataset-fashion-mnist</c>. Examples have shape [1, 28, 28] (channels, height, width).
/// </summary>
public static class FashionMnist
{
    /// <summary>Where the Debian package <c>dataset-fashion-mnist</c> installs the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The Debian package providing the dataset.</summary>
    public const string DebianPackage = "dataset-fashion-mnist";

    /// <summary>Number of classes.</summary>
    public const int NumClasses = 10;

    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>Mean pixel value of the 60,000 training images scaled to [0, 1] (0.286041 to six places).</summary>
    public const float TrainPixelMean = 0.2860f;

    /// <summary>Standard deviation of the training pixels scaled to [0, 1] (0.353024 to six places).</summary>
    public const float TrainPixelStd = 0.3530f;

    /// <summary>The shape of one example: [1, 28, 28].</summary>
    public static TensorShape ExampleShape { get; } = new(1, ImageSize, ImageSize);

    /// <summary>Class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Loads the training and test splits from <paramref name="directory"/>, which must hold
    /// <c>train-images-idx3-ubyte(.gz)</c>, <c>train-labels-idx1-ubyte(.gz)</c>,
    /// <c>t10k-images-idx3-ubyte(.gz)</c> and <c>t10k-labels-idx1-ubyte(.gz)</c> (gzipped names are tried first).
    /// </summary>
    /// <param name="directory">The dataset directory (default: the Debian package's).</param>
    /// <param name="options">Limits and pixel normalisation; null for the defaults (all examples, pixels in [0, 1]).</param>
    /// <returns>The splits, named <c>fashion-mnist/train</c> and <c>fashion-mnist/test</c>.</returns>
    /// <exception cref="ArgumentException">An option is invalid (limit not positive, std not positive, mean not finite).</exception>
    /// <exception cref="DataFormatException">The directory or a file is missing (the message says which package to install),
    /// or a file is malformed, or images and labels disagree, or a label is outside [0, 10).</exception>
    public static TrainTestSplit Load(string directory = DefaultDirectory, FashionMnistOptions? options = null)
    {
        options ??= new FashionMnistOptions();
        Validate(options);
        if (!Directory.Exists(directory))
            throw new DataFormatException(
                $"Fashion-MNIST directory not found: '{directory}'. Install the Debian package with `apt-get install -y {DebianPackage}` " +
                $"(it provides {DefaultDirectory}), or point to a directory holding the four IDX files.") { FilePath = directory };
        var train = LoadSplit(directory, "train", "fashion-mnist/train", options.MaxTrainExamples, options);
        var test = LoadSplit(directory, "t10k", "fashion-mnist/test", options.MaxTestExamples, options);
        return new TrainTestSplit(train, test);
    }

    /// <summary>Loads the splits from <see cref="DefaultDirectory"/> with <paramref name="options"/>.</summary>
    /// <inheritdoc cref="Load(string, FashionMnistOptions?)" path="/exception"/>
    public static TrainTestSplit Load(FashionMnistOptions options) => Load(DefaultDirectory, options);

    private static void Validate(FashionMnistOptions o)
    {
        if (o.MaxTrainExamples is <= 0)
            throw new ArgumentException($"Invalid MaxTrainExamples: {o.MaxTrainExamples}; must be positive (or null for all).", nameof(o.MaxTrainExamples));
        if (o.MaxTestExamples is <= 0)
            throw new ArgumentException($"Invalid MaxTestExamples: {o.MaxTestExamples}; must be positive (or null for all).", nameof(o.MaxTestExamples));
        if (!float.IsFinite(o.Mean))
            throw new ArgumentException($"Invalid normalisation mean: {o.Mean}; must be finite.", nameof(o.Mean));
        if (!(o.Std > 0) || !float.IsFinite(o.Std))
            throw new ArgumentException($"Invalid normalisation std: {o.Std}; must be a finite value > 0.", nameof(o.Std));
    }

    private static Dataset LoadSplit(string directory, string prefix, string name, int? max, FashionMnistOptions options)
    {
        string imagesPath = Find(directory, $"{prefix}-images-idx3-ubyte");
        string labelsPath = Find(directory, $"{prefix}-labels-idx1-ubyte");
        var images = IdxReader.Read(imagesPath, IdxDataType.UnsignedByte, expectedRank: 3, maxItems: max);
        if (images.Dimensions[1] != ImageSize || images.Dimensions[2] != ImageSize)
            throw new DataFormatException(
                $"Malformed Fashion-MNIST file '{imagesPath}': images are {images.Dimensions[1]}x{images.Dimensions[2]} (dimensions at byte offsets 8 and 12), expected {ImageSize}x{ImageSize}.")
            { FilePath = imagesPath, ByteOffset = 8 };
        var labels = IdxReader.Read(labelsPath, IdxDataType.UnsignedByte, expectedRank: 1, maxItems: max);
        if (images.Dimensions[0] != labels.Dimensions[0])
            throw new DataFormatException(
                $"Fashion-MNIST {name} files disagree: '{imagesPath}' declares {images.Dimensions[0]} images but '{labelsPath}' declares {labels.Dimensions[0]} labels (first dimension, byte offset 4).")
            { FilePath = labelsPath, ByteOffset = 4 };

        int count = images.Count;
        var y = new int[count];
        for (int i = 0; i < count; i++)
        {
            byte l = labels.Data[i];
            if (l >= NumClasses)
                throw new DataFormatException(
                    $"Malformed Fashion-MNIST file '{labelsPath}': label {l} of example {i} at byte offset {8 + i} (decompressed) is outside [0, {NumClasses}).")
                { FilePath = labelsPath, ByteOffset = 8 + i };
            y[i] = l;
        }

        var x = new float[images.Data.Length];
        TensorPrimitives.ConvertChecked<byte, float>(images.Data, x);
        TensorPrimitives.Divide(x, 255f, x);
        if (options.Normalize)
        {
            TensorPrimitives.Subtract(x, options.Mean, x);
            TensorPrimitives.Divide(x, options.Std, x);
        }
        return Dataset.Classification(name, x, ExampleShape, y, NumClasses);
    }

    private static string Find(string directory, string baseName)
    {
        string gz = Path.Combine(directory, baseName + ".gz");
        if (File.Exists(gz)) return gz;
        string raw = Path.Combine(directory, baseName);
        if (File.Exists(raw)) return raw;
        throw new DataFormatException(
            $"Fashion-MNIST file missing: neither '{gz}' nor '{raw}' exists. Install the Debian package with `apt-get install -y {DebianPackage}` " +
            $"(it provides {DefaultDirectory}), or point to a directory holding the four IDX files.") { FilePath = gz };
    }
}
