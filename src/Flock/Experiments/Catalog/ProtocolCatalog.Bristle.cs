using Flock.Attacks;
using Flock.Data;
using Flock.Experiments.Config;
using Flock.Protocols;
using Flock.Tensors;

namespace Flock.Experiments.Catalog;

public static partial class ProtocolCatalog
{
    private static readonly BristleOptions BristleDefaults = new();
    private static readonly Param<int> BristleSteps = Params.Int("local_steps", BristleDefaults.LocalSteps, "local SGD steps per round on the output layer (0: only integrate)", min: 0);
    private static readonly Param<int> BristleBatch = Params.Int("batch_size", BristleDefaults.BatchSize, "mini-batch size", min: 1);
    private static readonly Param<int> BristleNearest = Params.Int("nearest_models", BristleDefaults.NearestModels, "prioritizer: received output layers nearest (L2) to the own one that are scored", min: 0);
    private static readonly Param<int> BristleRandom = Params.Int("random_models", BristleDefaults.RandomModels, "prioritizer: further received output layers drawn at random", min: 0);
    private static readonly Param<double> BristleDrop = Params.Double("drop_score", BristleDefaults.DropScore, "integrator: candidates scoring below this get weight 0");
    private static readonly Param<double> BristleStdFactor = Params.Double("certainty_std_factor", BristleDefaults.CertaintyStdFactor, "integrator: certainty = max(0, mean − f·std) of the per-class recalls; this is f", min: 0);
    private static readonly Param<double> BristleTestFraction = Params.Double("local_test_fraction", 0.1,
        "share of each node's examples held out as its local test set (at least 1, at most all but 1)", min: 0, max: 1, minExclusive: true, maxExclusive: true);
    private static readonly Param<string> BristleOutput = Params.String("output_layer", "", "name prefix of the exchanged layer (e.g. \"2\"); empty = the layer of the last parameter tensor");
    private static readonly Param<int> PretrainExamples = Params.Int("pretrain_examples", 2000,
        "public data for the shared frozen features: a seeded sample of this many training examples (0 = no pre-training: frozen random features)", min: 0);
    private static readonly Param<int> PretrainSteps = Params.Int("pretrain_steps", 500, "central pre-training steps on the public data (with [optimizer])", min: 0);
    private static readonly Param<int> PretrainBatch = Params.Int("pretrain_batch_size", 32, "pre-training mini-batch size", min: 1);

    /// <summary>
    /// Bristle: transfer learning over a graph. All nodes share frozen feature layers, pre-trained
    /// centrally (<see cref="Bristle.PretrainFeatures"/>, output layer reset) on a seeded sample of
    /// <c>pretrain_examples</c> training examples standing for public data (it may overlap the
    /// nodes' data); each node holds out <c>local_test_fraction</c> of its examples
    /// (<see cref="Bristle.SplitLocalTest"/>) to score its neighbours' output layers.
    /// <para>Byzantine nodes come from the shared <c>[attack]</c> section (<see cref="AttackConfig"/>,
    /// same nodes as D-SGD for the same seed). Model attacks (sign-flip, gaussian, ipm, alie) are
    /// played by <see cref="BristleAttacker"/>: it answers every honest output layer it receives
    /// with one crafted from it (<c>Own</c> = the received layer, <c>Honest</c> = the layers
    /// received for that round so far). Data poisoning (label-flip, backdoor) runs an ordinary
    /// Bristle node on poisoned data (a backdoor's boost is not applied). Attacks optimised against
    /// an aggregator and mimic are rejected: Bristle has no aggregation rule to target and the
    /// arrival order of the layers is not a stable index.</para>
    /// </summary>
    private static void AddBristle(ComponentRegistry<ProtocolContext, ProtocolSetup> r) => r.Add("bristle",
        "Bristle: frozen pre-trained features shared by all nodes; only the output layer is trained and exchanged, kept by distance (prioritizer) and weighted by per-class recall on a local test set (integrator). Byzantine nodes from [attack].",
        "Verbraeken, de Vos and Pouwelse, \"Bristle: Decentralized Federated Learning in Byzantine, Non-i.i.d. Environments\", 2021",
        new Param[]
        {
            Rounds, BristleSteps, BristleBatch, RoundTimeout, BristleNearest, BristleRandom, BristleDrop, BristleStdFactor, BristleTestFraction, BristleOutput,
            PretrainExamples, PretrainSteps, PretrainBatch,
        },
        (s, c) =>
        {
            var g = StaticGraph(NeedTopology(c, "bristle"), "bristle");
            int n = g.NodeCount;
            var nb = NeighborArrays(g);
            string output = s.Get(BristleOutput);
            var o = new BristleOptions
            {
                Rounds = s.Get(Rounds), LocalSteps = s.Get(BristleSteps), BatchSize = s.Get(BristleBatch), RoundTimeout = Timeout(s),
                NearestModels = s.Get(BristleNearest), RandomModels = s.Get(BristleRandom), DropScore = s.Get(BristleDrop),
                CertaintyStdFactor = s.Get(BristleStdFactor), OutputLayer = output.Length == 0 ? null : output,
            };
            o.Validate();
            var (offset, length) = Bristle.OutputSlice(c.Learner.Layout, o.OutputLayer);
            var byz = AttackConfig.Create(c.Attack, n, nb, c.Aggregator, c.Seed);
            if (byz?.Attack is { UsesAggregator: true } or Mimic)
                throw new ConfigException($"{c.Attack.File}: [{c.Attack.Path}] attack '{byz.Attack.Name}' is not supported by bristle (supported: sign-flip, gaussian, ipm, alie, label-flip, backdoor).");

            // Shared frozen features, pre-trained once on the "public" sample.
            int publicCount = Math.Min(s.Get(PretrainExamples), c.Train.Count);
            int steps = s.Get(PretrainSteps);
            float[] shared;
            if (publicCount == 0 || steps == 0) shared = LocalModel.InitialParameters(c.Learner, c.Seed);
            else
            {
                var pick = Enumerable.Range(0, c.Train.Count).ToArray();
                Rng.Derive(c.Seed, 0, 0, "bristle/public-data").Shuffle(pick.AsSpan());
                var publicData = new DatasetView(c.Train, pick[..publicCount].Order().ToArray());
                shared = Bristle.PretrainFeatures(c.Learner, c.Optimizer, publicData, steps, s.Get(PretrainBatch), c.Seed, outputLayer: o.OutputLayer);
            }

            double fraction = s.Get(BristleTestFraction);
            var train = new DatasetView[n];
            var tests = new DatasetView[n];
            for (int i = 0; i < n; i++)
            {
                var view = c.Partitions[i];
                if (view.Count < 2) { train[i] = view; tests[i] = new DatasetView(view.Dataset, []); continue; }
                int k = Math.Clamp((int)Math.Round(fraction * view.Count), 1, view.Count - 1);
                (train[i], tests[i]) = Bristle.SplitLocalTest(view, k, i, c.Seed);
            }
            var isByz = new bool[n];
            if (byz is not null) foreach (int b in byz.Nodes) isByz[b] = true;

            return new ProtocolSetup(() =>
            {
                var nodes = new INodeBehavior[n];
                for (int i = 0; i < n; i++)
                {
                    if (!isByz[i]) nodes[i] = new BristleNode(i, n, nb[i], c.Learner, c.Optimizer, train[i], tests[i], shared, o);
                    else if (byz!.Attack is { } attack) nodes[i] = new BristleAttacker(i, attack, length, n, byz.Nodes.Count);
                    else
                    {
                        var poisoned = byz.DataPoisoning!.Poison(train[i], Rng.Derive(c.Seed, (ulong)i, 0, "poison"));
                        nodes[i] = new BristleNode(i, n, nb[i], c.Learner, c.Optimizer, poisoned, tests[i], shared, o);
                    }
                }
                return nodes;
            }, n, o.Rounds, double.PositiveInfinity,
                $"Bristle, {n} nodes, output layer {length} of {c.Learner.Layout.Length} parameters (offset {offset}), features pre-trained on {(steps == 0 ? 0 : publicCount)} examples{AttackText(byz)}",
                AttackMetrics(c, byz), byz is not null, byz?.Nodes);
        });
}

/// <summary>
/// A Byzantine Bristle peer playing a model attack on output layers: it never trains; each honest
/// output layer x it receives for round r is answered, to its sender only, with
/// <c>attack.Craft(Own = x, Honest = layers received for r so far)</c> (random stream
/// <c>DeriveRng("bristle/attack", r·n + sender)</c>). Replying per message never waits, so crashes
/// and timeouts cannot stall it. Sends nothing to other attackers (they never send it layers).
/// </summary>
internal sealed class BristleAttacker : INodeBehavior
{
    private readonly int _id;
    private readonly IModelAttack _attack;
    private readonly int _length;
    private readonly int _nodeCount;
    private readonly int _byzantineCount;
    private readonly SortedDictionary<long, List<ReadOnlyMemory<float>>> _seen = new();

    /// <summary>Creates attacker <paramref name="id"/> exchanging layers of <paramref name="length"/> floats.</summary>
    public BristleAttacker(int id, IModelAttack attack, int length, int nodeCount, int byzantineCount)
    {
        _id = id;
        _attack = attack;
        _length = length;
        _nodeCount = nodeCount;
        _byzantineCount = byzantineCount;
    }

    /// <inheritdoc />
    public bool ReportsRounds => false;

    /// <inheritdoc />
    public ReadOnlyMemory<float> EvaluationModel => ReadOnlyMemory<float>.Empty;

    /// <inheritdoc />
    public void OnStart(INodeContext context) { }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (message.Kind != Bristle.ModelKind || message.Model.Length != _length) return;
        long round = message.Round;
        if (!_seen.TryGetValue(round, out var list)) _seen[round] = list = new List<ReadOnlyMemory<float>>();
        list.Add(message.Model.ToArray());
        while (_seen.Count > 0 && _seen.Keys.First() < round - 2) _seen.Remove(_seen.Keys.First());
        var crafted = new float[_length];
        _attack.Craft(new AttackContext
        {
            Own = message.Model, Honest = list.ToArray(), NodeCount = list.Count + _byzantineCount, ByzantineCount = _byzantineCount,
            Rng = context.DeriveRng("bristle/attack", round * _nodeCount + from),
        }, crafted);
        context.Send(from, new Message(Bristle.ModelKind, round, crafted));
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer) { }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result) { }

    /// <inheritdoc />
    public void OnRecover(INodeContext context) { }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        writer.Write(_seen.Count);
        foreach (var (round, list) in _seen)
        {
            writer.Write(round);
            writer.Write(list.Count);
            foreach (var v in list) writer.WriteFloats(v.Span);
        }
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        _seen.Clear();
        int rounds = reader.ReadInt32();
        for (int r = 0; r < rounds; r++)
        {
            long round = reader.ReadInt64();
            int count = reader.ReadInt32();
            var list = new List<ReadOnlyMemory<float>>(count);
            for (int k = 0; k < count; k++) list.Add(reader.ReadFloats());
            _seen[round] = list;
        }
    }
}
