using Flock.Aggregation;
using Flock.Data;
using Flock.Experiments.Config;
using Flock.Models;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Topology;

namespace Flock.Experiments.Catalog;

/// <summary>Everything a protocol factory may need, built from the other sections.</summary>
/// <param name="Learner">The model.</param>
/// <param name="Optimizer">The local optimizer.</param>
/// <param name="Partitions">Each data-holding node's view of the training set.</param>
/// <param name="Topology">The communication graph (decentralized protocols), or null when none was configured.</param>
/// <param name="Aggregator">The aggregation rule from <c>[aggregator]</c>.</param>
/// <param name="Seed">The experiment seed.</param>
/// <param name="File">The experiment file (for messages).</param>
/// <param name="Train">The whole training set (attackers draw their own data from it).</param>
/// <param name="Test">The test set (attack metrics).</param>
/// <param name="Attack">The <c>[attack]</c> section (empty when the run has no attackers).</param>
/// <param name="Compression">The <c>[compression]</c> section (uplink / gossip codec).</param>
/// <param name="Downlink">The <c>[downlink]</c> section (coordinator → clients codec).</param>
public sealed record ProtocolContext(ILearner Learner, IOptimizer Optimizer, IReadOnlyList<DatasetView> Partitions,
    ITopologySchedule? Topology, IAggregator Aggregator, ulong Seed, string File, Dataset Train, Dataset Test, ConfigSection Attack,
    ConfigSection Compression, ConfigSection Downlink);

/// <summary>A configured protocol: builds fresh node behaviours (again on resume) and says how long to run.</summary>
/// <param name="CreateNodes">Makes the node behaviours (node ids = array indices).</param>
/// <param name="NodeCount">How many nodes CreateNodes makes (FedAvg: clients + coordinator).</param>
/// <param name="Rounds">Rounds to run (round-based protocols), else 0.</param>
/// <param name="Duration">Virtual seconds to run (asynchronous protocols), else infinity.</param>
/// <param name="Description">One line for the console.</param>
/// <param name="Metrics">Extra metric columns (e.g. attack success rate).</param>
/// <param name="HasAttackers">The run has Byzantine or Sybil nodes: accuracy columns then cover honest nodes only.</param>
/// <param name="ExcludedNodes">Nodes left out of evaluation (the Byzantine ones).</param>
/// <param name="Coordinator">The coordinator's node id in star protocols (uplink and downlink bytes are reported apart).</param>
public sealed record ProtocolSetup(Func<INodeBehavior[]> CreateNodes, int NodeCount, long Rounds, double Duration, string Description,
    IReadOnlyList<Flock.Runtime.Simulation.IModelMetric>? Metrics = null, bool HasAttackers = false, IReadOnlyList<int>? ExcludedNodes = null,
    int? Coordinator = null)
{
    /// <summary>True for protocols measured in rounds.</summary>
    public bool IsRoundBased => Rounds > 0;
}

/// <summary>Registered protocols (<c>[protocol] name = ...</c>).</summary>
public static partial class ProtocolCatalog
{
    private static readonly Param<int> Rounds = Params.Int("rounds", 20, "rounds to run", min: 1);
    private static readonly Param<int> LocalSteps = Params.Int("local_steps", 10, "local SGD steps per round (or per wake-up)", min: 1);
    private static readonly Param<int> BatchSize = Params.Int("batch_size", 32, "mini-batch size", min: 1);
    private static readonly Param<double> RoundTimeout = Params.Double("round_timeout", 0, "virtual seconds to wait for replies/neighbours before going on without them (0 = wait forever)", min: 0);
    private static readonly Param<double> ClientFraction = Params.Double("client_fraction", 1.0, "share of clients sampled per round", min: 0, max: 1, minExclusive: true);
    private static readonly Param<int> MinReplies = Params.Int("min_replies", 1, "fewer replies than this ⇒ failed round, model unchanged", min: 1);
    private static readonly Param<bool> ResetOpt = Params.Bool("reset_client_optimizer", true, "clients restart their optimizer state every round");
    private static readonly Param<double> Period = Params.Double("period", 1.0, "virtual seconds between a node's wake-ups", min: 0, minExclusive: true);
    private static readonly Param<double> Jitter = Params.Double("jitter", 0.1, "relative random jitter of the period", min: 0, max: 1);
    private static readonly Param<bool> AgeWeighted = Params.Bool("age_weighted", true, "weight the merge by model age");
    private static readonly Param<double> Duration = Params.Double("duration", 100, "virtual seconds to run", min: 0, minExclusive: true);

    /// <summary>
    /// Runs the aggregator once on <paramref name="inputs"/> tiny vectors so that a rule whose
    /// precondition cannot hold for what a node receives (e.g. 2f ≥ inputs for a trimmed mean) fails
    /// before the run instead of in the middle of it.
    /// </summary>
    /// <exception cref="ArgumentException">The rule rejects that many inputs.</exception>
    internal static void CheckAggregatorFits(IAggregator rule, int inputs, string who)
    {
        var vectors = Enumerable.Range(0, inputs).Select(i => (ReadOnlyMemory<float>)new float[] { i }).ToArray();
        var weights = Enumerable.Repeat(1f, inputs).ToArray();
        try
        {
            rule.Aggregate(vectors, weights, new float[1]);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"aggregator '{rule.Name}' cannot aggregate the {inputs} models {who} holds (its own and its neighbours'): {ex.Message}", ex);
        }
    }

    /// <summary>Each node's neighbour ids, as the protocols' factories take them.</summary>
    internal static int[][] NeighborArrays(Graph g) => Enumerable.Range(0, g.NodeCount).Select(i => g.Neighbors(i).ToArray()).ToArray();

    /// <summary>Each node's Metropolis–Hastings weights, aligned with <see cref="NeighborArrays"/>.</summary>
    internal static double[][] NeighborWeightArrays(MixingMatrix w, int n) => Enumerable.Range(0, n).Select(i => w.NeighborWeights(i).ToArray()).ToArray();

    private static string AttackText(ByzantineSetup? b) => b is null ? "" :
        $"; {b.Nodes.Count} Byzantine ({b.Attack?.Name ?? b.DataPoisoning?.GetType().Name ?? "?"})";

    private static IReadOnlyList<Flock.Runtime.Simulation.IModelMetric>? AttackMetrics(ProtocolContext c, ByzantineSetup? b) =>
        b?.DataPoisoning is Flock.Attacks.Backdoor bd ? new[] { new Flock.Runtime.Simulation.AttackSuccessRate(c.Learner, bd, c.Test.All()) } : null;

    private static double Timeout(ConfigSection s) { double t = s.Get(RoundTimeout); return t == 0 ? double.PositiveInfinity : t; }

    private static ITopologySchedule NeedTopology(ProtocolContext c, string protocol) =>
        c.Topology ?? throw new ArgumentException($"protocol '{protocol}' needs a [topology] section (e.g. name = \"ring\").");

    /// <summary>Neighbour arrays of a static graph; time-varying graphs are not supported by these protocols yet.</summary>
    internal static Graph StaticGraph(ITopologySchedule t, string protocol) =>
        t.IsStatic ? t.GraphAt(0) : throw new ArgumentException($"protocol '{protocol}' runs on a static graph; remove resample_every from [topology].");

    /// <summary>The registry.</summary>
    public static ComponentRegistry<ProtocolContext, ProtocolSetup> Registry => LazyRegistry.Value;

    // Lazy: the partial files' static fields must all be initialised before the entries use them.
    private static readonly Lazy<ComponentRegistry<ProtocolContext, ProtocolSetup>> LazyRegistry = new(CreateRegistry);

    private static ComponentRegistry<ProtocolContext, ProtocolSetup> CreateRegistry()
    {
        var r = Core(new ComponentRegistry<ProtocolContext, ProtocolSetup>("protocol"));
        AddMonna(r);
        AddCompression(r);
        AddSybilWall(r);
        AddBristle(r);
        return r;
    }

    /// <summary>
    /// D-SGD on a time-varying graph: each node follows the schedule (Metropolis–Hastings weights of
    /// each round's graph, or equal weights with a robust aggregator). Hub placement of attackers
    /// uses the graph of round 1.
    /// </summary>
    private static ProtocolSetup TimeVaryingDSgd(ConfigSection s, ProtocolContext c, ITopologySchedule topology)
    {
        int n = topology.NodeCount;
        var first = topology.GraphAt(1);
        var nb = Enumerable.Range(0, n).Select(i => first.Neighbors(i).ToArray()).ToArray();
        var o = new DSgdOptions
        {
            Rounds = s.Get(Rounds), LocalSteps = s.Get(LocalSteps), BatchSize = s.Get(BatchSize), RoundTimeout = Timeout(s), Aggregator = c.Aggregator,
            Byzantine = AttackConfig.Create(c.Attack, n, nb, c.Aggregator, c.Seed),
        };
        o.Validate();
        bool robust = c.Aggregator is not Mean;
        string every = topology is ResampledTopology r ? $"resampled every {r.Period} round{(r.Period == 1 ? "" : "s")}" : "time-varying";
        return new ProtocolSetup(() => DSgd.CreateNodes(c.Learner, c.Optimizer, c.Partitions, topology, o, c.Seed, robust), n, o.Rounds, double.PositiveInfinity,
            $"D-SGD, {n} nodes, graph {every}, {o.LocalSteps} local steps per round, aggregator {c.Aggregator.Name}{AttackText(o.Byzantine)}",
            AttackMetrics(c, o.Byzantine), o.Byzantine is not null, o.Byzantine?.Nodes);
    }

    private static ComponentRegistry<ProtocolContext, ProtocolSetup> Core(ComponentRegistry<ProtocolContext, ProtocolSetup> registry) => registry
        .Add("fedavg", "Federated averaging: a coordinator samples clients, they train locally, it averages (with the configured aggregator).",
            "McMahan et al., \"Communication-Efficient Learning of Deep Networks from Decentralized Data\", 2017",
            new Param[] { Rounds, LocalSteps, BatchSize, RoundTimeout, ClientFraction, MinReplies, ResetOpt },
            (s, c) =>
            {
                var o = new FedAvgOptions
                {
                    Rounds = s.Get(Rounds), LocalSteps = s.Get(LocalSteps), BatchSize = s.Get(BatchSize), RoundTimeout = Timeout(s),
                    ClientFraction = s.Get(ClientFraction), MinReplies = s.Get(MinReplies), ResetClientOptimizer = s.Get(ResetOpt), Aggregator = c.Aggregator,
                    Byzantine = AttackConfig.Create(c.Attack, c.Partitions.Count, null, c.Aggregator, c.Seed),
                };
                o.Validate(c.Partitions.Count);
                return new ProtocolSetup(() => FedAvg.CreateNodes(c.Learner, c.Optimizer, c.Partitions, o, c.Seed), c.Partitions.Count + 1, o.Rounds, double.PositiveInfinity,
                    $"FedAvg, {c.Partitions.Count} clients, {o.ClientFraction:P0} per round, {o.LocalSteps} local steps{AttackText(o.Byzantine)}",
                    AttackMetrics(c, o.Byzantine), o.Byzantine is not null, Coordinator: c.Partitions.Count);
            })
        .Add("dsgd", "Decentralized SGD: local steps, then averaging with neighbours (Metropolis–Hastings weights; a robust aggregator replaces them).",
            "Lian et al., \"Can Decentralized Algorithms Outperform Centralized Algorithms?\", 2017",
            new Param[] { Rounds, LocalSteps, BatchSize, RoundTimeout },
            (s, c) =>
            {
                var topology = NeedTopology(c, "dsgd");
                if (!topology.IsStatic) return TimeVaryingDSgd(s, c, topology);
                var g = StaticGraph(topology, "dsgd");
                var w = MixingMatrix.MetropolisHastings(g);
                int n = g.NodeCount;
                var nb = NeighborArrays(g);
                var wt = NeighborWeightArrays(w, n);
                var self = Enumerable.Range(0, n).Select(w.SelfWeight).ToArray();
                var o = new DSgdOptions
                {
                    Rounds = s.Get(Rounds), LocalSteps = s.Get(LocalSteps), BatchSize = s.Get(BatchSize), RoundTimeout = Timeout(s), Aggregator = c.Aggregator,
                    Byzantine = AttackConfig.Create(c.Attack, n, nb, c.Aggregator, c.Seed),
                };
                o.Validate();
                // The mean mixes with Metropolis–Hastings weights; a robust rule aggregates own + received models with equal weight.
                bool robust = c.Aggregator is not Mean;
                if (robust) CheckAggregatorFits(c.Aggregator, Enumerable.Range(0, n).Min(i => g.Degree(i)) + 1, "a node of the lowest degree");
                return new ProtocolSetup(() => robust
                        ? DSgd.CreateNodes(c.Learner, c.Optimizer, c.Partitions, nb, o, c.Seed)
                        : DSgd.CreateNodes(c.Learner, c.Optimizer, c.Partitions, nb, wt, self, o, c.Seed), n, o.Rounds, double.PositiveInfinity,
                    $"D-SGD, {n} nodes, {o.LocalSteps} local steps per round, aggregator {c.Aggregator.Name}{AttackText(o.Byzantine)}",
                    AttackMetrics(c, o.Byzantine), o.Byzantine is not null, o.Byzantine?.Nodes);
            })
        .Add("gossip", "Gossip learning: each node periodically sends its model to a random neighbour; receivers merge and train.",
            "Ormándi et al., \"Gossip learning with linear models on fully distributed data\", 2013",
            new Param[] { Duration, Period, Jitter, LocalSteps, BatchSize, AgeWeighted },
            (s, c) =>
            {
                var g = StaticGraph(NeedTopology(c, "gossip"), "gossip");
                var nb = NeighborArrays(g);
                var o = new GossipLearningOptions { Period = s.Get(Period), Jitter = s.Get(Jitter), LocalSteps = s.Get(LocalSteps), BatchSize = s.Get(BatchSize), AgeWeighted = s.Get(AgeWeighted) };
                o.Validate();
                return new ProtocolSetup(() => GossipLearning.CreateNodes(c.Learner, c.Optimizer, c.Partitions, nb, o, c.Seed), g.NodeCount, 0, s.Get(Duration),
                    $"gossip learning, {g.NodeCount} nodes, period {o.Period}s");
            });
}
