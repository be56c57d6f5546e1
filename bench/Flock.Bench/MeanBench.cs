using Flock.Tensors;

namespace Flock.Bench;

/// <summary>
/// `mean`: <see cref="VectorMath.Mean"/> of 8 vectors of 10M floats against memory bandwidth.
/// <para>
/// Definition of the ratio: the mean's effective bandwidth is the bytes it must move divided by its
/// time, (8 inputs read + 1 output written) × 10M × 4 bytes / t_mean; the copy bandwidth is
/// (1 read + 1 write) × 10M × 4 bytes / t_copy for a plain <c>Span.CopyTo</c> of one 10M-float
/// buffer into another, measured in the same process in alternating rounds. Both use median times.
/// <c>mean_vs_memcpy</c> = mean bandwidth ÷ copy bandwidth; 1.0 means the fused mean runs at copy
/// speed. Also shown for context: the weighted mean, and the naive k-pass mean (TensorPrimitives
/// Add per input, then a scale) which reads and writes the output k times.
/// </para>
/// Args: <c>--inputs K</c> (default 8), <c>--length N</c> (default 10,000,000), <c>--rounds R</c> (default 11).
/// </summary>
internal static class MeanBench
{
    public static int Run(string[] args)
    {
        int k = Arg(args, "--inputs", 8), n = Arg(args, "--length", 10_000_000), rounds = Arg(args, "--rounds", 11);
        var rng = new Rng(3);
        var inputs = new ReadOnlyMemory<float>[k];
        for (int i = 0; i < k; i++)
        {
            var x = new float[n];
            rng.FillUniform(x, -1f, 1f);
            inputs[i] = x;
        }
        var weights = new float[k];
        for (int i = 0; i < k; i++) weights[i] = 1 + i;
        var dst = new float[n];
        var copyDst = new float[n];
        var copySrc = inputs[0];

        void Mean() => VectorMath.Mean(inputs, dst);
        void Weighted() => VectorMath.WeightedMean(inputs, weights, dst);
        void Copy() => copySrc.Span.CopyTo(copyDst);
        void Naive()
        {
            inputs[0].Span.CopyTo(dst);
            for (int i = 1; i < k; i++) System.Numerics.Tensors.TensorPrimitives.Add(dst, inputs[i].Span, dst);
            System.Numerics.Tensors.TensorPrimitives.Multiply(dst, 1f / k, dst);
        }

        float sink = 0;
        void ReadAll() { for (int i = 0; i < k; i++) sink += System.Numerics.Tensors.TensorPrimitives.Sum(inputs[i].Span); }
        for (int i = 0; i < 2; i++) { Mean(); Weighted(); Copy(); Naive(); ReadAll(); }
        var tm = new List<double>();
        var tw = new List<double>();
        var tc = new List<double>();
        var tn = new List<double>();
        var tr = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            tc.Add(BenchUtil.TimePerCall(Copy, 3));
            tm.Add(BenchUtil.TimePerCall(Mean, 2));
            tw.Add(BenchUtil.TimePerCall(Weighted, 1));
            tn.Add(BenchUtil.TimePerCall(Naive, 1));
            tr.Add(BenchUtil.TimePerCall(ReadAll, 1));
        }
        double bytesMean = (k + 1.0) * n * sizeof(float), bytesCopy = 2.0 * n * sizeof(float);
        double bwMean = bytesMean / BenchUtil.Median(tm) / 1e9, bwCopy = bytesCopy / BenchUtil.Median(tc) / 1e9;
        double bwWeighted = bytesMean / BenchUtil.Median(tw) / 1e9, bwNaive = bytesMean / BenchUtil.Median(tn) / 1e9;
        Console.WriteLine($"mean of {k} × {n:N0} floats; rounds {rounds}; medians");
        Console.WriteLine($"copy           {BenchUtil.F(BenchUtil.Median(tc) * 1e3, 2),8} ms  {BenchUtil.F(bwCopy, 1),6} GB/s (read + write)");
        Console.WriteLine($"mean (fused)   {BenchUtil.F(BenchUtil.Median(tm) * 1e3, 2),8} ms  {BenchUtil.F(bwMean, 1),6} GB/s effective");
        Console.WriteLine($"weighted mean  {BenchUtil.F(BenchUtil.Median(tw) * 1e3, 2),8} ms  {BenchUtil.F(bwWeighted, 1),6} GB/s effective");
        Console.WriteLine($"read-only sum  {BenchUtil.F(BenchUtil.Median(tr) * 1e3, 2),8} ms  {BenchUtil.F(k * (double)n * sizeof(float) / BenchUtil.Median(tr) / 1e9, 1),6} GB/s (reads of the {k} inputs only){(sink == 42 ? " " : "")}");
        Console.WriteLine($"naive k-pass   {BenchUtil.F(BenchUtil.Median(tn) * 1e3, 2),8} ms  {BenchUtil.F(bwNaive, 1),6} GB/s effective");
        Console.WriteLine($"mean_vs_memcpy={BenchUtil.F(bwMean / bwCopy)} weighted_vs_memcpy={BenchUtil.F(bwWeighted / bwCopy)} naive_vs_memcpy={BenchUtil.F(bwNaive / bwCopy)} mean_gbps={BenchUtil.F(bwMean, 1)} memcpy_gbps={BenchUtil.F(bwCopy, 1)}");
        return 0;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
