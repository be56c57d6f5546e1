using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Tensors;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.SybilWallTests;

public class SybilWallGossipTests
{
    private static readonly Flock.Models.NetworkLearner Learner = TinyMlp(3, 2, 2);

    private static float[] Model(float value) => Enumerable.Repeat(value, Learner.Layout.Length).ToArray();

    private static Message Record(int origin, long round, int distance) =>
        new(SybilWall.RecordKind, round, Model(origin), new double[] { origin, distance });

    private static (SybilWallNode Node, FakeContext Context) Node0(double lambda = SybilWallOptions.DefaultLambda, SybilWallWeighting weighting = SybilWallWeighting.Uniform)
    {
        var data = new DatasetView(Blobs(4, 3, 2, 1), [0, 1, 2, 3]);
        var node = new SybilWallNode(0, 6, [2, 1], Learner, new Sgd(0.1f), data, new float[Learner.Layout.Length],
            new SybilWallOptions { LocalSteps = 0, Lambda = lambda, Weighting = weighting });
        return (node, new FakeContext(0, seed: 7));
    }

    [Theory]
    [InlineData(0.8)]
    [InlineData(2.0)]
    public void Records_are_forwarded_with_probability_proportional_to_lambda_exp_minus_lambda_d_and_never_echoed(double lambda)
    {
        var (node, ctx) = Node0(lambda);
        node.OnStart(ctx);
        Assert.Equal([0L], ctx.Completed);
        node.OnTrainingFinished(ctx, default);
        Assert.Equal(2, ctx.Sent.Count); // round 1: own model to both neighbours, nothing to gossip yet
        Assert.All(ctx.Sent, s => Assert.Equal(SybilWall.ModelKind, s.Message.Kind));

        // Neighbour 1 told us about origins 3 (2 hops) and 4 (3 hops), neighbour 2 about origin 5 (2 hops).
        node.OnMessage(ctx, 1, Record(3, 1, 2));
        node.OnMessage(ctx, 1, Record(4, 1, 3));
        node.OnMessage(ctx, 2, Record(5, 1, 2));
        const int rounds = 3000;
        var counts = new Dictionary<(int To, int Origin), int>();
        for (long r = 1; r <= rounds; r++)
        {
            node.OnMessage(ctx, 1, new Message(SybilWall.ModelKind, r, Model(1)));
            node.OnMessage(ctx, 2, new Message(SybilWall.ModelKind, r, Model(2)));
            Assert.Equal(r, ctx.Completed[^1]);
            ctx.Sent.Clear();
            node.OnTrainingFinished(ctx, default);
            var records = ctx.Sent.Where(s => s.Message.Kind == SybilWall.RecordKind).ToList();
            Assert.Equal(2, records.Count);
            Assert.Equal([1, 2], records.Select(s => s.To).Order());
            foreach (var (to, m) in records)
            {
                int origin = (int)m.Scalar(0), hops = (int)m.Scalar(1);
                // Hop count incremented: neighbours' own records are 1 hop away, forwarded as 2.
                int stored = origin switch { 1 or 2 => 1, 3 or 5 => 2, 4 => 3, _ => -1 };
                Assert.Equal(stored + 1, hops);
                Assert.Equal(Model(origin), m.Model.ToArray());
                Assert.Equal(origin is 1 or 2 ? r : 1, m.Round);
                counts[(to, origin)] = counts.GetValueOrDefault((to, origin)) + 1;
            }
        }
        // Never a neighbour's own record, never one received from it.
        Assert.DoesNotContain(counts.Keys, k => k.To == 1 && k.Origin is 1 or 3 or 4);
        Assert.DoesNotContain(counts.Keys, k => k.To == 2 && k.Origin is 2 or 5);

        void AssertShares(int to, (int Origin, int Distance)[] candidates)
        {
            double total = candidates.Sum(c => SybilWall.RecordWeight(lambda, c.Distance));
            foreach (var (origin, distance) in candidates)
            {
                double p = SybilWall.RecordWeight(lambda, distance) / total;
                double share = counts.GetValueOrDefault((to, origin)) / (double)rounds;
                double sigma = Math.Sqrt(p * (1 - p) / rounds);
                Assert.True(Math.Abs(share - p) < 4 * sigma, $"to {to}, origin {origin}: share {share:F4}, expected {p:F4} ± {4 * sigma:F4}");
            }
        }
        AssertShares(2, [(1, 1), (3, 2), (4, 3)]);
        AssertShares(1, [(2, 1), (5, 2)]);
    }

    [Fact]
    public void The_newest_record_per_origin_is_kept()
    {
        var (node, ctx) = Node0();
        node.OnMessage(ctx, 1, Record(3, 5, 2));
        Assert.Equal((5L, 2, 1), Short(node.RecordOf(3)));
        node.OnMessage(ctx, 2, Record(3, 4, 1));  // older round: ignored even though nearer
        Assert.Equal((5L, 2, 1), Short(node.RecordOf(3)));
        node.OnMessage(ctx, 2, Record(3, 5, 3));  // same round, farther: ignored
        Assert.Equal((5L, 2, 1), Short(node.RecordOf(3)));
        node.OnMessage(ctx, 2, Record(3, 6, 4));  // newer round: replaces, remembers who sent it
        Assert.Equal((6L, 4, 2), Short(node.RecordOf(3)));
        node.OnMessage(ctx, 1, Record(3, 6, 2));  // same round, nearer: replaces
        Assert.Equal((6L, 2, 1), Short(node.RecordOf(3)));
        Assert.Equal(3f, node.RecordOf(3)!.Value.Model.Span[0]);

        node.OnMessage(ctx, 1, Record(0, 9, 2));  // the node's own model is never stored
        node.OnMessage(ctx, 4, Record(5, 9, 2));  // not from a neighbour
        node.OnMessage(ctx, 1, Record(6, 9, 2));  // origin outside the graph
        node.OnMessage(ctx, 1, new Message(SybilWall.RecordKind, 9, Model(5), new double[] { 5, 0 })); // distance 0
        Assert.Null(node.RecordOf(0));
        Assert.Null(node.RecordOf(5));
        Assert.Equal(1, node.KnownPeers);

        // A neighbour's own model is a 1-hop record.
        node.OnMessage(ctx, 2, new Message(SybilWall.ModelKind, 3, Model(2)));
        Assert.Equal((3L, 1, 2), Short(node.RecordOf(2)));
        Assert.Equal(2, node.KnownPeers);
    }

    private static (long, int, int) Short((long Round, int Distance, int Sender, ReadOnlyMemory<float> Model)? r) =>
        (r!.Value.Round, r.Value.Distance, r.Value.Sender);

    [Fact]
    public void A_neighbour_resembling_a_distant_peer_is_unmasked_by_the_gossiped_record()
    {
        // θ₀ = 0 and no local steps: histories are the models, the own model stays 0.
        var (node, ctx) = Node0(weighting: SybilWallWeighting.FoolsGold);
        int p = Learner.Layout.Length;
        var honest = Enumerable.Range(0, p).Select(i => MathF.Sin(i + 1)).ToArray();
        var sybil = Enumerable.Range(0, p).Select(i => MathF.Cos(3 * i) + 2).ToArray();
        var twin = sybil.Select(x => x + 1e-4f).ToArray();
        node.OnStart(ctx);
        node.OnTrainingFinished(ctx, default);
        node.OnMessage(ctx, 1, new Message(SybilWall.RecordKind, 1, twin, new double[] { 4, 2 })); // distant Sybil 4, via 1
        node.OnMessage(ctx, 1, new Message(SybilWall.ModelKind, 1, honest));
        node.OnMessage(ctx, 2, new Message(SybilWall.ModelKind, 1, sybil));
        Assert.Equal(1L, ctx.Completed[^1]);

        var cs = new double[9];
        var w = new double[3];
        Flock.Aggregation.FoolsGold.CosineSimilarities([twin, honest, sybil], ReadOnlySpan<float>.Empty, cs);
        Flock.Aggregation.FoolsGold.Weights(cs, 3, w);
        Assert.Equal(1, w[1]);
        Assert.True(w[2] < 1e-6);
        Assert.Equal([w[1], w[2]], node.LastWeights);
        var model = node.Model.Parameters;
        for (int i = 0; i < p; i++) Assert.Equal((float)((w[1] * honest[i] + w[2] * sybil[i]) / (1 + w[1] + w[2])), model[i], 5);

        // Without the distant twin, the same neighbour keeps weight 1.
        var (alone, ctx2) = Node0(weighting: SybilWallWeighting.FoolsGold);
        alone.OnStart(ctx2);
        alone.OnTrainingFinished(ctx2, default);
        alone.OnMessage(ctx2, 1, new Message(SybilWall.ModelKind, 1, honest));
        alone.OnMessage(ctx2, 2, new Message(SybilWall.ModelKind, 1, sybil));
        Assert.Equal([1.0, 1.0], alone.LastWeights);
    }

    [Fact]
    public void Gossip_off_sends_only_the_own_model_and_options_are_validated()
    {
        var data = new DatasetView(Blobs(4, 3, 2, 1), [0, 1, 2, 3]);
        var node = new SybilWallNode(0, 3, [1, 2], Learner, new Sgd(0.1f), data, new float[Learner.Layout.Length],
            new SybilWallOptions { LocalSteps = 0, Gossip = false });
        var ctx = new FakeContext(0);
        node.OnStart(ctx);
        node.OnMessage(ctx, 1, Record(2, 0, 2));
        node.OnTrainingFinished(ctx, default);
        Assert.All(ctx.Sent, s => Assert.Equal(SybilWall.ModelKind, s.Message.Kind));

        Assert.Throws<ArgumentException>(() => new SybilWallOptions { Lambda = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new SybilWallOptions { Kappa = double.NaN }.Validate());
        Assert.Throws<ArgumentException>(() => new SybilWallOptions { Weighting = (SybilWallWeighting)7 }.Validate());
        Assert.Throws<ArgumentException>(() => new SybilWallNode(0, 3, [0], Learner, new Sgd(0.1f), data, new float[Learner.Layout.Length], new SybilWallOptions()));
        Assert.Throws<ArgumentException>(() => new SybilWallNode(0, 3, [3], Learner, new Sgd(0.1f), data, new float[Learner.Layout.Length], new SybilWallOptions()));
        Assert.Throws<ArgumentException>(() => SybilWall.CreateNodes(Learner, new Sgd(0.1f), [data, data], [[1]], new SybilWallOptions(), 1));
    }
}
