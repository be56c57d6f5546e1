using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Models.Losses;
using Flock.Tensors;

namespace Flock.Models.Zoo;

/// <summary>
/// LeNet-5 (LeCun et al., "Gradient-Based Learning Applied to Document Recognition", 1998) in the
/// modern form used by most federated-learning papers: ReLU instead of tanh/sigmoid, max pooling
/// instead of trainable subsampling, full C3 connectivity and a plain linear output:
/// <code>
/// conv1  Conv2d(6, 5×5, pad p)  → ReLU → MaxPool2d(2)
/// conv2  Conv2d(16, 5×5)        → ReLU → MaxPool2d(2)
/// fc1    Linear(120)            → ReLU
/// fc2    Linear(84)             → ReLU
/// fc3    Linear(classes)        (logits; softmax cross-entropy)
/// </code>
/// with p = 2 for 28×28 inputs (Fashion-MNIST: 28→28→14→10→5) and p = 0 otherwise (32×32 CIFAR:
/// 32→28→14→10→5), so fc1 always sees 16·5·5 = 400 features for those two sizes.
/// Parameters: 61,706 for [1, 28, 28] and 62,006 for [3, 32, 32] with 10 classes.
/// </summary>
public static class LeNet5
{
    /// <summary>Builds the LeNet-5 network.</summary>
    /// <param name="inputShape">Per-example input <c>[C, H, W]</c>, e.g. [1, 28, 28] or [3, 32, 32].</param>
    /// <param name="classes">Number of classes (positive, default 10).</param>
    /// <param name="padding">Zero padding of conv1; default (null) = 2 for 28×28 inputs, else 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is not positive or <paramref name="padding"/> is negative.</exception>
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c> or is too small for the two conv/pool stages.</exception>
    public static Network CreateNetwork(TensorShape inputShape, int classes = 10, int? padding = null)
    {
        if (classes <= 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "Invalid number of classes: must be positive.");
        if (padding is < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "Invalid padding: must be ≥ 0.");
        if (inputShape.Rank != 3) throw new ArgumentException($"LeNet-5 needs [C, H, W] inputs; got {inputShape}.", nameof(inputShape));
        int pad = padding ?? (inputShape[1] == 28 && inputShape[2] == 28 ? 2 : 0);
        return new Network(inputShape,
            new Conv2d(6, 5, 1, pad, name: "conv1"),
            new ReLU(),
            new MaxPool2d(2, name: "pool1"),
            new Conv2d(16, 5, name: "conv2"),
            new ReLU(),
            new MaxPool2d(2, name: "pool2"),
            new Linear(120, name: "fc1"),
            new ReLU(),
            new Linear(84, name: "fc2"),
            new ReLU(),
            new Linear(classes, init: WeightInit.XavierNormal, name: "fc3"));
    }

    /// <summary>Builds a LeNet-5 classifier learner (softmax cross-entropy).</summary>
    /// <inheritdoc cref="CreateNetwork" />
    public static NetworkLearner CreateClassifier(TensorShape inputShape, int classes = 10, int? padding = null) =>
        new(CreateNetwork(inputShape, classes, padding), SoftmaxCrossEntropy.Instance);
}
