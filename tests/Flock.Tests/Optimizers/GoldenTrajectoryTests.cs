using System.Text.Json;
using Flock.Optimizers;
using Flock.Optimizers.Schedules;
using Xunit.Abstractions;

namespace Flock.Tests.Optimizers;

/// <summary>
/// Replays the PyTorch trajectories of bench/reference/optimizers_golden.py: same start, same
/// deterministic gradient function, same hyper-parameters; every iterate must match (bit for bit
/// where the script marks the configuration exact).
/// </summary>
public sealed class GoldenTrajectoryTests(ITestOutputHelper output)
{
    private const double AbsoluteTolerance = 1e-6, RelativeTolerance = 1e-5;

    private static readonly Lazy<JsonDocument> Golden = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "optimizers", "optimizers_golden.json"))));

    /// <summary>The configurations of the script, with the same hyper-parameters.</summary>
    private static (IOptimizer Optimizer, ILearningRateSchedule? Schedule) Make(string name) => name switch
    {
        "sgd" => (new Sgd(0.05f), null),
        "sgd_wd" => (new Sgd(0.05f, weightDecay: 0.1f), null),
        "momentum" => (new MomentumSgd(0.02f, 0.9f), null),
        "nesterov" => (new MomentumSgd(0.02f, 0.9f, nesterov: true), null),
        "dampening" => (new MomentumSgd(0.02f, 0.9f, dampening: 0.5f, weightDecay: 0.01f), null),
        "adam" => (new Adam(0.05f), null),
        "adam_wd" => (new Adam(0.05f, weightDecay: 0.1f), null),
        "amsgrad" => (new Adam(0.05f, beta1: 0.9f, beta2: 0.9f, amsgrad: true), null),
        "adamw" => (new AdamW(0.05f, weightDecay: 0.1f), null),
        "adamw_amsgrad" => (new AdamW(0.05f, 0.8f, 0.99f, 1e-6f, 0.2f, amsgrad: true), null),
        "adam_f32" => (new Adam(0.05f, weightDecay: 0.1f), null),
        "adamw_amsgrad_f32" => (new AdamW(0.05f, 0.8f, 0.99f, 1e-6f, 0.2f, amsgrad: true), null),
        "clip_sgd" => (new GradientNormClipping(new Sgd(0.1f), 1f), null),
        "clip_momentum" => (new GradientNormClipping(new MomentumSgd(0.05f, 0.9f), 2f), null),
        "sgd_cosine" => (new Sgd(0.1f), new CosineSchedule(20, 0.01f)),
        "momentum_exponential" => (new MomentumSgd(0.03f, 0.9f), new ExponentialSchedule(0.9f)),
        "adamw_step" => (new AdamW(0.05f, weightDecay: 0.1f), new StepDecaySchedule(5, 0.5f)),
        _ => throw new ArgumentException($"Unknown golden configuration '{name}'."),
    };

    private static readonly string[] ConfigNames =
    [
        "sgd", "sgd_wd", "momentum", "nesterov", "dampening", "adam", "adam_wd", "amsgrad", "adamw", "adamw_amsgrad",
        "adam_f32", "adamw_amsgrad_f32", "clip_sgd", "clip_momentum", "sgd_cosine", "momentum_exponential", "adamw_step",
    ];

    public static TheoryData<string> Names => new(ConfigNames);

    /// <summary>g(θ)ᵢ = aᵢ(θᵢ − tᵢ) + 0.125θᵢ³ + 0.5(θᵢ − θᵢ₊₁), in the script's float32 operation order.</summary>
    internal static void Gradient(ReadOnlySpan<float> theta, Span<float> g)
    {
        int n = theta.Length;
        for (int i = 0; i < n; i++)
        {
            float a = 0.5f + 0.25f * (i % 5);
            float t = 0.5f * ((i % 7) - 3);
            float th = theta[i];
            float quad = a * (th - t);
            float cube = 0.125f * th * th * th;
            float coupling = 0.5f * (th - theta[(i + 1) % n]);
            g[i] = (quad + cube) + coupling;
        }
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();

    [Fact]
    public void Golden_file_has_exactly_the_known_configurations_and_the_same_gradient()
    {
        var root = Golden.Value.RootElement;
        var names = root.GetProperty("configs").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(ConfigNames.OrderBy(s => s, StringComparer.Ordinal), names.OrderBy(s => s, StringComparer.Ordinal));
        var theta0 = Floats(root.GetProperty("theta0"));
        Assert.Equal(29, theta0.Length);
        var g = new float[theta0.Length];
        Gradient(theta0, g);
        Assert.Equal(Floats(root.GetProperty("gradient0")), g); // bit-identical gradient function
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Trajectory_matches_pytorch(string name)
    {
        var root = Golden.Value.RootElement;
        var config = root.GetProperty("configs").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        bool exact = config.GetProperty("exact").GetBoolean();
        var (optimizer, schedule) = Make(name);
        var theta = Floats(root.GetProperty("theta0"));
        int n = theta.Length;
        var g = new float[n];
        var state = new float[optimizer.StateLength(n)];
        var torchRates = config.GetProperty("learning_rates").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        double maxAbs = 0, maxRel = 0;
        int step = 0;
        foreach (var expectedJson in config.GetProperty("trajectory").EnumerateArray())
        {
            step++;
            Gradient(theta, g);
            if (schedule is null)
            {
                optimizer.Step(theta, g, state, step);
            }
            else
            {
                float lr = schedule.LearningRate(optimizer.LearningRate, step - 1);
                // Hyper-parameters are floats here (γ = 0.9f), doubles in PyTorch: a few ulps apart.
                Assert.True(Math.Abs(lr - torchRates[step - 1]) <= 1e-6 * torchRates[step - 1], $"{name} step {step}: learning rate {lr} vs PyTorch {torchRates[step - 1]}");
                optimizer.Step(theta, g, state, step, lr);
            }
            var expected = Floats(expectedJson);
            if (exact) Assert.Equal(expected, theta); // same float hyper-parameters, same operations ⇒ same bits
            for (int i = 0; i < n; i++)
            {
                double diff = Math.Abs((double)theta[i] - expected[i]);
                maxAbs = Math.Max(maxAbs, diff);
                maxRel = Math.Max(maxRel, diff / Math.Max(Math.Abs((double)expected[i]), 1e-3));
                Assert.True(diff <= AbsoluteTolerance + RelativeTolerance * Math.Abs(expected[i]),
                    $"{name} step {step} θ[{i}] = {theta[i]:R}, PyTorch {expected[i]:R} (|Δ| = {diff:G3})");
            }
        }
        Assert.Equal(20, step);
        output.WriteLine($"{name}{(exact ? " (bit-exact)" : "")}: max |Δ| = {maxAbs:G3}, max relative Δ = {maxRel:G3} over {step} steps");
    }
}
