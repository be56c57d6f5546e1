using Flock.Data;
using Flock.Experiments.Config;
using Flock.Models;
using Flock.Models.Engine;
using Flock.Models.Zoo;

namespace Flock.Experiments.Catalog;

/// <summary>Registered models (<c>[model] name = ...</c>); the input shape and class count come from the dataset.</summary>
public static class ModelCatalog
{
    private static readonly Param<int[]> Hidden = Params.IntArray("hidden", new[] { 128 }, "hidden layer widths", min: 1);
    private static readonly Param<string> Init = Params.String("init", "he-normal", "weight initialisation", "he-normal", "he-uniform", "xavier-normal", "xavier-uniform", "torch-default");
    private static readonly Param<int> Blocks = Params.Int("blocks_per_stage", 1, "residual blocks per stage (1 = ResNet-8, 3 = ResNet-20)", min: 1);
    private static readonly Param<int> Width = Params.Int("width", 16, "channels of the first stage (doubled per stage)", min: 1);
    private static readonly Param<int> Groups = Params.Int("groups", 2, "GroupNorm groups", min: 1);
    private static readonly Param<bool> Bias = Params.Bool("bias", true, "learn a bias");

    internal static WeightInit ParseInit(string s) => s switch
    {
        "he-uniform" => WeightInit.HeUniform,
        "xavier-normal" => WeightInit.XavierNormal,
        "xavier-uniform" => WeightInit.XavierUniform,
        "torch-default" => WeightInit.TorchDefault,
        _ => WeightInit.HeNormal,
    };

    private static int Classes(Dataset d, string model) => d.IsClassification ? d.NumClasses
        : throw new ArgumentException($"model '{model}' is a classifier but dataset '{d.Name}' has regression targets.");

    /// <summary>The registry (context: the training set, for the input shape and outputs).</summary>
    public static ComponentRegistry<Dataset, ILearner> Registry { get; } = new ComponentRegistry<Dataset, ILearner>("model")
        .Add("mlp", "Multi-layer perceptron with ReLU, softmax cross-entropy.", "standard", new Param[] { Hidden, Init },
            (s, d) => Mlp.CreateClassifier(d.ExampleShape, s.Get(Hidden), Classes(d, "mlp"), ParseInit(s.Get(Init))))
        .Add("lenet5", "LeNet-5 style CNN: conv(6,5)→ReLU→maxpool→conv(16,5)→ReLU→maxpool→fc120→fc84→fc.", "LeCun et al., \"Gradient-based learning applied to document recognition\", 1998",
            Array.Empty<Param>(), (s, d) => LeNet5.CreateClassifier(d.ExampleShape, Classes(d, "lenet5")))
        .Add("resnet", "Small ResNet with GroupNorm (3 stages, global average pooling).", "He et al., \"Deep Residual Learning for Image Recognition\", 2016; Hsieh et al., 2020 (GroupNorm in FL)",
            new Param[] { Blocks, Width, Groups }, (s, d) => ResNet.CreateClassifier(d.ExampleShape, Classes(d, "resnet"), s.Get(Blocks), s.Get(Width), s.Get(Groups)))
        .Add("logistic", "Multinomial logistic regression (convex), zero init.", "standard", new Param[] { Bias },
            (s, d) => LogisticRegression.CreateLearner(d.ExampleShape, Classes(d, "logistic"), s.Get(Bias)))
        .Add("linear", "Linear least squares (convex), zero init, MSE loss.", "standard", new Param[] { Bias },
            (s, d) => d.IsClassification
                ? throw new ArgumentException($"model 'linear' needs regression targets but dataset '{d.Name}' has class labels; use 'logistic'.")
                : LinearLeastSquares.CreateLearner(d.ExampleShape, d.TargetDim, s.Get(Bias)));
}
