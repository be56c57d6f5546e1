using Flock.Compression;
using Flock.Experiments.Config;

namespace Flock.Experiments.Catalog;

/// <summary>Registered compressors (<c>[compression] name = ...</c>, <c>[downlink] name = ...</c>); every one accepts <c>error_feedback</c>.</summary>
public static class CompressorCatalog
{
    private static readonly Param<double> Density = Params.Double("density", 0.01, "share of coordinates sent", min: 0, max: 1, minExclusive: true);
    private static readonly Param<double> FinalDensity = Params.Double("density", 0.001, "share sent after the warm-up (0.001 = 99.9% sparsity)", min: 0, max: 1, minExclusive: true);
    private static readonly Param<double> DgcMomentum = Params.Double("momentum", 0.9, "momentum correction μ", min: 0, max: 1, maxExclusive: true);
    private static readonly Param<double> DgcClip = Params.Double("clip_norm", 0, "local gradient clipping threshold C (scaled by N^−1/2; 0 = off)", min: 0);
    private static readonly Param<double[]> Warmup = Params.DoubleArray("warmup_densities", new[] { 0.25, 0.0625, 0.015625, 0.004, 0.001 }, "densities of the warm-up stages", min: 0, max: 1);
    private static readonly Param<int> WarmupRounds = Params.Int("warmup_rounds_per_stage", 50, "rounds per warm-up stage", min: 1);
    private static readonly Param<int> Levels = Params.Int("levels", 7, "quantization levels s", min: 1, max: 127);
    private static readonly Param<int> Bucket = Params.Int("bucket_size", 0, "coordinates per norm bucket (0 = whole vector)", min: 0);
    private static readonly Param<double> Ratio = Params.Double("ratio", 0.1, "sketch size as a share of the dimension", min: 0, max: 1, minExclusive: true);
    private static readonly Param<double> RqmClip = Params.Double("clip", 1.0, "clip coordinates to [−c, c]", min: 0, minExclusive: true);
    private static readonly Param<int> RqmLevels = Params.Int("levels", 16, "grid levels", min: 2);
    private static readonly Param<double> RqmKeep = Params.Double("keep_probability", 0.5, "probability each interior level is kept", min: 0, max: 1, minExclusive: true);
    private static readonly Param<bool> ErrorFeedbackP = Params.Bool("error_feedback", false, "accumulate what compression dropped and add it back next time");

    /// <summary>The registry (context: the number of nodes, for DGC's clipping scale).</summary>
    public static ComponentRegistry<int, ICompressor> Registry { get; } = new ComponentRegistry<int, ICompressor>("compressor")
        .Add("identity", "Dense float32 (no compression).", "standard", new Param[] { ErrorFeedbackP }, (s, _) => new Identity())
        .Add("topk", "Keep the largest-magnitude share of coordinates (sampled threshold).", "Aji and Heafield, \"Sparse Communication for Distributed Gradient Descent\", 2017",
            new Param[] { Density, ErrorFeedbackP }, (s, _) => new TopK(s.Get(Density)))
        .Add("randomk", "Keep a random share of coordinates, rescaled to be unbiased.", "Stich et al., \"Sparsified SGD with Memory\", 2018",
            new Param[] { Density, ErrorFeedbackP }, (s, _) => new RandomK(s.Get(Density)))
        .Add("dgc", "Deep Gradient Compression: momentum correction, local clipping, momentum factor masking, warm-up.", "Lin et al., \"Deep Gradient Compression: Reducing the Communication Bandwidth for Distributed Training\", 2018",
            new Param[] { FinalDensity, DgcMomentum, DgcClip, Warmup, WarmupRounds, ErrorFeedbackP },
            (s, n) => new DeepGradientCompression(s.Get(FinalDensity), (float)s.Get(DgcMomentum), (float)s.Get(DgcClip), n, s.Get(Warmup), s.Get(WarmupRounds)))
        .Add("qsgd", "Stochastic unbiased quantization to s levels of |x|/‖x‖.", "Alistarh et al., \"QSGD: Communication-Efficient SGD via Gradient Quantization and Encoding\", 2017",
            new Param[] { Levels, Bucket, ErrorFeedbackP }, (s, _) => new Qsgd(s.Get(Levels), s.Get(Bucket)))
        .Add("sign", "One bit per coordinate, scaled by mean |x| (use with error_feedback).", "Bernstein et al., \"signSGD\", 2018; Karimireddy et al., \"Error Feedback Fixes SignSGD\", 2019",
            new Param[] { ErrorFeedbackP }, (s, _) => new ScaledSign())
        .Add("rqm", "Randomized Quantization Mechanism: random subset of levels, unbiased randomized rounding.", "Youn et al., \"Randomized Quantization is All You Need for Differential Privacy in Federated Learning\", 2023",
            new Param[] { RqmClip, RqmLevels, RqmKeep, ErrorFeedbackP }, (s, _) => new RandomizedQuantization((float)s.Get(RqmClip), s.Get(RqmLevels), (float)s.Get(RqmKeep)))
        .Add("count-sketch", "Count sketch of a fresh seed per round; de-sketched by the receiver.", "Charikar et al., 2002; Song et al., \"Sketching for First Order Method\", 2023",
            new Param[] { Ratio, ErrorFeedbackP }, (s, _) => new CountSketch(s.Get(Ratio)))
        .Add("srht", "Subsampled randomized Hadamard transform sketch; de-sketched by the receiver.", "Song et al., \"Sketching for First Order Method: Efficient Algorithm for Low-Bandwidth Channel and Vulnerability\", 2023",
            new Param[] { Ratio, ErrorFeedbackP }, (s, _) => new Srht(s.Get(Ratio)));

    /// <summary>Builds the compressor of <paramref name="section"/> (wrapped in error feedback when asked), or <paramref name="fallback"/> when the section has no name.</summary>
    /// <exception cref="ConfigException">Unknown compressor or bad parameter.</exception>
    public static ICompressor? Create(ConfigSection section, int nodes, ICompressor? fallback)
    {
        if (!section.Has("name") && section.Table.Count == 0) return fallback;
        var c = Registry.Create(section, nodes);
        return section.Get(ErrorFeedbackP) ? new ErrorFeedback(c) : c;
    }
}
