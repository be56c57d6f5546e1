using Flock.Compression;
using Flock.Experiments.Config;
using Flock.Protocols;
using Flock.Topology;

namespace Flock.Experiments.Catalog;

public static partial class ProtocolCatalog
{
    private static readonly Param<string> UpdateKind = Params.String("update", "model-delta", "what clients send: their model change after local steps, or one gradient (DGC style: the server steps)", "model-delta", "gradient");
    private static readonly Param<double> ServerLr = Params.Double("server_learning_rate", 1.0, "θ ← θ + η_s·aggregate", min: 0, minExclusive: true);
    private static readonly Param<double> Gamma = Params.Double("consensus_step", 0.1, "CHOCO consensus step size γ", min: 0, max: 1, minExclusive: true);
    private static readonly Param<int> Samples = Params.Int("samples", 1, "SPSA perturbations per machine and step (one byte each)", min: 1);
    private static readonly Param<double> SpsaEps = Params.Double("epsilon", 1e-3, "SPSA perturbation size ε", min: 0, minExclusive: true);
    private static readonly Param<double> SpsaClip = Params.Double("clip", 10, "projected gradients are clipped to [−c, c] before 8-bit quantization", min: 0, minExclusive: true);

    private static void AddCompression(ComponentRegistry<ProtocolContext, ProtocolSetup> r) => r
        .Add("compressed-fedavg", "FedAvg whose clients send compressed updates ([compression]; optional [downlink]) as real byte payloads.",
            "McMahan et al., 2017, with the codecs of [compression]",
            new Param[] { Rounds, LocalSteps, BatchSize, RoundTimeout, ClientFraction, MinReplies, ResetOpt, UpdateKind, ServerLr },
            (s, c) =>
            {
                int n = c.Partitions.Count;
                var o = new CompressedFedAvgOptions
                {
                    Rounds = s.Get(Rounds), LocalSteps = s.Get(LocalSteps), BatchSize = s.Get(BatchSize), RoundTimeout = Timeout(s),
                    ClientFraction = s.Get(ClientFraction), MinReplies = s.Get(MinReplies), ResetClientOptimizer = s.Get(ResetOpt), Aggregator = c.Aggregator,
                    Update = s.Get(UpdateKind) == "gradient" ? ClientUpdateKind.Gradient : ClientUpdateKind.ModelDelta,
                    ServerLearningRate = (float)s.Get(ServerLr),
                    Uplink = CompressorCatalog.Create(c.Compression, n, new Identity())!,
                    Downlink = CompressorCatalog.Create(c.Downlink, n, null),
                };
                if (o.Downlink is ErrorFeedback)
                    throw new ArgumentException("[downlink] error_feedback = true is not allowed: the coordinator already sends the difference between its model and the copy clients hold, so what a compressed downlink drops is resent anyway; error feedback would add it twice.");
                o.Validate(n);
                return new ProtocolSetup(() => CompressedFedAvg.CreateNodes(c.Learner, c.Optimizer, c.Partitions, o, c.Seed), n + 1, o.Rounds, double.PositiveInfinity,
                    $"FedAvg with {o.Uplink.Name} uplink{(o.Downlink is null ? "" : $" and {o.Downlink.Name} downlink")}, {n} clients", Coordinator: n);
            })
        .Add("choco", "CHOCO-SGD: local steps, then compressed gossip of differences against public copies (Metropolis–Hastings weights).",
            "Koloskova et al., \"Decentralized Stochastic Optimization and Gossip Algorithms with Compressed Communication\", 2019",
            new Param[] { Rounds, LocalSteps, BatchSize, RoundTimeout, Gamma },
            (s, c) =>
            {
                var g = StaticGraph(NeedTopology(c, "choco"), "choco");
                var w = MixingMatrix.MetropolisHastings(g);
                int n = g.NodeCount;
                var nb = NeighborArrays(g);
                var wt = NeighborWeightArrays(w, n);
                var o = new ChocoSgdOptions
                {
                    Rounds = s.Get(Rounds), LocalSteps = s.Get(LocalSteps), BatchSize = s.Get(BatchSize), RoundTimeout = Timeout(s),
                    ConsensusStepSize = (float)s.Get(Gamma), Compressor = CompressorCatalog.Create(c.Compression, n, new Identity())!,
                };
                o.Validate();
                return new ProtocolSetup(() => ChocoSgd.CreateNodes(c.Learner, c.Optimizer, c.Partitions, nb, wt, o, c.Seed), n, o.Rounds, double.PositiveInfinity,
                    $"CHOCO-SGD with {o.Compressor.Name}, {n} nodes, γ = {o.ConsensusStepSize}");
            })
        .Add("onebyte", "Shared-randomness SPSA: machines exchange one byte per perturbation and regenerate each other's perturbations from seeds; forward passes only.",
            "Zelikman et al., \"Just One Byte (per gradient): A Note on Low-Bandwidth Decentralized Language Model Finetuning Using Shared Randomness\", 2023",
            new Param[] { Rounds, BatchSize, RoundTimeout, Samples, SpsaEps, SpsaClip },
            (s, c) =>
            {
                int n = c.Partitions.Count;
                var o = new OneByteSpsaOptions
                {
                    Rounds = s.Get(Rounds), BatchSize = s.Get(BatchSize), RoundTimeout = Timeout(s), Samples = s.Get(Samples),
                    Epsilon = (float)s.Get(SpsaEps), Clip = (float)s.Get(SpsaClip),
                };
                o.Validate();
                return new ProtocolSetup(() => OneByteSpsa.CreateNodes(c.Learner, c.Optimizer, c.Partitions, o, c.Seed), n, o.Rounds, double.PositiveInfinity,
                    $"one-byte SPSA, {n} machines, {o.Samples} byte(s) per step");
            });
}
