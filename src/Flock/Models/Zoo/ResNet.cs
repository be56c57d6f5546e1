using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Models.Losses;
using Flock.Tensors;

namespace Flock.Models.Zoo;

/// <summary>
/// The CIFAR-style residual network of He et al. ("Deep Residual Learning for Image Recognition",
/// 2016, §4.2: ResNet-(6n+2)) with group normalization instead of batch normalization, as in
/// Hsieh et al. ("The Non-IID Data Quagmire of Decentralized Machine Learning", 2020):
/// <code>
/// stem    Conv2d(w, 3×3, pad 1, no bias) → GroupNorm → ReLU
/// stage1  n basic blocks, w channels,  stride 1
/// stage2  n basic blocks, 2w channels, first block stride 2 (projection shortcut)
/// stage3  n basic blocks, 4w channels, first block stride 2 (projection shortcut)
/// head    global average pool → Linear(classes)
/// </code>
/// See <see cref="ResidualBlock.Basic"/> for the block. n = 1 gives ResNet-8, n = 3 ResNet-20;
/// w = 16 is the paper's width. Works for any <c>[C, H, W]</c> input ≥ 4×4 (28×28 → 28/14/7,
/// 32×32 → 32/16/8). Parameters with 10 classes: ResNet-8 (n=1, w=16) 78,042 for [3, 32, 32];
/// ResNet-20 (n=3, w=16) 272,474 for [3, 32, 32].
/// </summary>
public static class ResNet
{
    /// <summary>Builds the network.</summary>
    /// <param name="inputShape">Per-example input <c>[C, H, W]</c>.</param>
    /// <param name="classes">Number of classes (positive, default 10).</param>
    /// <param name="blocksPerStage">Basic blocks per stage n (positive, default 1: ResNet-8).</param>
    /// <param name="width">Channels of the first stage w (positive, default 16).</param>
    /// <param name="groups">GroupNorm groups (positive, must divide <paramref name="width"/>; default 2).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive or <paramref name="groups"/> does not divide <paramref name="width"/>.</exception>
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c>.</exception>
    public static Network CreateNetwork(TensorShape inputShape, int classes = 10, int blocksPerStage = 1, int width = 16, int groups = 2)
    {
        if (classes <= 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "Invalid number of classes: must be positive.");
        if (blocksPerStage <= 0) throw new ArgumentOutOfRangeException(nameof(blocksPerStage), blocksPerStage, "Invalid blocks per stage: must be positive.");
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "Invalid width: must be positive.");
        if (groups <= 0 || width % groups != 0) throw new ArgumentOutOfRangeException(nameof(groups), groups, $"Invalid GroupNorm groups: must be positive and divide the width {width}.");
        if (inputShape.Rank != 3) throw new ArgumentException($"ResNet needs [C, H, W] inputs; got {inputShape}.", nameof(inputShape));
        var layers = new List<Layer>
        {
            new Conv2d(width, 3, 1, 1, bias: false, name: "stem"),
            new GroupNorm(groups, width, name: "stem_gn"),
            new ReLU(),
        };
        int channels = width;
        for (int stage = 0; stage < 3; stage++)
        {
            int outChannels = width << stage;
            for (int i = 0; i < blocksPerStage; i++)
            {
                int stride = stage > 0 && i == 0 ? 2 : 1;
                layers.Add(ResidualBlock.Basic(channels, outChannels, stride, groups, name: $"s{stage + 1}b{i + 1}"));
                channels = outChannels;
            }
        }
        layers.Add(AvgPool2d.Global());
        layers.Add(new Linear(classes, init: WeightInit.XavierNormal, name: "fc"));
        return new Network(inputShape, layers.ToArray());
    }

    /// <summary>Builds a ResNet classifier learner (softmax cross-entropy).</summary>
    /// <inheritdoc cref="CreateNetwork" />
    public static NetworkLearner CreateClassifier(TensorShape inputShape, int classes = 10, int blocksPerStage = 1, int width = 16, int groups = 2) =>
        new(CreateNetwork(inputShape, classes, blocksPerStage, width, groups), SoftmaxCrossEntropy.Instance);
}
