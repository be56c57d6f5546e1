using Flock.Optimizers;
using Flock.Optimizers.Schedules;

namespace Flock.Tests.Optimizers;

public sealed class ScheduleAndDescriptionTests
{
    [Fact]
    public void Constant()
    {
        Assert.Equal(0.1f, new ConstantSchedule().LearningRate(0.1f, 0));
        Assert.Equal(0.1f, new ConstantSchedule().LearningRate(0.1f, 1000));
    }

    [Fact]
    public void Step_decay()
    {
        // η·γ^⌊r/3⌋ with η = 0.1, γ = 0.5: rounds 0–2 → 0.1, 3–5 → 0.05, 6 → 0.025
        var s = new StepDecaySchedule(3, 0.5f);
        Assert.Equal(0.1f, s.LearningRate(0.1f, 0));
        Assert.Equal(0.1f, s.LearningRate(0.1f, 2));
        Assert.Equal(0.05f, s.LearningRate(0.1f, 3), 1e-8f);
        Assert.Equal(0.05f, s.LearningRate(0.1f, 5), 1e-8f);
        Assert.Equal(0.025f, s.LearningRate(0.1f, 6), 1e-8f);
    }

    [Fact]
    public void Exponential()
    {
        // 0.1·0.5³ = 0.0125
        var s = new ExponentialSchedule(0.5f);
        Assert.Equal(0.1f, s.LearningRate(0.1f, 0));
        Assert.Equal(0.0125f, s.LearningRate(0.1f, 3), 1e-9f);
    }

    [Fact]
    public void Cosine()
    {
        // η_min + (η − η_min)(1 + cos(πr/T))/2 with η = 1, η_min = 0, T = 4:
        //   r = 0 → 1; r = 1 → (1 + √2/2)/2 = 0.8535534; r = 2 → 0.5; r = 4 → 0; beyond T it stays at η_min.
        var s = new CosineSchedule(4);
        Assert.Equal(1f, s.LearningRate(1f, 0));
        Assert.Equal(0.8535534f, s.LearningRate(1f, 1), 1e-7f);
        Assert.Equal(0.5f, s.LearningRate(1f, 2), 1e-7f);
        Assert.Equal(0f, s.LearningRate(1f, 4), 1e-7f);
        Assert.Equal(0f, s.LearningRate(1f, 10));
        // η_min = 0.1, T = 2, r = 1: 0.1 + 0.9·0.5 = 0.55
        Assert.Equal(0.55f, new CosineSchedule(2, 0.1f).LearningRate(1f, 1), 1e-7f);
        Assert.Equal(0.1f, new CosineSchedule(2, 0.1f).LearningRate(1f, 5));
    }

    public static TheoryData<string> Infos => ["sgd", "momentum", "adam", "adamw", "clip-grad-norm", "constant", "step", "exponential", "cosine"];

    private static OptimizerInfo Info(string name) => name switch
    {
        "sgd" => Sgd.Describe(),
        "momentum" => MomentumSgd.Describe(),
        "adam" => Adam.Describe(),
        "adamw" => AdamW.Describe(),
        "clip-grad-norm" => GradientNormClipping.Describe(),
        "constant" => ConstantSchedule.Describe(),
        "step" => StepDecaySchedule.Describe(),
        "exponential" => ExponentialSchedule.Describe(),
        _ => CosineSchedule.Describe(),
    };

    [Theory]
    [MemberData(nameof(Infos))]
    public void Describe_lists_defaults_with_docs(string name)
    {
        var info = Info(name);
        Assert.Equal(name, info.Name);
        Assert.False(string.IsNullOrWhiteSpace(info.Paper));
        Assert.Equal(info.HyperParameters.Count, info.HyperParameters.Select(h => h.Name).Distinct().Count());
        foreach (var h in info.HyperParameters)
        {
            Assert.Equal(h.Default, h.Value);
            Assert.Matches("^[a-z0-9_]+$", h.Name);
            Assert.False(string.IsNullOrWhiteSpace(h.Description));
        }
    }

    [Fact]
    public void Instances_report_their_values_and_names()
    {
        var adam = new Adam(0.05f, beta2: 0.99f, amsgrad: true);
        Assert.Equal("adam", adam.Name);
        var hp = adam.HyperParameters.ToDictionary(h => h.Name);
        Assert.Equal(0.05f, hp["learning_rate"].Value);
        Assert.Equal(1e-3f, hp["learning_rate"].Default);
        Assert.Equal(0.99f, hp["beta2"].Value);
        Assert.Equal(true, hp["amsgrad"].Value);
        Assert.Equal(0f, hp["weight_decay"].Default);
        Assert.Equal(0.01f, new AdamW().HyperParameters.Single(h => h.Name == "weight_decay").Default);
        Assert.Equal("learning_rate = 0.05 (default 0.001): Learning rate η; finite, ≥ 0.", hp["learning_rate"].ToString());

        var clipped = new GradientNormClipping(new MomentumSgd(0.2f, nesterov: true), 2f);
        Assert.Equal("momentum", clipped.Name);
        Assert.Equal(0.2f, clipped.LearningRate);
        Assert.Equal(["learning_rate", "momentum", "dampening", "nesterov", "weight_decay", "max_norm"], clipped.HyperParameters.Select(h => h.Name));
        Assert.Equal(2f, clipped.HyperParameters[^1].Value);
        Assert.Equal(["total_rounds", "min_learning_rate"], new CosineSchedule(50, 0.001f).HyperParameters.Select(h => h.Name));
    }
}
