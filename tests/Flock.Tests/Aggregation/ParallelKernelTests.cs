using Flock.Aggregation;
using Flock.Aggregation.Kernels;
using Flock.Tensors;
using static Flock.Tests.Aggregation.AggregationTestData;

namespace Flock.Tests.Aggregation;

/// <summary>
/// Kernels that split large inputs across threads (<see cref="KernelParallelism"/>) must give
/// bit-identical results on one thread and on several, and be right at chunk boundaries. Inputs
/// are above <see cref="KernelParallelism.MinParallelBytes"/>, with a length that is not a multiple
/// of a chunk, a cache block or a vector.
/// </summary>
[Collection(KernelThreadTests.Name)]
public unsafe class ParallelKernelTests
{
    private const int N = 12;
    private const int D = 3 * CoordinateChunks.Length + 2 * 4096 + 37;   // 12 × 204,837 floats ≈ 9.8 MB

    private static readonly float[][] Inputs = Random(N, D, 77);

    /// <summary>Runs <paramref name="run"/> on one thread, then with two threads allowed; checks the second took the threaded path.</summary>
    private static (T One, T Two) OneAndTwo<T>(Func<T> run)
    {
        int saved = KernelParallelism.MaxThreads;
        try
        {
            KernelParallelism.MaxThreads = 1;
            int before = KernelParallelism.ThreadedCalls;
            var one = run();
            Assert.Equal(before, KernelParallelism.ThreadedCalls);
            KernelParallelism.MaxThreads = 2;
            var two = run();
            Assert.True(KernelParallelism.ThreadedCalls > before, "the two-thread run did not take the threaded path");
            return (one, two);
        }
        finally
        {
            KernelParallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public void Max_threads_below_one_is_rejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => KernelParallelism.MaxThreads = 0);
        Assert.Contains("Invalid kernel thread count: 0", e.Message);
    }

    [Fact]
    public void Small_inputs_stay_on_the_calling_thread()
    {
        Assert.False(KernelParallelism.UseThreads(KernelParallelism.MinParallelBytes - 1, 100));
        Assert.False(KernelParallelism.UseThreads(KernelParallelism.MinParallelBytes, 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Pairwise_sums_are_bit_identical_on_one_and_two_threads_and_match_double(int widthIndex)
    {
        var width = Widths[widthIndex];
        double[] Compute<TOp>() where TOp : struct, IPairOp
        {
            var handles = Inputs.Select(r => ((Memory<float>)r).Pin()).ToArray();
            try
            {
                var table = handles.Select(h => (nint)h.Pointer).ToArray();
                var result = new double[N * N];
                fixed (nint* t = table)
                fixed (double* r = result)
                    Pairwise.Compute<TOp>((float**)t, N, D, r, width);
                return result;
            }
            finally
            {
                foreach (var h in handles) h.Dispose();
            }
        }
        var (sq1, sq2) = OneAndTwo(Compute<SquaredDifference>);
        var (dot1, dot2) = OneAndTwo(Compute<DotProduct>);
        var (ab1, ab2) = OneAndTwo(Compute<AbsoluteDifference>);
        Assert.Equal(sq1, sq2);
        Assert.Equal(dot1, dot2);
        Assert.Equal(ab1, ab2);
        foreach (var (i, j) in new[] { (0, 1), (3, 7), (5, 5), (10, 11) })
        {
            double rs = 0, rd = 0, ra = 0;
            for (int c = 0; c < D; c++)
            {
                double diff = (double)Inputs[i][c] - Inputs[j][c];
                rs += diff * diff;
                ra += Math.Abs(diff);
                rd += (double)Inputs[i][c] * Inputs[j][c];
            }
            Assert.True(Math.Abs(rs - sq2[i * N + j]) <= 1e-5 * Math.Max(1, rs), $"squared distance ({i},{j}): {sq2[i * N + j]} vs {rs}");
            Assert.True(Math.Abs(ra - ab2[i * N + j]) <= 1e-5 * Math.Max(1, ra), $"L1 distance ({i},{j}): {ab2[i * N + j]} vs {ra}");
            Assert.True(Math.Abs(rd - dot2[i * N + j]) <= 1e-4 * D, $"dot product ({i},{j}): {dot2[i * N + j]} vs {rd}");
        }
    }

    [Fact]
    public void Nnm_outputs_are_bit_identical_on_one_and_two_threads_and_are_neighbour_means()
    {
        const int f = 3;
        var inputs = Rows(Inputs);
        float[][] Apply()
        {
            var outs = Enumerable.Range(0, N).Select(_ => new float[D]).ToArray();
            new NearestNeighborMixing(f).Apply(inputs, ReadOnlySpan<float>.Empty, outs.Select(o => (Memory<float>)o).ToArray(), new float[N], 0);
            return outs;
        }
        var (one, two) = OneAndTwo(Apply);
        for (int i = 0; i < N; i++) KernelThreadTests.AssertBitIdentical(one[i], two[i], $"NNM output {i}");

        // Reference: output i is the mean of the n − f inputs nearest to input i (itself included).
        for (int i = 0; i < N; i++)
        {
            var near = Enumerable.Range(0, N)
                .OrderBy(j => Enumerable.Range(0, D).Sum(c => Math.Pow((double)Inputs[i][c] - Inputs[j][c], 2)))
                .ThenBy(j => j).Take(N - f).ToArray();
            foreach (int c in new[] { 0, CoordinateChunks.Length - 1, CoordinateChunks.Length, 2 * CoordinateChunks.Length + 17, D - 1 })
            {
                double mean = near.Average(j => (double)Inputs[j][c]);
                Assert.True(Math.Abs(mean - two[i][c]) <= 1e-5, $"NNM output {i} coordinate {c}: {two[i][c]} vs {mean}");
            }
        }
    }

    [Fact]
    public void Median_and_trimmed_mean_are_bit_identical_on_one_and_two_threads_and_exact_at_chunk_edges()
    {
        var inputs = Rows(Inputs);
        var (med1, med2) = OneAndTwo(() => Run(new CoordinateWiseMedian(), inputs));
        var (tm1, tm2) = OneAndTwo(() => Run(new TrimmedMean(3), inputs));
        KernelThreadTests.AssertBitIdentical(med1, med2, "median");
        KernelThreadTests.AssertBitIdentical(tm1, tm2, "trimmed mean");
        foreach (int c in new[] { 0, CoordinateChunks.Length - 1, CoordinateChunks.Length, 3 * CoordinateChunks.Length, D - 1 })
        {
            var sorted = SortedColumn(Inputs, c);
            Assert.True(Math.Abs(MedianRef(sorted) - med2[c]) <= 1e-6, $"median at {c}: {med2[c]} vs {MedianRef(sorted)}");
            Assert.True(Math.Abs(TrimmedRef(sorted, 3) - tm2[c]) <= 1e-6, $"trimmed mean at {c}: {tm2[c]} vs {TrimmedRef(sorted, 3)}");
        }
    }
}
