using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// Deep Gradient Compression, from "Deep Gradient Compression: Reducing the Communication
/// Bandwidth for Distributed Training" (Lin, Han, Mao, Wang &amp; Dally, 2018). Per node and round:
/// <list type="number">
/// <item>local gradient clipping: if a clip norm C is set, g ← g·min(1, C·N^−1/2 / ‖g‖) with N nodes;</item>
/// <item>momentum correction: u ← μ·u + g, v ← v + u;</item>
/// <item>threshold by sampling (~1% of |v|), refined at most 10 times (×1.3 while more than 1.3·k
/// entries pass, ×0.8 while fewer than 0.8·k), then the exact top-k among the candidates if more
/// than k pass; the entries with |v| ≥ threshold are sent as (index, value);</item>
/// <item>momentum factor masking: u and v are zeroed at the sent indices.</item>
/// </list>
/// Receivers sum the decoded payloads and divide by N (<see cref="DecodeAdd"/> with scale 1/N),
/// and the optimizer then steps without its own momentum (it is already in the payload).
/// </summary>
/// <remarks>
/// <para>
/// <b>Warm-up.</b> The density follows <see cref="WarmupDensities"/> (default 25%, 6.25%,
/// 1.5625%, 0.4%, 0.1%, i.e. sparsity 75%, 93.75%, 98.4375%, 99.6%, 99.9%), each for
/// <see cref="WarmupRoundsPerStage"/> rounds of <see cref="CompressionContext.Round"/>, then
/// <see cref="FinalDensity"/> (<see cref="DensityAt"/>). Set the rounds per stage to the rounds of
/// an epoch to reproduce the paper's per-epoch schedule.
/// </para>
/// <para>
/// <b>State.</b> 2·d floats: the momentum u, then the accumulated velocity v. The payload uses the
/// shared sparse format with codec id <see cref="CodecId.Dgc"/>; k = ⌈density·d⌉ and at most k
/// entries are sent (possibly fewer, as in the paper, when the refined count ends in [0.8·k, k)).
/// The threshold sample is drawn from the context's generator, so a payload is reproducible from
/// (seed, node, round).
/// </para>
/// <para>
/// <b>Cost.</b> The sampled entries of the updated v are computed from u, v and g before the
/// momentum pass, so the first threshold is known during the pass, which also counts and collects
/// the entries passing it: one pass over the state instead of two. On a vector of at least
/// <see cref="Flock.Tensors.KernelParallelism.MinParallelBytes"/> the sample and the pass run on
/// several threads (chunks of 2^16 entries, collected in chunk order), with payloads and state
/// bit-identical to one thread's.
/// </para>
/// </remarks>
public sealed class DeepGradientCompression : ICompressor
{
    /// <summary>Registry name.</summary>
    public const string RegistryName = "dgc";

    /// <summary>Default final density (99.9% sparsity).</summary>
    public const double DefaultFinalDensity = 0.001;

    /// <summary>Default momentum μ.</summary>
    public const float DefaultMomentum = 0.9f;

    /// <summary>Default fraction of entries sampled for the threshold.</summary>
    public const double DefaultSampleFraction = 0.01;

    /// <summary>The paper's warm-up densities: 25%, 6.25%, 1.5625%, 0.4%, 0.1%.</summary>
    public static IReadOnlyList<double> PaperWarmupDensities { get; } = [0.25, 0.0625, 0.015625, 0.004, 0.001];

    private readonly double[] _warmup;

    /// <summary>Creates DGC.</summary>
    /// <param name="finalDensity">Density after warm-up, in (0, 1].</param>
    /// <param name="momentum">Momentum μ in [0, 1) for the momentum correction (0: plain gradient accumulation).</param>
    /// <param name="clipNorm">Global clipping threshold C (finite, ≥ 0; 0 disables local clipping); each node clips to C·N^−1/2.</param>
    /// <param name="nodeCount">Number of nodes N (≥ 1) that scales the local clipping threshold.</param>
    /// <param name="warmupDensities">Densities of the warm-up stages, each in (0, 1]; null for <see cref="PaperWarmupDensities"/>, empty for no warm-up.</param>
    /// <param name="warmupRoundsPerStage">Rounds per warm-up stage (≥ 1).</param>
    /// <param name="sampleFraction">Fraction of |v| sampled to estimate the threshold, in (0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public DeepGradientCompression(double finalDensity = DefaultFinalDensity, float momentum = DefaultMomentum, float clipNorm = 0f, int nodeCount = 1,
        IReadOnlyList<double>? warmupDensities = null, int warmupRoundsPerStage = 1, double sampleFraction = DefaultSampleFraction)
    {
        FinalDensity = CompressorCheck.Density(finalDensity, nameof(finalDensity));
        if (!(momentum >= 0 && momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"Invalid momentum: {momentum.ToString(CultureInfo.InvariantCulture)}; must be in [0, 1).");
        Momentum = momentum;
        ClipNorm = CompressorCheck.NonNegativeFinite(clipNorm, nameof(clipNorm), "clip norm");
        NodeCount = CompressorCheck.Count(nodeCount, nameof(nodeCount), "node count");
        _warmup = (warmupDensities ?? PaperWarmupDensities).ToArray();
        foreach (double w in _warmup) CompressorCheck.Density(w, nameof(warmupDensities));
        WarmupRoundsPerStage = CompressorCheck.Count(warmupRoundsPerStage, nameof(warmupRoundsPerStage), "rounds per warm-up stage");
        if (!(sampleFraction > 0 && sampleFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(sampleFraction), sampleFraction, $"Invalid sample fraction: {sampleFraction.ToString(CultureInfo.InvariantCulture)}; must be in (0, 1].");
        SampleFraction = sampleFraction;
    }

    /// <summary>Density after warm-up.</summary>
    public double FinalDensity { get; }

    /// <summary>Momentum μ.</summary>
    public float Momentum { get; }

    /// <summary>Global clipping threshold C (0: no clipping).</summary>
    public float ClipNorm { get; }

    /// <summary>Number of nodes N for the local clipping threshold C·N^−1/2.</summary>
    public int NodeCount { get; }

    /// <summary>Densities of the warm-up stages.</summary>
    public IReadOnlyList<double> WarmupDensities => _warmup;

    /// <summary>Rounds per warm-up stage.</summary>
    public int WarmupRoundsPerStage { get; }

    /// <summary>Fraction of |v| sampled for the threshold.</summary>
    public double SampleFraction { get; }

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public CodecId Codec => CodecId.Dgc;

    /// <inheritdoc />
    public string Description => FormattableString.Invariant(
        $"dgc: density {FinalDensity} after warm-up [{string.Join(", ", _warmup.Select(w => w.ToString(CultureInfo.InvariantCulture)))}] × {WarmupRoundsPerStage} round(s), momentum {Momentum}, clip {(ClipNorm > 0 ? $"{ClipNorm}·N^-1/2 (N = {NodeCount})" : "off")}");

    /// <summary>The density used in round <paramref name="round"/> (0-based).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="round"/> is negative.</exception>
    public double DensityAt(long round)
    {
        if (round < 0) throw new ArgumentOutOfRangeException(nameof(round), round, $"Invalid round: {round}; must be ≥ 0.");
        long stage = round / WarmupRoundsPerStage;
        return stage < _warmup.Length ? _warmup[stage] : FinalDensity;
    }

    /// <summary>The target count k = ⌈density·d⌉ in round <paramref name="round"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> or <paramref name="round"/> is negative.</exception>
    public int CountAt(int dimension, long round) => CompressorCheck.CountFromDensity(DensityAt(round), CompressorCheck.Dimension(dimension));

    /// <inheritdoc />
    public int StateLength(int dimension) => CompressorCheck.Length(2L * CompressorCheck.Dimension(dimension), dimension, "state");

    /// <summary>The momentum u (first d floats of the state).</summary>
    /// <exception cref="ArgumentException"><paramref name="state"/> is not 2·<paramref name="dimension"/> long.</exception>
    public static Span<float> MomentumOf(Span<float> state, int dimension) => CheckState(state, dimension)[..dimension];

    /// <summary>The accumulated velocity v (last d floats of the state).</summary>
    /// <exception cref="ArgumentException"><paramref name="state"/> is not 2·<paramref name="dimension"/> long.</exception>
    public static Span<float> VelocityOf(Span<float> state, int dimension) => CheckState(state, dimension)[dimension..];

    private static Span<float> CheckState(Span<float> state, int dimension)
    {
        if (state.Length != 2L * dimension) throw new ArgumentException($"State length {state.Length} is not 2·{dimension}.", nameof(state));
        return state;
    }

    /// <inheritdoc />
    public int MaxEncodedLength(int dimension)
    {
        double max = FinalDensity;
        foreach (double w in _warmup) max = Math.Max(max, w);
        return CompressorCheck.Length(SparseFormat.MaxLength(dimension, CompressorCheck.CountFromDensity(max, CompressorCheck.Dimension(dimension))), dimension, "payload");
    }

    /// <inheritdoc />
    public int Encode(ReadOnlySpan<float> input, Span<float> state, Span<byte> destination, in CompressionContext context)
    {
        CompressorCheck.EncodeArguments(this, input, state, destination);
        int d = input.Length;
        var u = state[..d];
        var v = state[d..];
        float gradScale = 1f;
        if (ClipNorm > 0)
        {
            double norm = Math.Sqrt(Kernels.SumOfSquares(input));
            double limit = ClipNorm / Math.Sqrt(NodeCount);
            if (norm > limit) gradScale = (float)(limit / norm);
        }
        int k = CountAt(d, context.Round);
        int[] indices = ArrayPool<int>.Shared.Rent(Math.Max(k, 1));
        float[]? sample = null;
        int[]? cand = null;
        try
        {
            int n;
            if (k > 0 && k < d)
            {
                // The threshold sample is the updated v at the sampled indices, computed from u, v and g
                // before the accumulation, so the accumulation pass also counts (and collects) the
                // entries passing the first threshold: the same counts as a separate pass afterwards.
                int m = Selection.DgcSampleLength(d, SampleFraction);
                sample = ArrayPool<float>.Shared.Rent(m);
                var keys = sample.AsSpan(0, m);
                Selection.StratifiedIndices(d, context.CreateRng("dgc-threshold"), MemoryMarshal.Cast<float, int>(keys));
                SampleUpdated(u, v, input, Momentum, gradScale, keys);
                float t = Selection.DgcThreshold(d, k, keys);
                int cap = Selection.DgcCapacity(d, k);
                cand = ArrayPool<int>.Shared.Rent(cap);
                int c = KernelParallelism.UseThreads(4L * d, Candidates.ChunkCount(d))
                    ? AccumulateAndCollectThreaded(u, v, input, Momentum, gradScale, t, cand.AsSpan(0, cap))
                    : AccumulateAndCollect(u, v, input, Momentum, gradScale, t, 0, cand.AsSpan(0, cap));
                n = Selection.DgcRefine(v, k, t, c, ref cand, indices);
            }
            else
            {
                Accumulate(u, v, input, Momentum, gradScale);
                n = Selection.Dgc(v, k, SampleFraction, context.CreateRng("dgc-threshold"), indices);
            }
            var sent = indices.AsSpan(0, n);
            int length = SparseFormat.Write(destination, CodecId.Dgc, d, sent, v, 1f);
            foreach (int i in sent)                                       // momentum factor masking
            {
                u[i] = 0f;
                v[i] = 0f;
            }
            return length;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(indices);
            if (sample is not null) ArrayPool<float>.Shared.Return(sample);
            if (cand is not null) ArrayPool<int>.Shared.Return(cand);
        }
    }

    /// <summary>Entries per tile of <see cref="AccumulateAndCollect"/> (16 KB of v: L1-resident when collected).</summary>
    private const int Tile = 1 << 12;

    /// <summary>
    /// Replaces each sample index in <paramref name="sample"/> (int bits) by the magnitude key of the
    /// updated v at that index, v + (μ·u + a·g), rounded as <see cref="Accumulate"/> rounds it. The
    /// indices increase, so the entries a few samples ahead are prefetched; a large vector's sample is
    /// split into runs of <see cref="SampleChunk"/> on several threads (each key is computed on its own).
    /// </summary>
    private static unsafe void SampleUpdated(ReadOnlySpan<float> u, ReadOnlySpan<float> v, ReadOnlySpan<float> g, float mu, float a, Span<float> sample)
    {
        int d = g.Length, m = sample.Length, chunks = (m + SampleChunk - 1) / SampleChunk;
        fixed (float* up = u)
        fixed (float* vp = v)
        fixed (float* gp = g)
        fixed (float* sp = sample)
        {
            if (KernelParallelism.UseThreads(4L * d, chunks)) SampleThreaded(up, vp, gp, mu, a, sp, m, chunks, 4L * d);
            else SampleRange(up, vp, gp, mu, a, sp, 0, m);
        }
    }

    /// <summary>Samples per run of a threaded <see cref="SampleUpdated"/>.</summary>
    private const int SampleChunk = 1 << 13;

    private static unsafe void SampleThreaded(float* up, float* vp, float* gp, float mu, float a, float* sp, int m, int chunks, long bytes)
    {
        nint ub = (nint)up, vb = (nint)vp, gb = (nint)gp, sb = (nint)sp;
        KernelParallelism.For(chunks, bytes, c =>
            SampleRange((float*)ub, (float*)vb, (float*)gb, mu, a, (float*)sb, c * SampleChunk, Math.Min(m, (c + 1) * SampleChunk)));
    }

    /// <summary><see cref="SampleUpdated"/> for the samples [<paramref name="from"/>, <paramref name="to"/>).</summary>
    private static unsafe void SampleRange(float* up, float* vp, float* gp, float mu, float a, float* sample, int from, int to)
    {
        int* at = (int*)sample;
        for (int j = from; j < to; j++)
        {
            if (Sse.IsSupported && j + SampleAhead < to)
            {
                int ahead = at[j + SampleAhead];
                Sse.Prefetch0(up + ahead);
                Sse.Prefetch0(vp + ahead);
                Sse.Prefetch0(gp + ahead);
            }
            int i = at[j];
            float ui = mu * up[i] + a * gp[i];
            sample[j] = Kernels.MagnitudeKey(vp[i] + ui);
        }
    }

    /// <summary>How many samples ahead <see cref="SampleUpdated"/> prefetches.</summary>
    private const int SampleAhead = 64;

    /// <summary>
    /// <see cref="Accumulate"/>, tile by tile, collecting after each tile the indices (offset by
    /// <paramref name="first"/>) of its entries with |v| ≥ <paramref name="threshold"/> while they fit
    /// in <paramref name="indices"/>; returns how many there are in total (see <see cref="Candidates"/>).
    /// </summary>
    private static int AccumulateAndCollect(Span<float> u, Span<float> v, ReadOnlySpan<float> g, float mu, float a, float threshold, int first, Span<int> indices)
    {
        int n = g.Length, count = 0;
        for (int t0 = 0; t0 < n; t0 += Tile)
        {
            int len = Math.Min(Tile, n - t0);
            Accumulate(u.Slice(t0, len), v.Slice(t0, len), g.Slice(t0, len), mu, a);
            count += Candidates.Collect(v.Slice(t0, len), first + t0, threshold, indices[Math.Min(count, indices.Length)..], default);
        }
        return count;
    }

    /// <summary><see cref="AccumulateAndCollect"/> over chunks of the vector on several threads, the indices in chunk order.</summary>
    private static unsafe int AccumulateAndCollectThreaded(Span<float> u, Span<float> v, ReadOnlySpan<float> g, float mu, float a, float threshold, Span<int> indices)
    {
        int d = g.Length;
        fixed (float* up = u)
        fixed (float* vp = v)
        fixed (float* gp = g)
        {
            nint ub = (nint)up, vb = (nint)vp, gb = (nint)gp;
            return Candidates.Run(d, 4L * d, (start, length, chunk, _) => AccumulateAndCollect(
                new Span<float>((float*)ub + start, length), new Span<float>((float*)vb + start, length),
                new ReadOnlySpan<float>((float*)gb + start, length), mu, a, threshold, start, chunk), indices, default);
        }
    }

    /// <inheritdoc />
    public void Decode(ReadOnlySpan<byte> payload, Span<float> output) => SparseFormat.Decode(payload, CodecId.Dgc, output, 1f, accumulate: false);

    /// <inheritdoc />
    public void DecodeAdd(ReadOnlySpan<byte> payload, Span<float> accumulator, float scale) => SparseFormat.Decode(payload, CodecId.Dgc, accumulator, scale, accumulate: true);

    /// <summary>u ← μ·u + a·g; v ← v + u (each product and sum rounded, no fused multiply-add).</summary>
    private static void Accumulate(Span<float> u, Span<float> v, ReadOnlySpan<float> g, float mu, float a)
    {
        int n = g.Length, i = 0;
        ref float ur = ref MemoryMarshal.GetReference(u);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float gr = ref MemoryMarshal.GetReference(g);
        if (Vector512.IsHardwareAccelerated)
        {
            var vm = Vector512.Create(mu);
            var va = Vector512.Create(a);
            for (; i <= n - 16; i += 16)
            {
                var uu = vm * Vector512.LoadUnsafe(ref ur, (nuint)i) + va * Vector512.LoadUnsafe(ref gr, (nuint)i);
                uu.StoreUnsafe(ref ur, (nuint)i);
                (Vector512.LoadUnsafe(ref vr, (nuint)i) + uu).StoreUnsafe(ref vr, (nuint)i);
            }
        }
        {
            var vm = Vector256.Create(mu);
            var va = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
            {
                var uu = vm * Vector256.LoadUnsafe(ref ur, (nuint)i) + va * Vector256.LoadUnsafe(ref gr, (nuint)i);
                uu.StoreUnsafe(ref ur, (nuint)i);
                (Vector256.LoadUnsafe(ref vr, (nuint)i) + uu).StoreUnsafe(ref vr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            ref float ui = ref Unsafe.Add(ref ur, i);
            ui = mu * ui + a * Unsafe.Add(ref gr, i);
            Unsafe.Add(ref vr, i) += ui;
        }
    }
}
