using Flock.Compression;
using Flock.Data;
using Flock.Data.Synthetic;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using Flock.Tests.Runtime;
using static Flock.Tests.Protocols.Compression.CompressionProtocolSupport;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.Compression;

public class OneByteSpsaTests
{
    private const int Dim = 5, Classes = 3;

    [Fact]
    public void Quantizer_clips_rounds_stochastically_and_is_unbiased_inside_the_range()
    {
        Assert.Equal(127, OneByteSpsa.Quantize(25, 10f, 0.5f));
        Assert.Equal(-127, OneByteSpsa.Quantize(-25, 10f, 0.5f));
        Assert.Equal(127, OneByteSpsa.Quantize(double.PositiveInfinity, 10f, 0.99f));
        Assert.Equal(0, OneByteSpsa.Quantize(double.NaN, 10f, 0.1f));
        Assert.Equal(0, OneByteSpsa.Quantize(0, 10f, 0.999f));
        // 1.0 is 12.7 levels of 10/127: rounds up to 13 iff u < 0.7.
        Assert.Equal(13, OneByteSpsa.Quantize(1.0, 10f, 0.69f));
        Assert.Equal(12, OneByteSpsa.Quantize(1.0, 10f, 0.71f));
        Assert.Equal(10f, OneByteSpsa.Dequantize(127, 10f), 5);
        Assert.Equal(-10f / 127 * 5, OneByteSpsa.Dequantize(-5, 10f), 6);
        foreach (double p in new[] { 0.37, -2.5, 9.99, -0.004 })
        {
            double mean = 0;
            const int n = 10000;
            for (int i = 0; i < n; i++) mean += OneByteSpsa.Dequantize(OneByteSpsa.Quantize(p, 10f, (i + 0.5f) / n), 10f);
            Assert.Equal(p, mean / n, 4);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => OneByteSpsa.Quantize(1, 0f, 0.5f));
    }

    [Fact]
    public void One_step_equals_the_hand_computed_update()
    {
        const ulong seed = 31;
        const int machines = 2, samples = 2, batch = 4;
        const float eps = 0.01f, clip = 10f, lr = 0.05f;
        var problem = LinearRegressionData.Generate(new LinearRegressionOptions { Dimensions = 3, TrainCount = 40, TestCount = 10, Seed = 5, TrueIntercept = 1 });
        var learner = LinearLeastSquares.CreateLearner(new TensorShape(3));
        int d = learner.Layout.Length;
        var data = Split(problem.Train, machines);
        var options = new OneByteSpsaOptions { Samples = samples, BatchSize = batch, Epsilon = eps, Clip = clip, Rounds = 1 };
        var nodes = OneByteSpsa.CreateNodes(learner, new Sgd(lr), data, options, seed);
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed });
        sim.Run();

        var theta = LocalModel.InitialParameters(learner, seed);
        var g = new double[d];
        for (int m = 0; m < machines; m++)
        {
            var sampler = new MinibatchSampler(data[m].Count, Rng.Derive(seed, (ulong)m, 1, "batches"));
            var rounding = Rng.Derive(seed, (ulong)m, 1, "one-byte/rounding");
            var pos = new int[batch];
            for (int s = 0; s < samples; s++)
            {
                sampler.Next(pos);
                var z = new float[d];
                FastGaussian.Fill(OneByteSpsa.PerturbationSeed(seed, m, 1, s), z);
                var plus = theta.Select((t, j) => t + eps * z[j]).ToArray();
                var minus = theta.Select((t, j) => t + -eps * z[j]).ToArray();
                float lp = learner.Loss(plus, data[m], pos), lm = learner.Loss(minus, data[m], pos);
                float p = (float)(((double)lp - lm) / (2.0 * eps));
                if (m == 0) Assert.Equal(p, ((OneByteSpsaNode)nodes[0]).LastProjections[s]);
                float u = rounding.NextFloat();
                double x = Math.Clamp(p, -clip, clip) / clip * 127;
                double q = (Math.Floor(x) + (u < x - Math.Floor(x) ? 1 : 0)) * clip / 127;
                for (int j = 0; j < d; j++) g[j] += q * z[j] / (machines * samples);
            }
        }
        for (int m = 0; m < machines; m++)
        {
            var got = ((OneByteSpsaNode)nodes[m]).Model.Parameters;
            for (int j = 0; j < d; j++) Assert.Equal(theta[j] - lr * g[j], got[j], 5);
            Assert.True(got.AsSpan().SequenceEqual(((OneByteSpsaNode)nodes[0]).Model.Parameters));
        }
        Assert.True(g.Any(v => Math.Abs(v) > 1e-3), "the step must move the model");
        // Every machine sent its two bytes to the other one.
        Assert.Equal(machines * (machines - 1) * (Message.HeaderBytes + samples), sim.BytesSent);
    }

    [Fact]
    public void All_machines_hold_identical_parameters_after_every_step()
    {
        const ulong seed = 4;
        const int n = 4, rounds = 6, samples = 3;
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(n * 20 + 60, Dim, Classes, 3);
        var data = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range(i * 20, 20).ToArray())).ToArray();
        var nodes = OneByteSpsa.CreateNodes(learner, new Sgd(0.05f), data, new OneByteSpsaOptions { Samples = samples, BatchSize = 8, Rounds = rounds }, seed);
        var sim = new Simulator(nodes, new SimulationOptions
        {
            Seed = seed,
            Compute = new ComputeModel(0.01, SpeedDistribution.Uniform(1, 3)),
            Link = new LinkModel(0.02, 1e5),
            Metrics = new MetricsOptions { EveryRounds = 1, Learner = learner, TestSet = new DatasetView(all, Enumerable.Range(n * 20, 60).ToArray()) },
        });
        var rows = RunRows(sim);
        Assert.Equal(rounds + 1, rows.Count);
        Assert.All(rows, r => { Assert.Equal(n, r.EvaluatedNodes); Assert.Equal(0, r.ConsensusDistance); });
        var first = ((OneByteSpsaNode)nodes[0]).Model.Parameters;
        Assert.False(first.AsSpan().SequenceEqual(LocalModel.InitialParameters(learner, seed)));
        for (int i = 1; i < n; i++) Assert.True(((OneByteSpsaNode)nodes[i]).Model.Parameters.AsSpan().SequenceEqual(first));
        Assert.Equal(rounds * n * (n - 1) * (Message.HeaderBytes + samples), sim.BytesSent);
        Assert.Equal(rounds * (n - 1) * (Message.HeaderBytes + samples), sim.BytesSentBy(2));
        Assert.All(nodes, b => Assert.Equal(rounds, ((OneByteSpsaNode)b).Model.Step));  // one optimizer step per round
    }

    [Fact]
    public void Loss_decreases_on_a_convex_task()
    {
        const ulong seed = 12;
        const int n = 4;
        var problem = LinearRegressionData.Generate(new LinearRegressionOptions { Dimensions = 5, TrainCount = 400, TestCount = 200, NoiseStd = 0.05, Seed = 8 });
        var learner = LinearLeastSquares.CreateLearner(new TensorShape(5));
        var nodes = OneByteSpsa.CreateNodes(learner, new Sgd(0.02f), Split(problem.Train, n), new OneByteSpsaOptions { Samples = 4, BatchSize = 16 }, seed);
        var sim = new Simulator(nodes, new SimulationOptions
        {
            Seed = seed, MaxRounds = 300,
            Metrics = new MetricsOptions { EveryRounds = 100, Learner = learner, TestSet = problem.Test.All() },
        });
        var rows = RunRows(sim);
        // From 6.2 to the noise floor (label noise variance 0.0025) within 100 steps.
        Assert.True(rows[1].LossMean < 0.01 * rows[0].LossMean, $"test loss {rows[0].LossMean} → {rows[1].LossMean}");
        Assert.True(rows[^1].LossMean < 0.004, $"final test loss {rows[^1].LossMean}");
    }

    [Fact]
    public void Malformed_bytes_are_rejected_and_the_others_continue_after_the_timeout()
    {
        const ulong seed = 9;
        const int n = 4;
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(80, Dim, Classes, 2), n);
        var nodes = OneByteSpsa.CreateNodes(learner, new Sgd(0.05f), data, new OneByteSpsaOptions { Samples = 2, BatchSize = 4, Rounds = 3, RoundTimeout = 0.5 }, seed);
        nodes[3] = new ProbeBehavior
        {
            Received = (ctx, from, m) => ctx.Send(from, new Message(OneByteSpsa.ProjectionKind, m.Round, data: m.Round == 1 ? new byte[] { 1 } : new byte[] { 0x80, 3 })),
        };
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, Link = new LinkModel(0.01) });
        sim.Run();
        var a = (OneByteSpsaNode)nodes[0];
        Assert.Equal(3, a.CurrentRound);
        Assert.Equal(3, a.RejectedCount);
        Assert.Contains("expected one per sample", a.Rejections[0].Reason);
        Assert.Contains("-128", a.Rejections[1].Reason);
        for (int i = 1; i < 3; i++) Assert.True(((OneByteSpsaNode)nodes[i]).Model.Parameters.AsSpan().SequenceEqual(a.Model.Parameters));
    }

    private static (INodeBehavior[], SimulationOptions) Scenario(ulong seed)
    {
        const int n = 5;
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(n * 20 + 60, Dim, Classes, 3);
        var data = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range(i * 20, 20).ToArray())).ToArray();
        var nodes = OneByteSpsa.CreateNodes(learner, new MomentumSgd(0.05f, 0.9f), data, new OneByteSpsaOptions { Samples = 2, BatchSize = 8 }, seed);
        var options = new SimulationOptions
        {
            Seed = seed,
            MaxRounds = 8,
            Compute = new ComputeModel(0.01, SpeedDistribution.LogNormal(0, 0.5)),
            Link = new LinkModel(0.05, 1e4),
            Metrics = new MetricsOptions { EveryRounds = 1, Learner = learner, TestSet = new DatasetView(all, Enumerable.Range(n * 20, 60).ToArray()) },
        };
        return (nodes, options);
    }

    [Fact]
    public void Same_seed_same_run_and_checkpoints_resume_exactly()
    {
        var (n1, o1) = Scenario(3);
        var (n2, o2) = Scenario(3);
        var r1 = RunRows(new Simulator(n1, o1));
        AssertRowsEqual(r1, RunRows(new Simulator(n2, o2)));
        var (n3, o3) = Scenario(4);
        Assert.NotEqual(r1[^1].LossMean, RunRows(new Simulator(n3, o3))[^1].LossMean);
        AssertResumeEquals(() => Scenario(3), p => p.Round == 4);
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new OneByteSpsaOptions { Samples = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new OneByteSpsaOptions { Epsilon = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new OneByteSpsaOptions { Clip = float.NaN }.Validate());
        var learner = TinyMlp(Dim, Classes);
        var all = Blobs(20, Dim, Classes, 1);
        Assert.Throws<ArgumentException>(() => OneByteSpsa.CreateNodes(learner, new Sgd(), new[] { all.All(), new DatasetView(all, Array.Empty<int>()) }, new OneByteSpsaOptions(), 1));
    }
}
