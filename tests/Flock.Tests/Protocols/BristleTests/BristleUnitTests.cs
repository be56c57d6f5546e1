using Flock.Data;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Tensors;
using Flock.Tests.Protocols.SybilWallTests;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Protocols.BristleTests;

public class BristleUnitTests
{
    [Fact]
    public void Output_slice_is_the_last_linear_layer()
    {
        var learner = TinyMlp(5, 3, 16); // fc1: 16×5 + 16, fc2: 3×16 + 3
        Assert.Equal((16 * 5 + 16, 3 * 16 + 3), Bristle.OutputSlice(learner.Layout));
        Assert.Equal(16 * 5 + 16 + 3 * 16 + 3, learner.Layout.Length);
        string first = learner.Layout.Tensors[0].Name;
        Assert.Equal((0, 16 * 5 + 16), Bristle.OutputSlice(learner.Layout, first[..first.LastIndexOf('.')]));
        Assert.Throws<ArgumentException>(() => Bristle.OutputSlice(learner.Layout, "nope"));
    }

    [Fact]
    public void Prioritizer_keeps_the_nearest_plus_random_others()
    {
        float[] own = [1, 1];
        float[] distances = [5, 1, 3, 2, 4, 6];
        var candidates = distances.Select(d => (ReadOnlyMemory<float>)new float[] { 1 + d, 1 }).ToList();
        Assert.Equal([1, 3], Bristle.Prioritize(own, candidates, 2, 0, new Rng(1)));
        Assert.Equal([0, 1, 2, 3, 4, 5], Bristle.Prioritize(own, candidates, 10, 0, new Rng(1)));
        // Ties go to the lower index.
        Assert.Equal([0], Bristle.Prioritize(own, [new float[] { 2, 1 }, new float[] { 0, 1 }], 1, 0, new Rng(1)));

        // Two nearest always; one more drawn uniformly from {0, 2, 4, 5}, same for the same generator.
        var extra = new Dictionary<int, int>();
        for (ulong seed = 0; seed < 400; seed++)
        {
            var chosen = Bristle.Prioritize(own, candidates, 2, 1, new Rng(seed));
            Assert.Equal(chosen, Bristle.Prioritize(own, candidates, 2, 1, new Rng(seed)));
            Assert.Equal(3, chosen.Length);
            Assert.Contains(1, chosen);
            Assert.Contains(3, chosen);
            int other = chosen.Single(j => j is not 1 and not 3);
            extra[other] = extra.GetValueOrDefault(other) + 1;
        }
        Assert.Equal([0, 2, 4, 5], extra.Keys.Order());
        Assert.All(extra.Values, c => Assert.InRange(c, 60, 140));
    }

    [Fact]
    public void Integrator_weights_follow_the_formula_on_hand_made_recalls()
    {
        double[] own = [0.8, 0.6, double.NaN];
        double[] cand = [0.9, 0.4, 0.7];
        // Class 0: better by 0.1 ⇒ +(1.0)^(3.8) = 1; class 1: worse by 0.2 ⇒ −(2.0)^(4.6); class 2 skipped (own NaN).
        double s = 1 - Math.Pow(2, 4.6);
        Assert.Equal(s, Bristle.Score(own, cand), 12);
        // Certainty over the candidate's recalls: mean 0.6667, population std 0.2055.
        double mean = 2.0 / 3, std = Math.Sqrt(((0.9 - mean) * (0.9 - mean) + (0.4 - mean) * (0.4 - mean) + (0.7 - mean) * (0.7 - mean)) / 3);
        Assert.Equal(mean - std, Bristle.Certainty(cand), 12);
        Assert.Equal(mean - 2 * std, Bristle.Certainty(cand, 2), 12);
        double expected = (10 / (1 + Math.Exp(-s / 100)) - 4) * (mean - std);
        Assert.Equal(expected, Bristle.Weight(s, mean - std), 12);
        Assert.Equal(0.1943, expected, 3); // 0.4214 · 0.4612

        // Same recalls: S = 0, σ(0) = 1/2 ⇒ weight = certainty.
        Assert.Equal(0, Bristle.Score(cand, cand));
        Assert.Equal(0.7, Bristle.Weight(0, 0.7), 12);
        // Better everywhere: weight up to 6·certainty.
        Assert.Equal(6 * 0.5, Bristle.Weight(1e6, 0.5), 9);
        // Worse: below S = 100·ln(0.4/0.6) the weight is 0; below the drop score it is 0 whatever the constants.
        Assert.Equal(0, Bristle.Weight(-41, 1));
        Assert.True(Bristle.Weight(-40, 1) > 0);
        Assert.Equal(0, Bristle.Weight(-50, 1, dropScore: -60) + Bristle.Weight(-70, 1, dropScore: -60));
        Assert.Equal(0, Bristle.Certainty([0.0, 1.0])); // mean 0.5 − std 0.5
        Assert.Equal(0.1, Bristle.Certainty([0.1, 0.9]), 12);
        Assert.Equal(0, Bristle.Certainty([double.NaN]));
    }

    [Fact]
    public void Recalls_are_per_class()
    {
        var ds = Dataset.Classification("t", new float[6], new TensorShape(1), [0, 0, 1, 1, 1, 0], 3);
        var recall = new double[3];
        Bristle.Recalls(ds.All(), [0, 1, 1, 0, 1, 2], recall);
        Assert.Equal(1.0 / 3, recall[0], 12);
        Assert.Equal(2.0 / 3, recall[1], 12);
        Assert.True(double.IsNaN(recall[2]));
    }

    [Fact]
    public void Training_moves_only_the_output_layer_even_with_weight_decay()
    {
        var learner = TinyMlp(5, 3, 16);
        var all = Blobs(60, 5, 3, 4);
        var (train, test) = Bristle.SplitLocalTest(all.All(), 15, 0, 9);
        Assert.Equal(45, train.Count);
        Assert.Equal(15, test.Count);
        Assert.Empty(train.Indices.Intersect(test.Indices));
        var shared = LocalModel.InitialParameters(learner, 3);
        foreach (var optimizer in new IOptimizer[] { new Sgd(0.1f, weightDecay: 0.1f), new AdamW(0.01f, weightDecay: 0.1f) })
        {
            var node = new BristleNode(0, 2, [1], learner, optimizer, train, test, shared, new BristleOptions { LocalSteps = 5, BatchSize = 8 });
            var ctx = new FakeContext(0);
            node.OnStart(ctx);
            node.OnTrainingFinished(ctx, default);
            var (offset, length) = node.OutputLayer;
            var p = node.Model.Parameters;
            Assert.True(p.AsSpan(0, offset).SequenceEqual(shared.AsSpan(0, offset)), "the frozen features changed");
            Assert.False(p.AsSpan(offset, length).SequenceEqual(shared.AsSpan(offset, length)), "the output layer did not train");
            // Only the output layer is sent.
            Assert.Equal(length, ctx.Sent.Single().Message.Model.Length);
            Assert.Equal(p.AsSpan(offset, length).ToArray(), ctx.Sent.Single().Message.Model.ToArray());
        }
    }

    [Fact]
    public void A_node_integrates_received_output_layers_with_the_integrator_weights()
    {
        var learner = TinyMlp(5, 3, 16);
        var all = Blobs(90, 5, 3, 4);
        var shared = Bristle.PretrainFeatures(learner, new Sgd(0.1f), all.All(), 300, 16, 5, resetOutputLayer: false);
        var (train, test) = Bristle.SplitLocalTest(all.All(), 30, 0, 9);
        var node = new BristleNode(0, 3, [1, 2], learner, new Sgd(0.1f), train, test, shared, new BristleOptions { LocalSteps = 0 });
        var ctx = new FakeContext(0);
        node.OnStart(ctx);
        node.OnTrainingFinished(ctx, default);
        var (offset, length) = node.OutputLayer;
        var own = shared.AsSpan(offset, length).ToArray();
        var near = own.Select((x, i) => x + 0.05f * MathF.Sin(i)).ToArray();
        var flipped = own.Select(x => -x).ToArray();
        node.OnMessage(ctx, 2, new Message(Bristle.ModelKind, 1, flipped));
        node.OnMessage(ctx, 1, new Message(Bristle.ModelKind, 1, near));
        Assert.Equal([1L], ctx.Completed.Skip(1));

        double[] Recall(float[] head)
        {
            var p = shared.ToArray();
            head.CopyTo(p, offset);
            var pred = new int[test.Count];
            learner.Predict(p, test, pred);
            var r = new double[3];
            Bristle.Recalls(test, pred, r);
            return r;
        }
        var mine = Recall(own);
        double W(float[] head) => Bristle.Weight(Bristle.Score(mine, Recall(head)), Bristle.Certainty(Recall(head)));
        double w1 = W(near), w2 = W(flipped);
        Assert.True(w1 > 0.3, $"near weight {w1}");
        Assert.Equal(0, w2);
        Assert.Equal([w1, 0], node.LastIntegration.Weights);
        var head = node.Model.Parameters.AsSpan(offset, length).ToArray();
        for (int i = 0; i < length; i++) Assert.Equal((own[i] + w1 * near[i]) / (1 + w1), head[i], 5);
    }

    [Fact]
    public void Pretraining_trains_the_features_and_resets_the_output_layer()
    {
        var learner = TinyMlp(5, 3, 16);
        var all = Blobs(120, 5, 3, 4);
        var init = LocalModel.InitialParameters(learner, 2);
        var (offset, length) = Bristle.OutputSlice(learner.Layout);
        var kept = Bristle.PretrainFeatures(learner, new Sgd(0.1f), all.All(), 200, 16, 2, resetOutputLayer: false);
        var reset = Bristle.PretrainFeatures(learner, new Sgd(0.1f), all.All(), 200, 16, 2);
        Assert.True(learner.Evaluate(kept, all.All()).Accuracy > 0.9);
        Assert.True(reset.AsSpan(0, offset).SequenceEqual(kept.AsSpan(0, offset)));
        Assert.False(reset.AsSpan(0, offset).SequenceEqual(init.AsSpan(0, offset)));
        Assert.True(reset.AsSpan(offset, length).SequenceEqual(init.AsSpan(offset, length)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bristle.SplitLocalTest(all.All(), 120, 0, 1));
        Assert.Throws<ArgumentException>(() => new BristleOptions { NearestModels = -1 }.Validate());
    }
}
