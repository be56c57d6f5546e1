using Flock.Attacks;
using Flock.Data;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Runtime;

public class HonestMetricsTests
{
    private const int Dim = 5, Classes = 3;

    [Fact]
    public void Excluded_byzantine_nodes_are_never_evaluated_and_rows_reduce_over_honest_nodes()
    {
        const ulong seed = 4;
        const int n = 6, rounds = 4;
        var learner = TinyMlp(Dim, Classes);
        var all = Blobs(n * 20 + 100, Dim, Classes, 8);
        var parts = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range(i * 20, 20).ToArray())).ToArray();
        var test = new DatasetView(all, Enumerable.Range(n * 20, 100).ToArray());
        int[] byz = [1, 4], honest = [0, 2, 3, 5];
        var (nb, _, _) = Complete(n, 1.0 / n);
        var nodes = DSgd.CreateNodes(learner, new Sgd(0.1f), parts, nb, new DSgdOptions
        {
            LocalSteps = 2, BatchSize = 5, Rounds = rounds,
            Byzantine = new ByzantineSetup { Nodes = byz, Attack = new SignFlipping() },
        }, seed);
        var sim = new Simulator(nodes, new SimulationOptions
        {
            Seed = seed, MaxRounds = rounds,
            Metrics = new MetricsOptions { EveryRounds = 2, Learner = learner, TestSet = test, ExcludedNodes = byz },
        });
        Assert.Equal(honest, sim.EvaluatedNodes);
        var rows = RunRows(sim);
        Assert.All(rows, r => Assert.Equal(honest.Length, r.EvaluatedNodes));
        var last = rows[^1];
        Assert.Equal(rounds, last.Round);
        var models = honest.Select(i => ((DSgdNode)nodes[i]).Model.Parameters.ToArray()).ToArray();
        var acc = models.Select(m => learner.Evaluate(m, test).Accuracy).ToArray();
        Assert.Equal(acc.Average(), last.AccuracyMean, 12);
        Assert.Equal(acc.Min(), last.AccuracyMin);
        Assert.Equal(ModelStatistics.ConsensusDistance(models.Select(m => (ReadOnlyMemory<float>)m).ToArray()), last.ConsensusDistance, 12);
        // The Byzantine nodes' own models are different (they mix only honest models) and not counted.
        Assert.NotEqual(models[0], ((DSgdNode)nodes[1]).Model.Parameters);

        // A subset is drawn among the honest nodes only.
        var subset = new Simulator(nodes, new SimulationOptions { Seed = seed, Metrics = new MetricsOptions { MaxEvaluatedNodes = 2, ExcludedNodes = byz } });
        Assert.Equal(2, subset.EvaluatedNodes.Count);
        Assert.All(subset.EvaluatedNodes, i => Assert.Contains(i, honest));
    }

    [Fact]
    public void Invalid_excluded_nodes_are_rejected()
    {
        var probe = new ProbeBehavior { Model = [1f] };
        var e = Assert.Throws<ArgumentException>(() => new Simulator([probe], new SimulationOptions { Metrics = new MetricsOptions { ExcludedNodes = [3] } }));
        Assert.Contains("node 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Simulator([probe], new SimulationOptions { Metrics = new MetricsOptions { ExcludedNodes = [-1] } }));
        Assert.Contains("-1", e.Message);
    }

    /// <summary>
    /// 2×2 images (4 features), 2 classes, target 0, trigger = the bottom-right pixel set to 1 (feature 3).
    /// Model A: logit₀ = 2·x₃, logit₁ = 1 + 2·x₀ ⇒ a triggered image is classified 0 iff x₀ &lt; 0.5.
    /// Non-target test images have x₀ = 0, 0.2, 0.9, 0.7 ⇒ ASR = 2/4. The two target-class images
    /// (x₀ = 0, both classified 0 when stamped) must be left out, else it would read 4/6.
    /// Model B: logit₀ = 10·x₃ ⇒ every triggered image goes to the target: ASR = 1.
    /// </summary>
    [Fact]
    public void Attack_success_rate_on_a_hand_made_case()
    {
        var learner = LogisticRegression.CreateLearner(new TensorShape(4), 2);
        float[] x = [0, 0.3f, 0.1f, 0, 0.2f, 0, 0, 0, 0.9f, 0.5f, 0, 0, 0.7f, 0, 0.4f, 0, 0, 0.8f, 0, 0, 0, 0, 0.6f, 0];
        var data = Dataset.Classification("tiny", x, new TensorShape(4), [1, 1, 1, 1, 0, 0], 2);
        var test = data.All();
        var backdoor = new Backdoor(targetClass: 0, trigger: new BackdoorTrigger(size: 1, corner: TriggerCorner.BottomRight, value: 1f, height: 2, width: 2, margin: 0));
        var asr = new AttackSuccessRate(learner, backdoor, test);
        Assert.Equal("attack_success_rate", asr.Name);
        Assert.Equal(4, asr.Triggered.Count);

        float[] Model(float w0, float w1, float b1)
        {
            var p = new float[learner.Layout.Length];
            Assert.EndsWith("weight", learner.Layout.Tensors[0].Name);
            var w = learner.Layout.Tensors[0].Slice(p.AsSpan());
            w[3] = w0;       // row 0 (class 0), feature 3
            w[4 + 0] = w1;   // row 1 (class 1), feature 0
            learner.Layout.Tensors[1].Slice(p.AsSpan())[1] = b1;
            return p;
        }
        var a = Model(2, 2, 1);
        var b = Model(10, 2, 1);
        Assert.Equal(0.5, asr.Evaluate(a));
        Assert.Equal(1.0, asr.Evaluate(b));

        // In the simulator: the metric is an extra column, averaged over the evaluated (honest) nodes.
        INodeBehavior Node(float[] m) => new ProbeBehavior { Model = m, ReportsRounds = true, Start = c => c.CompleteRound(0) };
        MetricsRow RunRow(IReadOnlyList<int> excluded)
        {
            var sim = new Simulator([Node(a), Node(b)], new SimulationOptions
            {
                Metrics = new MetricsOptions { Learner = learner, TestSet = test, ExtraMetrics = [asr], ExcludedNodes = excluded },
            });
            return Assert.Single(RunRows(sim));
        }
        var row = RunRow([1]);
        Assert.Equal(1, row.EvaluatedNodes);
        Assert.Equal(new KeyValuePair<string, double>("attack_success_rate", 0.5), Assert.Single(row.Extra));
        Assert.Equal(0.75, RunRow([]).Extra[0].Value);
        Assert.EndsWith(",attack_success_rate", MetricsRow.CsvHeader(row.Extra.Select(e => e.Key)));

        // Nothing to measure when every test image has the target label.
        var onlyTarget = Dataset.Classification("t", new float[8], new TensorShape(4), [0, 0], 2).All();
        Assert.Throws<ArgumentException>(() => new AttackSuccessRate(learner, backdoor, onlyTarget));
    }
}
