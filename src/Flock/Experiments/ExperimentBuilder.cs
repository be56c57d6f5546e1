using Flock.Data.Partitioning;
using Flock.Experiments.Catalog;
using Flock.Experiments.Config;
using Flock.Runtime.Simulation;

namespace Flock.Experiments;

/// <summary>
/// Turns an experiment file into an <see cref="Experiment"/>. Everything is validated before
/// anything runs: unknown names and keys (with "did you mean"), wrong types, out-of-range values
/// and impossible combinations all raise a <see cref="ConfigException"/> naming the file and key.
/// </summary>
/// <remarks>
/// File layout (every table optional unless marked):
/// <code>
/// name = "quickstart"      # run folder name (default: the file name)
/// seed = 1                 # every random draw derives from it
/// nodes = 32               # data-holding nodes (FedAvg adds a coordinator)
/// [data]         name = "fashion-mnist" | "gaussian-mixture", ...
/// [partition]    name = "iid" | "dirichlet" | "shards" | "quantity-skew", ...
/// [model]        name = "mlp" | "lenet5" | "resnet" | "logistic" | "linear", ...
/// [optimizer]    name = "sgd" | "momentum" | "adam" | "adamw", learning_rate, ...
/// [topology]     name = "ring" | "torus" | ... (decentralized protocols)
/// [aggregator]   name = "mean" | "median" | "nnm+trimmed-mean" | ..., f, ...
/// [protocol]     name = "fedavg" | "dsgd" | "gossip" | "monna" | "sybilwall" | "bristle" | "compressed-fedavg" | "choco" | "onebyte" (required), rounds, ...
/// [simulation]   seconds_per_step, speed, latency, bandwidth, drop_probability, max_time
/// [evaluation]   every_rounds, every_seconds, max_nodes
/// [checkpoint]   every_rounds
/// [compression]  name = "topk" | "dgc" | "qsgd" | ..., error_feedback (compressed-fedavg, choco)
/// [downlink]     name = ... (compressed-fedavg)
/// [attack]       name = "alie" | "sign-flip" | ... | "none", count or fraction, placement (fedavg, dsgd, monna, bristle; sybilwall: "sybil-backdoor")
/// [[faults]]     kind = "crash" | "recover" | "leave" | "join", node, at
/// [[link_failures]] a, b, from, until
/// [random_crashes] rate, mean_downtime
/// </code>
/// <c>flock list</c> prints every component with its parameters and defaults.
/// </remarks>
public static class ExperimentBuilder
{
    private static readonly Param<string> NameP = Params.String("name", "", "run name (default: the file name without extension)");
    private static readonly Param<string> DescriptionP = Params.String("description", "", "free text, kept in the resolved config");
    private static readonly Param<long> SeedP = Params.Long("seed", 1, "experiment seed", min: 0);
    private static readonly Param<int> NodesP = Params.Int("nodes", 16, "data-holding nodes", min: 1, max: 1_000_000);

    private static readonly Param<double> StepSeconds = Params.Double("seconds_per_step", 0.01, "virtual seconds per local training step at speed 1", min: 0);
    private static readonly Param<string> Speed = Params.String("speed", "constant", "distribution of node speed factors (step time multipliers)", "constant", "uniform", "lognormal");
    private static readonly Param<double> SpeedLow = Params.Double("speed_low", 1.0, "uniform speed: lowest factor", min: 0, minExclusive: true);
    private static readonly Param<double> SpeedHigh = Params.Double("speed_high", 2.0, "uniform speed: highest factor", min: 0, minExclusive: true);
    private static readonly Param<double> SpeedSigma = Params.Double("speed_sigma", 0.5, "lognormal speed: σ of ln(factor) (μ = 0)", min: 0);
    private static readonly Param<double> Latency = Params.Double("latency", 0.01, "per-message latency (virtual seconds)", min: 0);
    private static readonly Param<double> Bandwidth = Params.Double("bandwidth", 12.5e6, "link bandwidth in bytes per virtual second", min: 0, minExclusive: true);
    private static readonly Param<double> Drop = Params.Double("drop_probability", 0, "probability that a message is lost", min: 0, max: 1, maxExclusive: true);
    private static readonly Param<double> MaxTime = Params.Double("max_time", 0, "stop after this many virtual seconds (0 = no limit for round-based protocols)", min: 0);

    private static readonly Param<int> EveryRounds = Params.Int("every_rounds", 1, "evaluate every N rounds (round-based protocols)", min: 1);
    private static readonly Param<double> EverySeconds = Params.Double("every_seconds", 0, "evaluate every T virtual seconds (asynchronous protocols; default duration/20)", min: 0);
    private static readonly Param<int> MaxNodes = Params.Int("max_nodes", 0, "evaluate a seeded subset of this many nodes (0 = all)", min: 0);
    private static readonly Param<int> CheckpointEvery = Params.Int("every_rounds", 0, "write a checkpoint every N rounds (0 = never)", min: 0);

    private static readonly Param<string> FaultKind = Params.String("kind", null, "what happens", "crash", "recover", "leave", "join");
    private static readonly Param<int> FaultNode = Params.Int("node", null, "node id", min: 0);
    private static readonly Param<double> FaultAt = Params.Double("at", null, "virtual time", min: 0);
    private static readonly Param<int> LinkA = Params.Int("a", null, "one end", min: 0);
    private static readonly Param<int> LinkB = Params.Int("b", null, "other end", min: 0);
    private static readonly Param<double> LinkFrom = Params.Double("from", null, "virtual time the link fails", min: 0);
    private static readonly Param<double> LinkUntil = Params.Double("until", double.PositiveInfinity, "virtual time it comes back (default never)", min: 0);
    private static readonly Param<double> CrashRate = Params.Double("rate", null, "crashes per node per virtual second", min: 0, minExclusive: true);
    private static readonly Param<double> Downtime = Params.Double("mean_downtime", 10, "mean virtual seconds before a crashed node returns", min: 0, minExclusive: true);

    /// <summary>Loads and builds an experiment file.</summary>
    /// <param name="path">The TOML file.</param>
    /// <param name="overrides"><c>--set key.path=value</c> overrides, applied in order.</param>
    /// <param name="seed">Replaces the file's seed when given (<c>--seed</c>).</param>
    /// <param name="assignments">Values set by a sweep (dotted key → TOML value), applied before the overrides.</param>
    /// <exception cref="ConfigException">Any problem with the file, an override or a data set it names.</exception>
    public static Experiment Load(string path, IEnumerable<string>? overrides = null, ulong? seed = null, IEnumerable<KeyValuePair<string, object>>? assignments = null)
    {
        var root = ExperimentFile.Load(path, overrides, assignments);
        if (seed is not null) root.Table["seed"] = (long)seed.Value;
        return Build(root, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Builds an experiment from a parsed file.</summary>
    /// <exception cref="ConfigException">Any problem with the configuration.</exception>
    public static Experiment Build(ConfigSection root, string baseDirectory, string defaultName)
    {
        string name = root.Get(NameP);
        if (name.Length == 0) { name = defaultName; root.Record("name", name); }
        root.Get(DescriptionP);
        root.Expect("sweep"); // read by `flock sweep`; a plain run uses the file's own values
        ulong seed = (ulong)root.Get(SeedP);
        int nodes = root.Get(NodesP);

        var data = DatasetCatalog.Registry.Create(root.Section("data"), new DatasetContext(baseDirectory, seed), "fashion-mnist");
        var partitioner = PartitionCatalog.Registry.Create(root.Section("partition"), 0, "iid");
        var partitions = Wrap(root, "partition", () => partitioner.Partition(data.Train.All(), nodes, Tensors.Rng.DeriveSeed(seed, 0x9A27)));
        var learner = ModelCatalog.Registry.Create(root.Section("model"), data.Train, "mlp");
        var optimizer = OptimizerCatalog.Registry.Create(root.Section("optimizer"), 0, "sgd");
        var aggregator = AggregatorCatalog.Create(root.Section("aggregator"), seed);
        var topoSection = root.Section("topology");
        var topology = topoSection.Has("name") ? TopologyCatalog.Create(topoSection, nodes, Tensors.Rng.DeriveSeed(seed, 0x7090), baseDirectory) : null;
        var protocol = ProtocolCatalog.Registry.Create(root.Section("protocol", required: true),
            new ProtocolContext(learner, optimizer, partitions, topology, aggregator, seed, root.File, data.Train, data.Test, root.Section("attack"),
                root.Section("compression"), root.Section("downlink")));

        var sim = root.Section("simulation");
        var speed = sim.Get(Speed) switch
        {
            "uniform" => UniformSpeed(sim),
            "lognormal" => SpeedDistribution.LogNormal(0, sim.Get(SpeedSigma)),
            _ => SpeedDistribution.Constant(),
        };
        double maxTime = sim.Get(MaxTime);
        if (maxTime == 0) maxTime = protocol.IsRoundBased ? double.PositiveInfinity : protocol.Duration;

        var eval = root.Section("evaluation");
        double everySeconds = eval.Get(EverySeconds);
        if (!protocol.IsRoundBased && everySeconds == 0) everySeconds = protocol.Duration / 20;
        int totalNodes = protocol.NodeCount;

        var options = new SimulationOptions
        {
            Seed = seed,
            MaxRounds = protocol.Rounds,
            MaxTime = maxTime,
            Compute = new ComputeModel(sim.Get(StepSeconds), speed),
            Link = new LinkModel(sim.Get(Latency), sim.Get(Bandwidth), sim.Get(Drop)),
            Faults = Faults(root, totalNodes),
            Metrics = new MetricsOptions
            {
                EveryRounds = eval.Get(EveryRounds),
                EverySeconds = protocol.IsRoundBased ? 0 : everySeconds,
                Learner = learner,
                TestSet = data.Test.All(),
                MaxEvaluatedNodes = eval.Get(MaxNodes),
                ExtraMetrics = protocol.Metrics ?? Array.Empty<IModelMetric>(),
                ExcludedNodes = protocol.ExcludedNodes ?? Array.Empty<int>(),
            },
        };
        Wrap(root, "simulation", () => { options.Validate(); return 0; });
        int checkpointEvery = root.Section("checkpoint").Get(CheckpointEvery);
        root.ThrowOnUnknownKeys();
        return new Experiment
        {
            Name = name, Seed = seed, SourceFile = root.File, Config = root, Data = data, Partitions = partitions,
            PartitionSummary = PartitionSummary.Of(partitions), Learner = learner, Topology = topology, Protocol = protocol,
            Options = options, CheckpointEvery = checkpointEvery,
        };

        SpeedDistribution UniformSpeed(ConfigSection s)
        {
            double lo = s.Get(SpeedLow), hi = s.Get(SpeedHigh);
            if (hi < lo) throw new ConfigException($"{s.File}: '{s.KeyPath("speed_high")}' = {hi} must be ≥ speed_low = {lo}.");
            return SpeedDistribution.Uniform(lo, hi);
        }
    }

    private static FaultSchedule Faults(ConfigSection root, int totalNodes)
    {
        var nodeFaults = new List<NodeFault>();
        foreach (var f in root.TableArray("faults"))
        {
            int node = f.Get(FaultNode);
            if (node >= totalNodes) throw new ConfigException($"{f.File}: '{f.KeyPath("node")}' = {node} does not exist: nodes are 0..{totalNodes - 1}.");
            var kind = f.Get(FaultKind) switch { "crash" => NodeFaultKind.Crash, "recover" => NodeFaultKind.Recover, "leave" => NodeFaultKind.Leave, _ => NodeFaultKind.Join };
            nodeFaults.Add(new NodeFault(f.Get(FaultAt), node, kind));
        }
        var links = new List<LinkFailure>();
        foreach (var l in root.TableArray("link_failures"))
        {
            int a = l.Get(LinkA), b = l.Get(LinkB);
            foreach (var (k, v) in new[] { ("a", a), ("b", b) })
                if (v >= totalNodes) throw new ConfigException($"{l.File}: '{l.KeyPath(k)}' = {v} does not exist: nodes are 0..{totalNodes - 1}.");
            links.Add(new LinkFailure(a, b, l.Get(LinkFrom), l.Get(LinkUntil)));
        }
        var rc = root.Section("random_crashes");
        RandomCrashes? crashes = rc.Has("rate") ? new RandomCrashes(rc.Get(CrashRate), rc.Get(Downtime)) : null;
        return new FaultSchedule { NodeFaults = nodeFaults, LinkFailures = links, RandomCrashes = crashes };
    }

    private static T Wrap<T>(ConfigSection root, string section, Func<T> f)
    {
        try { return f(); }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException) { throw new ConfigException($"{root.File}: [{section}] {ex.Message}", ex); }
    }
}
