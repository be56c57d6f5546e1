using System.Buffers.Binary;
using Flock.Compression;
using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using Flock.Tests.Runtime;
using static Flock.Tests.Protocols.Compression.CompressionProtocolSupport;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.Compression;

public class CompressedFedAvgTests
{
    private const int Dim = 5, Classes = 3;

    [Fact]
    public void Identity_codec_equals_plain_fedavg()
    {
        const ulong seed = 11;
        var learner = TinyMlp(Dim, Classes);
        var sgd = new Sgd(0.1f);
        var all = Blobs(90, Dim, Classes, 2);
        // Unequal sizes exercise the sample-count weights.
        var data = new[] { new DatasetView(all, Enumerable.Range(0, 20).ToArray()), new DatasetView(all, Enumerable.Range(20, 30).ToArray()), new DatasetView(all, Enumerable.Range(50, 40).ToArray()) };
        var plain = FedAvg.CreateNodes(learner, sgd, data, new FedAvgOptions { LocalSteps = 3, BatchSize = 4, Rounds = 4 }, seed);
        var compressed = CompressedFedAvg.CreateNodes(learner, sgd, data, new CompressedFedAvgOptions { LocalSteps = 3, BatchSize = 4, Rounds = 4 }, seed);
        var simA = new Simulator(plain, new SimulationOptions { Seed = seed, MaxRounds = 4 });
        var simB = new Simulator(compressed, new SimulationOptions { Seed = seed, MaxRounds = 4 });
        simA.Run();
        simB.Run();
        var a = ((FedAvgCoordinator)plain[3]).GlobalModel;
        var b = ((CompressedFedAvgCoordinator)compressed[3]).GlobalModel;
        Assert.False(a.SequenceEqual(LocalModel.InitialParameters(learner, seed)), "the model must have moved");
        Assert.True(MaxAbsDiff(a, b) <= 1e-6f, $"max difference {MaxAbsDiff(a, b)}");
        // Identity payload: 6-byte header + 4d; the uplink message adds the 32-byte header and one scalar.
        int d = learner.Layout.Length;
        Assert.Equal(4 * (Message.HeaderBytes + 8 + 6 + 4L * d), simB.BytesSentBy(0));
        Assert.Equal(4 * 3 * (Message.HeaderBytes + 4L * d), simB.BytesSentBy(3));
    }

    [Fact]
    public void Bytes_counted_are_the_encoded_lengths()
    {
        const ulong seed = 5;
        var learner = TinyMlp(Dim, Classes, 16);
        int d = learner.Layout.Length;
        var data = Split(Blobs(60, Dim, Classes, 2), 3);
        var rec = new RecordingCompressor(new ErrorFeedback(new TopK(0.1)));
        var nodes = CompressedFedAvg.CreateNodes(learner, new Sgd(0.1f), data, new CompressedFedAvgOptions { LocalSteps = 2, BatchSize = 4, Uplink = rec, Rounds = 3 }, seed);
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 3 });
        sim.Run();
        var coordinator = (CompressedFedAvgCoordinator)nodes[3];
        long payloadTotal = 0;
        for (int i = 0; i < 3; i++)
        {
            var sent = rec.By(i).ToList();
            Assert.Equal(new long[] { 0, 1, 2 }, sent.Select(e => e.Round));
            long payload = sent.Sum(e => (long)e.Payload.Length);
            Assert.True(payload < 3 * (6 + 4L * d) / 3, $"top-10% payloads of client {i} are {payload} bytes");
            Assert.Equal(3 * (Message.HeaderBytes + 8) + payload, sim.BytesSentBy(i));
            payloadTotal += payload;
        }
        Assert.Equal(payloadTotal, coordinator.UplinkPayloadBytes);
        Assert.Equal(3 * 3 * (Message.HeaderBytes + 4L * d), sim.BytesSentBy(3));
        Assert.Equal(sim.BytesSentBy(3) + Enumerable.Range(0, 3).Sum(i => sim.BytesSentBy(i)), sim.BytesSent);
    }

    [Fact]
    public void With_top_k_and_error_feedback_applied_plus_residuals_equals_the_uncompressed_updates()
    {
        const ulong seed = 9;
        const int rounds = 4;
        var learner = TinyMlp(Dim, Classes, 16);
        int d = learner.Layout.Length;
        var sgd = new Sgd(0.2f);
        var data = Split(Blobs(80, Dim, Classes, 4), 2);
        var rec = new RecordingCompressor(new ErrorFeedback(TopK.WithCount(5)));
        var nodes = CompressedFedAvg.CreateNodes(learner, sgd, data, new CompressedFedAvgOptions { LocalSteps = 3, BatchSize = 4, Uplink = rec }, seed);
        new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = rounds }).Run();
        var init = LocalModel.InitialParameters(learner, seed);
        var global = ((CompressedFedAvgCoordinator)nodes[2]).GlobalModel.ToArray();

        // The recorded inputs are the true updates: round 1 of client 0, recomputed by hand.
        var local = (float[])init.Clone();
        long step = 0;
        LocalTrain(learner, sgd, local, Array.Empty<float>(), ref step, data[0], 3, 4, seed, 0, 1);
        var first = rec.By(0).First();
        for (int j = 0; j < d; j++) Assert.Equal(local[j] - init[j], first.Input[j], 6);

        // θ_R − θ₀ = Σ_r mean_i decoded; Σ_r mean_i Δ = θ_R − θ₀ + mean_i e_i.
        var applied = new double[d];
        var uncompressed = new double[d];
        for (int i = 0; i < 2; i++)
            foreach (var (_, input, payload) in rec.By(i))
            {
                var dec = Decode(payload, d);
                for (int j = 0; j < d; j++) { applied[j] += 0.5 * dec[j]; uncompressed[j] += 0.5 * input[j]; }
            }
        var e0 = ((CompressedFedAvgClient)nodes[0]).CompressorState[..d].ToArray();
        var e1 = ((CompressedFedAvgClient)nodes[1]).CompressorState[..d].ToArray();
        Assert.True(e0.Any(v => v != 0), "top-5 of the update must leave a residual");
        for (int j = 0; j < d; j++)
        {
            Assert.Equal(applied[j], global[j] - init[j], 5);
            Assert.Equal(uncompressed[j], global[j] - init[j] + 0.5 * (e0[j] + e1[j]), 5);
        }
    }

    private static ProbeBehavior BadClient(Func<long, Message> reply) =>
        new() { Received = (ctx, from, m) => ctx.Send(from, reply(m.Round)) };

    [Fact]
    public void Malformed_replies_are_rejected_and_the_round_continues_with_the_others()
    {
        const ulong seed = 21;
        var learner = TinyMlp(Dim, Classes);
        int d = learner.Layout.Length;
        var sgd = new Sgd(0.1f);
        var data = Split(Blobs(60, Dim, Classes, 2), 3);
        var nodes = CompressedFedAvg.CreateNodes(learner, sgd, data, new CompressedFedAvgOptions { LocalSteps = 2, BatchSize = 4, MinReplies = 2 }, seed);
        var good = new Identity().EncodeToArray(new float[d], default(CompressionContext));
        nodes[2] = BadClient(round => round switch
        {
            1 => new Message(CompressedFedAvg.UpdateKind, round, scalars: new double[] { 20 }, data: good[..^3]),                       // truncated
            2 => new Message(CompressedFedAvg.UpdateKind, round, scalars: new double[] { 20 }, data: TopK.WithCount(1).EncodeToArray(new float[d], default(CompressionContext))), // wrong codec
            _ => new Message(CompressedFedAvg.UpdateKind, round, scalars: new double[] { double.NaN }, data: good),                   // bad sample count
        });
        var coordinator = (CompressedFedAvgCoordinator)nodes[3];
        var seen = new List<RejectedMessage>();
        coordinator.MessageRejected += seen.Add;
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 3 });
        float[]? afterRound1 = null;
        sim.Progress += p => { if (p.Round == 1) afterRound1 = coordinator.GlobalModel.ToArray(); };
        sim.Run();

        // Round 1: the global model is the mean of the two honest clients' models.
        var init = LocalModel.InitialParameters(learner, seed);
        var t0 = (float[])init.Clone();
        var t1 = (float[])init.Clone();
        long s0 = 0, s1 = 0;
        LocalTrain(learner, sgd, t0, Array.Empty<float>(), ref s0, data[0], 2, 4, seed, 0, 1);
        LocalTrain(learner, sgd, t1, Array.Empty<float>(), ref s1, data[1], 2, 4, seed, 1, 1);
        Assert.NotNull(afterRound1);
        for (int j = 0; j < d; j++) Assert.Equal((t0[j] + t1[j]) / 2, afterRound1[j], 6);
        Assert.Equal(0, sim.FailedRounds);
        Assert.Equal(3, coordinator.RejectedCount);
        Assert.Equal(new[] { 1L, 2, 3 }, coordinator.Rejections.Select(r => r.Round));
        Assert.All(coordinator.Rejections, r => Assert.Equal(2, r.From));
        Assert.Contains("truncated", coordinator.Rejections[0].Reason);
        Assert.Contains("codec id", coordinator.Rejections[1].Reason);
        Assert.Contains("sample count", coordinator.Rejections[2].Reason);
        Assert.Equal(coordinator.Rejections, seen);
    }

    [Fact]
    public void Too_few_decodable_replies_fail_the_round()
    {
        const ulong seed = 21;
        var learner = TinyMlp(Dim, Classes);
        var data = Split(Blobs(60, Dim, Classes, 2), 3);
        var nodes = CompressedFedAvg.CreateNodes(learner, new Sgd(0.1f), data, new CompressedFedAvgOptions { LocalSteps = 2, BatchSize = 4, MinReplies = 3 }, seed);
        nodes[1] = BadClient(round => new Message(CompressedFedAvg.UpdateKind, round, scalars: new double[] { 20 }, data: new byte[] { 1, 1, 0, 0 }));
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 2 });
        var rows = RunRows(sim);
        Assert.Equal(new[] { 0L, 1, 2 }, rows.Select(r => r.FailedRounds));
        Assert.Equal(LocalModel.InitialParameters(learner, seed), ((CompressedFedAvgCoordinator)nodes[3]).GlobalModel.ToArray());
    }

    private static float[] BatchGradient(Flock.Models.ILearner learner, ReadOnlySpan<float> parameters, DatasetView data, int batch, ulong seed, int node, long round)
    {
        var sampler = new MinibatchSampler(data.Count, Rng.Derive(seed, (ulong)node, (ulong)round, "batches"));
        var pos = new int[batch];
        sampler.Next(pos);
        var g = new float[parameters.Length];
        learner.LossAndGradient(parameters, data, pos, g, Rng.Derive(seed, (ulong)node, (ulong)round, "dropout"));
        return g;
    }

    [Fact]
    public void Dgc_through_the_protocol_sends_about_the_density_and_masks_momentum()
    {
        const ulong seed = 17;
        const int rounds = 4;
        var learner = TinyMlp(20, Classes, 64);
        int d = learner.Layout.Length;
        var data = Split(Blobs(120, 20, Classes, 6), 2);
        var dgc = new DeepGradientCompression(finalDensity: 0.01, momentum: 0.9f, warmupDensities: Array.Empty<double>());
        var rec = new RecordingCompressor(dgc);
        var sgd = new Sgd(0.1f);
        var nodes = CompressedFedAvg.CreateNodes(learner, sgd, data, new CompressedFedAvgOptions { Update = ClientUpdateKind.Gradient, BatchSize = 8, Uplink = rec }, seed);
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = rounds });
        sim.Run();
        var dense = CompressedFedAvg.CreateNodes(learner, sgd, data, new CompressedFedAvgOptions { Update = ClientUpdateKind.Gradient, BatchSize = 8 }, seed);
        var denseSim = new Simulator(dense, new SimulationOptions { Seed = seed, MaxRounds = rounds });
        denseSim.Run();

        // Bytes: k = ⌈0.01·d⌉ entries (value + index) instead of d floats.
        int k = dgc.CountAt(d, 0);
        foreach (var (_, _, payload) in rec.By(0))
        {
            int count = BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(7));
            Assert.InRange(count, (int)(0.8 * k), k);
            Assert.InRange(payload.Length, 11 + 4 * count, 11 + 9 * count);
        }
        double ratio = (double)denseSim.BytesSentBy(0) / sim.BytesSentBy(0);
        Assert.True(ratio > 30, $"DGC at 1% density saves only {ratio:F1}×");

        // Round 1 by hand: u = v = g, the payload holds the largest |g| entries with their exact values.
        var init = LocalModel.InitialParameters(learner, seed);
        var g = BatchGradient(learner, init, data[0], 8, seed, 0, 1);
        var first = Decode(rec.By(0).First().Payload, d);
        Assert.Equal(g, rec.By(0).First().Input);
        float minSent = float.MaxValue, maxUnsent = 0;
        for (int j = 0; j < d; j++)
        {
            if (first[j] != 0) { Assert.Equal(g[j], first[j]); minSent = Math.Min(minSent, Math.Abs(g[j])); }
            else maxUnsent = Math.Max(maxUnsent, Math.Abs(g[j]));
        }
        Assert.True(minSent >= maxUnsent, $"sent |g| ≥ {minSent} but an unsent entry has {maxUnsent}");

        // Momentum factor masking: u and v are zero where the last payload sent, and only there (almost surely).
        var state = ((CompressedFedAvgClient)nodes[0]).CompressorState.ToArray();
        var u = DeepGradientCompression.MomentumOf(state, d);
        var v = DeepGradientCompression.VelocityOf(state, d);
        var last = Decode(rec.By(0).Last().Payload, d);
        int sentCount = 0;
        for (int j = 0; j < d; j++)
        {
            if (last[j] != 0) { sentCount++; Assert.Equal(0f, u[j]); Assert.Equal(0f, v[j]); }
        }
        Assert.True(sentCount > 0);
        Assert.True(v.ToArray().Count(x => x != 0) > d / 2, "unsent velocity keeps accumulating");

        // The server steps plain SGD on the mean of the decoded sparse gradients.
        var expected = (float[])init.Clone();
        var p0 = rec.By(0).ToList();
        var p1 = rec.By(1).ToList();
        for (int r = 0; r < rounds; r++)
        {
            var a = Decode(p0[r].Payload, d);
            var b = Decode(p1[r].Payload, d);
            for (int j = 0; j < d; j++) expected[j] -= 0.1f * (a[j] * 0.5f + b[j] * 0.5f);
        }
        var global = ((CompressedFedAvgCoordinator)nodes[2]).GlobalModel;
        Assert.True(MaxAbsDiff(expected, global) <= 1e-6f, $"max difference {MaxAbsDiff(expected, global)}");
    }

    [Fact]
    public void Dgc_warmup_follows_the_protocol_round()
    {
        const ulong seed = 4;
        var learner = TinyMlp(20, Classes, 64);
        int d = learner.Layout.Length;
        var data = Split(Blobs(120, 20, Classes, 6), 2);
        var dgc = new DeepGradientCompression(finalDensity: 0.01, warmupDensities: new[] { 0.25, 0.0625 }, warmupRoundsPerStage: 2);
        var rec = new RecordingCompressor(dgc);
        var nodes = CompressedFedAvg.CreateNodes(learner, new Sgd(0.1f), data, new CompressedFedAvgOptions { Update = ClientUpdateKind.Gradient, BatchSize = 8, Uplink = rec }, seed);
        new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 6 }).Run();
        var sent = rec.By(1).ToList();
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5 }, sent.Select(e => e.Round));
        var densities = new[] { 0.25, 0.25, 0.0625, 0.0625, 0.01, 0.01 };
        for (int r = 0; r < 6; r++)
        {
            int k = (int)Math.Ceiling(densities[r] * d);
            int count = BinaryPrimitives.ReadInt32LittleEndian(sent[r].Payload.AsSpan(7));
            Assert.InRange(count, (int)(0.8 * k), k);
        }
    }

    [Fact]
    public void Downlink_compression_keeps_every_synchronized_client_on_the_public_model()
    {
        const ulong seed = 8;
        var learner = TinyMlp(Dim, Classes, 16);
        int d = learner.Layout.Length;
        var data = Split(Blobs(120, Dim, Classes, 2), 4);
        var options = new CompressedFedAvgOptions { LocalSteps = 2, BatchSize = 4, Downlink = new TopK(0.2), Uplink = new ErrorFeedback(new TopK(0.2)), Rounds = 5 };
        var nodes = CompressedFedAvg.CreateNodes(learner, new Sgd(0.1f), data, options, seed);
        var sim = new Simulator(nodes, new SimulationOptions { Seed = seed, MaxRounds = 5 });
        sim.Run();
        var coordinator = (CompressedFedAvgCoordinator)nodes[4];
        for (int i = 0; i < 4; i++) Assert.True(((CompressedFedAvgClient)nodes[i]).PublicModel.SequenceEqual(coordinator.PublicModel), $"client {i}'s copy differs");
        Assert.False(coordinator.PublicModel.SequenceEqual(coordinator.GlobalModel), "top-20% of the difference is lossy");
        // Every round sends differences only: clients start from the shared initial model.
        Assert.Equal(5 * 4 * (Message.HeaderBytes + 8) + coordinator.DownlinkPayloadBytes, sim.BytesSentBy(4));
        Assert.True(sim.BytesSentBy(4) < 5 * 4 * (Message.HeaderBytes + 4L * d) / 2);

        // With sampling, clients that missed a round get the dense public model, and still agree.
        var sampled = CompressedFedAvg.CreateNodes(learner, new Sgd(0.1f), data, new CompressedFedAvgOptions
        {
            ClientFraction = 0.5, LocalSteps = 2, BatchSize = 4, Downlink = new TopK(0.2), Rounds = 8,
        }, seed);
        var sim2 = new Simulator(sampled, new SimulationOptions { Seed = seed, MaxRounds = 8 });
        sim2.Run();
        var c2 = (CompressedFedAvgCoordinator)sampled[4];
        Assert.True(c2.DownlinkPayloadBytes > 0, "some clients were sampled twice in a row");
        Assert.True(sim2.BytesSentBy(4) > (Message.HeaderBytes + 8) * sim2.MessagesSentBy(4) + c2.DownlinkPayloadBytes, "some clients got the dense model");
        int agreeing = Enumerable.Range(0, 4).Count(i => ((CompressedFedAvgClient)sampled[i]).PublicModel.SequenceEqual(c2.PublicModel));
        Assert.True(agreeing >= 2, $"only {agreeing} clients hold the last public model");
    }

    private static (INodeBehavior[], SimulationOptions) Scenario(ulong seed, ClientUpdateKind kind = ClientUpdateKind.ModelDelta)
    {
        var learner = TinyMlp(Dim, Classes, 16);
        var all = Blobs(8 * 20 + 100, Dim, Classes, 3);
        var data = Enumerable.Range(0, 8).Select(i => new DatasetView(all, Enumerable.Range(i * 20, 20).ToArray())).ToArray();
        var options = new CompressedFedAvgOptions
        {
            ClientFraction = 0.75, LocalSteps = kind == ClientUpdateKind.Gradient ? 1 : 3, BatchSize = 8, RoundTimeout = 1.0, MinReplies = 2, Update = kind,
            Uplink = kind == ClientUpdateKind.Gradient ? new DeepGradientCompression(0.05, warmupDensities: new[] { 0.5 }) : new ErrorFeedback(new Qsgd(3)),
            Downlink = new ErrorFeedback(new TopK(0.3)),
        };
        var nodes = CompressedFedAvg.CreateNodes(learner, new Sgd(0.05f), data, options, seed);
        var sim = new SimulationOptions
        {
            Seed = seed,
            MaxRounds = 7,
            Link = new LinkModel(0.05, 1e5, dropProbability: 0.1),
            Compute = new ComputeModel(0.05, SpeedDistribution.Uniform(1, 6)),
            Metrics = new MetricsOptions { EveryRounds = 1, Learner = learner, TestSet = new DatasetView(all, Enumerable.Range(160, 100).ToArray()) },
        };
        return (nodes, sim);
    }

    [Fact]
    public void Same_seed_same_run_and_checkpoints_resume_exactly()
    {
        var (n1, o1) = Scenario(3);
        var (n2, o2) = Scenario(3);
        var (n3, o3) = Scenario(4);
        var r1 = RunRows(new Simulator(n1, o1));
        var r2 = RunRows(new Simulator(n2, o2));
        var r3 = RunRows(new Simulator(n3, o3));
        AssertRowsEqual(r1, r2);
        Assert.NotEqual(r1[^1].AccuracyMean + r1[^1].LossMean, r3[^1].AccuracyMean + r3[^1].LossMean);
        Assert.True(r1[^1].MessagesLost > 0, "the scenario must exercise lost messages");
        AssertResumeEquals(() => Scenario(3), p => p.Round == 3);
        AssertResumeEquals(() => Scenario(5, ClientUpdateKind.Gradient), p => p.Round == 2);
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new CompressedFedAvgOptions { Update = ClientUpdateKind.Gradient, LocalSteps = 2 }.Validate(3));
        Assert.Throws<ArgumentException>(() => new CompressedFedAvgOptions { ServerLearningRate = 0 }.Validate(3));
        Assert.Throws<ArgumentException>(() => new CompressedFedAvgOptions { ServerLearningRate = float.NaN }.Validate(3));
        Assert.Throws<ArgumentException>(() => new CompressedFedAvgOptions { MinReplies = 4 }.Validate(3));
        new CompressedFedAvgOptions { Update = ClientUpdateKind.Gradient }.Validate(3);
    }
}
