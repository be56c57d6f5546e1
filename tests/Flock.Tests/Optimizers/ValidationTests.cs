using Flock.Optimizers;
using Flock.Optimizers.Schedules;

namespace Flock.Tests.Optimizers;

/// <summary>Every hyper-parameter is validated with the bad value in the message.</summary>
public sealed class ValidationTests
{
    private static void Throws<T>(Action act, string messageStart) where T : Exception
    {
        var ex = Assert.Throws<T>(act);
        Assert.StartsWith(messageStart, ex.Message);
    }

    [Fact]
    public void Learning_rate()
    {
        Throws<ArgumentOutOfRangeException>(() => new Sgd(-0.1f), "Invalid learning rate: -0.1; must be a finite value ≥ 0.");
        Throws<ArgumentOutOfRangeException>(() => new Sgd(float.NaN), "Invalid learning rate: NaN;");
        Throws<ArgumentOutOfRangeException>(() => new MomentumSgd(float.PositiveInfinity), "Invalid learning rate: Infinity;");
        Throws<ArgumentOutOfRangeException>(() => new Adam(-1f), "Invalid learning rate: -1;");
        Throws<ArgumentOutOfRangeException>(() => new AdamW(-0.5f), "Invalid learning rate: -0.5;");
        _ = new Sgd(0f); // zero is allowed (frozen model)
    }

    [Fact]
    public void Weight_decay()
    {
        Throws<ArgumentOutOfRangeException>(() => new Sgd(0.1f, -1f), "Invalid weight decay: -1; must be a finite value ≥ 0.");
        Throws<ArgumentOutOfRangeException>(() => new MomentumSgd(weightDecay: -0.01f), "Invalid weight decay: -0.01;");
        Throws<ArgumentOutOfRangeException>(() => new Adam(weightDecay: float.NaN), "Invalid weight decay: NaN;");
        Throws<ArgumentOutOfRangeException>(() => new AdamW(weightDecay: float.PositiveInfinity), "Invalid weight decay: Infinity;");
    }

    [Fact]
    public void Momentum_dampening_nesterov()
    {
        Throws<ArgumentOutOfRangeException>(() => new MomentumSgd(momentum: 1f), "Invalid momentum: 1; must be in [0, 1).");
        Throws<ArgumentOutOfRangeException>(() => new MomentumSgd(momentum: -0.1f), "Invalid momentum: -0.1; must be in [0, 1).");
        Throws<ArgumentOutOfRangeException>(() => new MomentumSgd(dampening: 1.5f), "Invalid dampening: 1.5; must be in [0, 1].");
        Throws<ArgumentException>(() => new MomentumSgd(momentum: 0.9f, dampening: 0.1f, nesterov: true),
            "Nesterov momentum requires a momentum > 0 and zero dampening; got momentum 0.9, dampening 0.1.");
        Throws<ArgumentException>(() => new MomentumSgd(momentum: 0f, nesterov: true), "Nesterov momentum requires a momentum > 0");
        _ = new MomentumSgd(dampening: 1f);
    }

    [Fact]
    public void Betas_and_epsilon()
    {
        Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1f), "Invalid beta1: 1; must be in [0, 1).");
        Throws<ArgumentOutOfRangeException>(() => new Adam(beta2: -0.1f), "Invalid beta2: -0.1; must be in [0, 1).");
        Throws<ArgumentOutOfRangeException>(() => new AdamW(beta2: 1.5f), "Invalid beta2: 1.5; must be in [0, 1).");
        Throws<ArgumentOutOfRangeException>(() => new AdamW(beta1: float.NaN), "Invalid beta1: NaN;");
        Throws<ArgumentOutOfRangeException>(() => new Adam(epsilon: -1e-8f), "Invalid epsilon: -1E-08; must be a finite value ≥ 0.");
        _ = new Adam(beta1: 0f, beta2: 0f, epsilon: 0f);
    }

    [Fact]
    public void Clipping()
    {
        Throws<ArgumentOutOfRangeException>(() => new GradientNormClipping(new Sgd(), 0f), "Invalid max norm: 0; must be a finite value > 0.");
        Throws<ArgumentOutOfRangeException>(() => new GradientNormClipping(new Sgd(), -1f), "Invalid max norm: -1;");
        Assert.Throws<ArgumentNullException>(() => new GradientNormClipping(null!, 1f));
    }

    public static TheoryData<string> AllOptimizers => ["sgd", "momentum", "adam", "amsgrad", "adamw", "clip"];

    internal static IOptimizer Create(string name) => name switch
    {
        "sgd" => new Sgd(0.1f, 0.01f),
        "momentum" => new MomentumSgd(0.1f, 0.9f, weightDecay: 0.01f),
        "nesterov" => new MomentumSgd(0.1f, 0.9f, nesterov: true),
        "adam" => new Adam(0.01f, weightDecay: 0.01f),
        "amsgrad" => new Adam(0.01f, amsgrad: true),
        "adamw" => new AdamW(0.01f),
        "clip" => new GradientNormClipping(new Adam(0.01f), 0.5f),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(AllOptimizers))]
    public void Step_arguments(string name)
    {
        var opt = Create(name);
        int sl = opt.StateLength(3);
        var p = new float[3];
        var s = new float[sl];
        Throws<ArgumentException>(() => opt.Step(p, new float[2], s, 1), "Gradient length 2 differs from parameter length 3.");
        Throws<ArgumentException>(() => opt.Step(p, new float[3], new float[sl + 1], 1), $"State length {sl + 1} differs from the {sl} floats");
        Throws<ArgumentOutOfRangeException>(() => opt.Step(p, new float[3], s, 0), "Invalid step: 0; steps are 1-based (must be ≥ 1).");
        Throws<ArgumentOutOfRangeException>(() => opt.Step(p, new float[3], s, 1, -0.1f), "Invalid learning rate: -0.1;");
        Throws<ArgumentOutOfRangeException>(() => opt.Step(p, new float[3], s, 1, float.NaN), "Invalid learning rate: NaN;");
        Throws<ArgumentOutOfRangeException>(() => opt.StateLength(-1), "Invalid parameter count: -1;");
        Assert.Equal(new float[3], p); // nothing was applied by the failed calls
    }

    [Fact]
    public void Kernel_lengths()
    {
        Throws<ArgumentException>(() => Sgd.Update(new float[3], new float[4], 0.1f, 0f), "The gradient has 4 elements but the parameters have 3.");
        Throws<ArgumentException>(() => MomentumSgd.Update(new float[3], new float[3], new float[2], 1, 0.1f, 0.9f, 0f, false, 0f), "The momentum buffer has 2 elements");
        Throws<ArgumentException>(() => Adam.Update(new float[3], new float[3], new float[3], new float[3], new float[1], 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0f, false), "The AMSGrad maximum has 1 elements");
        Throws<ArgumentOutOfRangeException>(() => Adam.Update(new float[3], new float[3], new float[3], new float[3], default, 0, 0.1f, 0.9f, 0.999f, 1e-8f, 0f, false), "Invalid step: 0;");
    }

    [Fact]
    public void Schedules()
    {
        Throws<ArgumentOutOfRangeException>(() => new StepDecaySchedule(0), "Invalid step size: 0; must be ≥ 1 round.");
        Throws<ArgumentOutOfRangeException>(() => new StepDecaySchedule(5, 0f), "Invalid gamma: 0; must be in (0, 1].");
        Throws<ArgumentOutOfRangeException>(() => new ExponentialSchedule(1.5f), "Invalid gamma: 1.5; must be in (0, 1].");
        Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0), "Invalid total rounds: 0; must be ≥ 1.");
        Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(10, -0.1f), "Invalid minimum learning rate: -0.1;");
        Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule().LearningRate(0.1f, -1), "Invalid round: -1; rounds are 0-based (must be ≥ 0).");
        Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(10).LearningRate(0.1f, -1), "Invalid round: -1;");
    }
}
