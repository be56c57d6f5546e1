using Flock.Aggregation;
using Flock.Attacks;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Xunit.Abstractions;
using static Flock.Tests.Protocols.Robust.RobustTestSupport;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.Robust;

public class MonnaTests(ITestOutputHelper output)
{
    private const ulong Seed = 9;

    private static ReadOnlyMemory<float>[] V(params float[][] xs) => xs.Select(x => (ReadOnlyMemory<float>)x).ToArray();

    private static (int[] Kept, float[] Average) Nna(ReadOnlyMemory<float>[] xs, int centre, int f)
    {
        var kept = new int[xs.Length];
        int k = NearestNeighborAveraging.Select(xs, centre, f, kept);
        var avg = new float[xs[0].Length];
        NearestNeighborAveraging.Average(xs, centre, f, avg);
        return (kept[..k], avg);
    }

    [Fact]
    public void Nearest_neighbour_averaging_keeps_the_count_minus_f_nearest_to_the_centre()
    {
        // Distances from x0 = (0,0): x1 = 1, x2 = 2, x3 = √200 ≈ 14.1. From x3 = (10,10): x2 = √164 ≈ 12.8, x1 = √181 ≈ 13.5, x0 ≈ 14.1.
        var xs = V([0, 0], [1, 0], [0, 2], [10, 10]);
        var (kept, avg) = Nna(xs, 0, 1);
        Assert.Equal(new[] { 0, 1, 2 }, kept);
        Assert.Equal(1f / 3, avg[0], 6);
        Assert.Equal(2f / 3, avg[1], 6);

        (kept, avg) = Nna(xs, 0, 2);
        Assert.Equal(new[] { 0, 1 }, kept);
        Assert.Equal(new[] { 0.5f, 0f }, avg);

        (kept, avg) = Nna(xs, 0, 0);
        Assert.Equal(new[] { 0, 1, 2, 3 }, kept);
        Assert.Equal(new[] { 2.75f, 3f }, avg);

        (kept, avg) = Nna(xs, 3, 2); // centred on the outlier: itself and its nearest, x2
        Assert.Equal(new[] { 2, 3 }, kept);
        Assert.Equal(new[] { 5f, 6f }, avg);

        (kept, avg) = Nna(xs, 1, 1); // from x1: x0 = 1, x2 = √5, x3 = √181
        Assert.Equal(new[] { 0, 1, 2 }, kept);

        (kept, avg) = Nna(xs, 2, 5); // f ≥ n: only the centre
        Assert.Equal(new[] { 2 }, kept);
        Assert.Equal(new[] { 0f, 2f }, avg);

        // Equal distances: the lower index wins.
        (kept, _) = Nna(V([0, 0], [0, 1], [1, 0], [5, 5]), 0, 2);
        Assert.Equal(new[] { 0, 1 }, kept);
        (kept, _) = Nna(V([3, 3], [0, 1], [1, 0], [3, 3]), 3, 2);
        Assert.Equal(new[] { 0, 3 }, kept);

        // As an IAggregator the centre is input 0 and weights are ignored.
        var output = new float[2];
        new NearestNeighborAveraging(2).Aggregate(xs, [1f, 100f, 1f, 1f], output);
        Assert.Equal(new[] { 0.5f, 0f }, output);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NearestNeighborAveraging(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => NearestNeighborAveraging.Average(xs, 4, 1, output));
        Assert.Throws<ArgumentException>(() => NearestNeighborAveraging.Average(V([0, 0], [1]), 0, 1, output));
    }

    [Fact]
    public void Momentum_kernel_matches_hand_computation()
    {
        // β = 0.9, γ = 0.1, λ = 0.01. Step 1: d = g + λθ = (0.51, 0.98); m = 0.1·d = (0.051, 0.098); θ = θ − 0.1·m.
        var opt = new MonnaMomentum(0.1f, 0.9f, 0.01f);
        Assert.Equal(2, opt.StateLength(2));
        float[] theta = [1f, -2f], m = new float[2];
        opt.Step(theta, new float[] { 0.5f, 1f }, m, 1);
        Assert.Equal(0.051f, m[0], 1e-6f);
        Assert.Equal(0.098f, m[1], 1e-6f);
        Assert.Equal(0.9949f, theta[0], 1e-6f);
        Assert.Equal(-2.0098f, theta[1], 1e-6f);
        // Step 2 with g = 0: d = λθ = (0.009949, −0.020098); m = 0.9·m + 0.1·d.
        opt.Step(theta, new float[2], m, 2);
        Assert.Equal(0.0468949f, m[0], 1e-6f);
        Assert.Equal(0.0861902f, m[1], 1e-6f);
        Assert.Equal(0.99021051f, theta[0], 1e-6f);
        Assert.Equal(-2.01841902f, theta[1], 1e-6f);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MonnaMomentum(momentum: 1f));
    }

    [Fact]
    public void Without_attackers_and_f_0_monna_equals_uniform_dsgd_with_the_same_momentum()
    {
        const int n = 4, rounds = 3;
        var learner = TinyMlp(Dim, Classes);
        var (parts, _) = Task(n, 20);
        var (nb, _, _) = Complete(n, 1.0 / n);
        var monna = Monna.CreateNodes(learner, parts, nb, new MonnaOptions { LearningRate = 0.1f, LocalSteps = 2, BatchSize = 5, Rounds = rounds, F = 0 }, Seed);
        var dsgd = DSgd.CreateNodes(learner, new MonnaMomentum(0.1f), parts, nb, new DSgdOptions { LocalSteps = 2, BatchSize = 5, Rounds = rounds }, Seed);
        var sim = new SimulationOptions { Seed = Seed, MaxRounds = rounds, Compute = new ComputeModel(0.01, SpeedDistribution.Uniform(1, 2)) };
        new Simulator(monna, sim).Run();
        new Simulator(dsgd, sim).Run();
        Assert.NotEqual(Flock.Protocols.LocalModel.InitialParameters(learner, Seed), ((DSgdNode)monna[0]).Model.Parameters);
        for (int i = 0; i < n; i++)
        {
            var a = ((DSgdNode)monna[i]).Model;
            var b = ((DSgdNode)dsgd[i]).Model;
            Assert.Equal(rounds, ((DSgdNode)monna[i]).CurrentRound);
            Assert.Equal(b.Parameters, a.Parameters);
            Assert.Equal(b.OptimizerState, a.OptimizerState); // the momentum buffer lives in the node's optimizer state
            Assert.Equal(2 * rounds, a.Step);
        }
    }

    [Fact]
    public void Honest_nodes_discard_a_distant_byzantine_model()
    {
        const int n = 4, byz = 3;
        var learner = TinyMlp(Dim, Classes);
        var (parts, _) = Task(n, 20);
        var (nb, _, _) = Complete(n, 1.0 / n);
        var options = new MonnaOptions
        {
            LearningRate = 0.1f, LocalSteps = 2, BatchSize = 5, Rounds = 1,
            Byzantine = new ByzantineSetup { Nodes = [byz], Attack = new GaussianAttack(std: 100f) },
        };
        Assert.Equal(1, options.EffectiveF);
        var nodes = Monna.CreateNodes(learner, parts, nb, options, Seed);
        new Simulator(nodes, new SimulationOptions { Seed = Seed, MaxRounds = 1 }).Run();
        var trained = new float[n][];
        for (int i = 0; i < n; i++)
        {
            trained[i] = Flock.Protocols.LocalModel.InitialParameters(learner, Seed);
            var state = new float[trained[i].Length];
            long step = 0;
            LocalTrain(learner, new MonnaMomentum(0.1f), trained[i], state, ref step, parts[i], 2, 5, Seed, i, 1);
        }
        for (int i = 0; i < byz; i++)
        {
            var x = ((DSgdNode)nodes[i]).Model.Parameters;
            for (int j = 0; j < x.Length; j++) Assert.Equal((trained[0][j] + trained[1][j] + trained[2][j]) / 3, x[j], 5);
        }
    }

    [Fact]
    public void Monna_stays_near_clean_dsgd_under_sign_flipping_and_alie()
    {
        const int n = 10, rounds = 25;
        var learner = TinyMlp(Dim, Classes);
        var (parts, test) = Task(n, 30);
        var (nb, _, _) = Complete(n, 1.0 / n);
        var sim = new SimulationOptions { Seed = Seed, MaxRounds = rounds, Compute = new ComputeModel(0.01, SpeedDistribution.Uniform(1, 2)) };
        int[] byz = [1, 6];
        var honest = Enumerable.Range(0, n).Except(byz).ToArray();
        var clean = Monna.CreateNodes(learner, parts, nb, new MonnaOptions { LearningRate = 0.1f, BatchSize = 8, Rounds = rounds, F = 0 }, Seed);
        new Simulator(clean, sim).Run();
        double cleanMin = HonestModels(clean, honest).Min(m => Accuracy(learner, m, test));
        output.WriteLine($"clean: {cleanMin:F3}");
        foreach (IModelAttack attack in new IModelAttack[] { new SignFlipping(), new ALittleIsEnough(), new ALittleIsEnough(z: 3f), new OptimalALittleIsEnough() })
        {
            var nodes = Monna.CreateNodes(learner, parts, nb, new MonnaOptions
            {
                LearningRate = 0.1f, BatchSize = 8, Rounds = rounds,
                Byzantine = new ByzantineSetup { Nodes = byz, Attack = attack },
            }, Seed);
            new Simulator(nodes, sim).Run();
            double min = HonestModels(nodes, honest).Min(m => Accuracy(learner, m, test));
            output.WriteLine($"{attack.Name}: worst honest {min:F3}");
            Assert.True(min >= cleanMin - 0.05, $"{attack.Name}: worst honest accuracy {min} vs clean {cleanMin}");
        }
    }
}
