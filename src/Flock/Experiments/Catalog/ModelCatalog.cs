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
        .Add("logistic", "Multinomial logistic regression (convex), zero init.", "standard", new Param[] { Bias },
            (s, d) => LogisticRegression.CreateLearner(d.ExampleShape, Classes(d, "logistic"), s.Get(Bias)))
        .Add("linear", "Linear least squares (convex), zero init, MSE loss.", "standard", new Param[] { Bias },
            (s, d) => d.IsClassification
                ? throw new ArgumentException($"model 'linear' needs regression targets but dataset '{d.Name}' has class labels; use 'logistic'.")
                : LinearLeastSquares.CreateLearner(d.ExampleShape, d.TargetDim, s.Get(Bias)));
}
