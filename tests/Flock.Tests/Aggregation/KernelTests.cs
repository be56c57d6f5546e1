using Flock.Aggregation.Kernels;
using static Flock.Tests.Aggregation.AggregationTestData;

namespace Flock.Tests.Aggregation;

public unsafe class KernelTests
{
    public static readonly TheoryData<int> Sizes = new() { 1, 2, 3, 5, 7, 26, 50 };

    [Fact]
    public void Batcher_network_sorts_every_zero_one_input_up_to_20()
    {
        // 0-1 principle: a comparator network sorts everything iff it sorts all 2^n 0-1 inputs.
        // Bit-parallel: bit b of word w of position p is test case 64w + b.
        for (int n = 1; n <= 20; n++)
        {
            var net = ComparatorNetwork.Sorting(n);
            int cases = 1 << n, words = Math.Max(1, cases / 64);
            var v = new ulong[n, words];
            for (int w = 0; w < words; w++)
                for (int b = 0; b < 64 && 64 * w + b < cases; b++)
                {
                    int x = 64 * w + b;
                    for (int p = 0; p < n; p++) if (((x >> p) & 1) != 0) v[p, w] |= 1UL << b;
                }
            for (int q = 0; q < net.Count; q++)
            {
                int lo = net.Pairs[2 * q], hi = net.Pairs[2 * q + 1];
                for (int w = 0; w < words; w++)
                {
                    ulong a = v[lo, w], c = v[hi, w];
                    v[lo, w] = a & c;
                    v[hi, w] = a | c;
                }
            }
            for (int p = 0; p + 1 < n; p++)
                for (int w = 0; w < words; w++)
                    Assert.True((v[p, w] & ~v[p + 1, w]) == 0, $"n = {n}: position {p} holds 1 above a 0 after sorting");
        }
    }

    [Fact]
    public void Pruned_networks_are_smaller_than_the_sorting_network()
    {
        Assert.True(ComparatorNetwork.ForMedian(50).Count < ComparatorNetwork.Sorting(50).Count);
        Assert.True(ComparatorNetwork.ForTrimmedMean(50, 1).Count < ComparatorNetwork.ForTrimmedMean(50, 12).Count);
        Assert.Equal(0, ComparatorNetwork.ForTrimmedMean(9, 0).Count); // plain mean: nothing to sort
        Assert.Equal(0, ComparatorNetwork.ForMeamed(9, 0).Count);
        Assert.Equal(0, ComparatorNetwork.ForMedian(1).Count);
    }

    [Fact]
    public void Pruned_networks_place_the_needed_ranks_exactly()
    {
        var rng = new Flock.Tensors.Rng(5);
        foreach (int n in new[] { 2, 3, 4, 5, 8, 13, 26, 33, 50 })
            for (int trial = 0; trial < 200; trial++)
            {
                var x = new float[n];
                for (int i = 0; i < n; i++) x[i] = trial % 2 == 0 ? rng.NextInt(4) : rng.NextFloat();
                var sorted = (float[])x.Clone();
                Array.Sort(sorted);
                int f = rng.NextInt((n + 1) / 2);
                var med = Apply(ComparatorNetwork.ForMedian(n), x);
                Assert.Equal(MedianRef(sorted), MedianRef(med));
                var tm = Apply(ComparatorNetwork.ForTrimmedMean(n, f), x);
                Assert.Equal(sorted.Skip(f).Take(n - 2 * f).OrderBy(v => v), tm.Skip(f).Take(n - 2 * f).OrderBy(v => v));
                var mm = Apply(ComparatorNetwork.ForMeamed(n, f), x);
                for (int p = 0; p < n; p++)
                    if (f > 0 && (p < f || p >= n - f || ComparatorNetwork.IsMedianPosition(n, p)))
                        Assert.Equal(sorted[p], mm[p]);
            }
    }

    private static float[] Apply(ComparatorNetwork net, float[] x)
    {
        var v = (float[])x.Clone();
        for (int q = 0; q < net.Count; q++)
        {
            int lo = net.Pairs[2 * q], hi = net.Pairs[2 * q + 1];
            if (v[lo] > v[hi]) (v[lo], v[hi]) = (v[hi], v[lo]);
        }
        return v;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Coordinate_order_statistics_match_the_scalar_reference_at_every_width(int n)
    {
        foreach (bool ties in new[] { false, true })
            foreach (int d in new[] { 1, 37, 133 })
            {
                var rows = Random(n, d, (ulong)(n * 1000 + d + (ties ? 1 : 0)), ties);
                var sorted = Enumerable.Range(0, d).Select(c => SortedColumn(rows, c)).ToArray();
                int f = Math.Max(0, (n - 1) / 3);
                foreach (var w in Widths)
                {
                    var med = Run(rows, d, (t, o) => CoordinateSelect.Median(t, n, d, o, w));
                    var tm = Run(rows, d, (t, o) => CoordinateSelect.TrimmedMean(t, n, d, f, o, w));
                    var mm = Run(rows, d, (t, o) => CoordinateSelect.Meamed(t, n, d, f, o, w));
                    for (int c = 0; c < d; c++)
                    {
                        Assert.Equal((float)MedianRef(sorted[c]), med[c]);
                        AssertClose(TrimmedRef(sorted[c], f), tm[c], 1e-5, $"trimmed n={n} f={f} w={w} c={c}");
                        AssertClose(MeamedRef(sorted[c], f), mm[c], 1e-5, $"meamed n={n} f={f} w={w} c={c}");
                    }
                }
            }
    }

    private delegate void ColumnKernel(float** table, float* output);

    private static float[] Run(float[][] rows, int d, ColumnKernel kernel)
    {
        var output = new float[d];
        var handles = rows.Select(r => ((Memory<float>)r).Pin()).ToArray();
        try
        {
            var table = handles.Select(h => (nint)h.Pointer).ToArray();
            fixed (nint* t = table)
            fixed (float* o = output)
                kernel((float**)t, o);
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
        return output;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Pairwise_kernels_match_a_double_reference_at_every_width(int n)
    {
        const int d = 4096 + 29; // several 1024-coordinate blocks, crosses the AVX-512 float window (4096), not a multiple of 16
        var rows = Random(n, d, (ulong)n);
        var handles = rows.Select(r => ((Memory<float>)r).Pin()).ToArray();
        try
        {
            var table = handles.Select(h => (nint)h.Pointer).ToArray();
            foreach (var w in Widths)
            {
                var sq = new double[n * n];
                var ab = new double[n * n];
                var dot = new double[n * n];
                fixed (nint* t = table)
                fixed (double* ps = sq)
                fixed (double* pa = ab)
                fixed (double* pd = dot)
                {
                    Pairwise.Compute<SquaredDifference>((float**)t, n, d, ps, w);
                    Pairwise.Compute<AbsoluteDifference>((float**)t, n, d, pa, w);
                    Pairwise.Compute<DotProduct>((float**)t, n, d, pd, w);
                }
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double rs = 0, ra = 0, rd = 0;
                        for (int c = 0; c < d; c++)
                        {
                            double diff = (double)rows[i][c] - rows[j][c];
                            rs += diff * diff;
                            ra += Math.Abs(diff);
                            rd += (double)rows[i][c] * rows[j][c];
                        }
                        AssertClose(rs, sq[i * n + j], 1e-5, $"sq w={w} ({i},{j})");
                        AssertClose(ra, ab[i * n + j], 1e-5, $"l1 w={w} ({i},{j})");
                        Assert.True(Math.Abs(rd - dot[i * n + j]) <= 1e-4 * Math.Sqrt(dot[i * n + i] * dot[j * n + j]) + 1e-9, $"dot w={w} ({i},{j})");
                    }
            }
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
    }

    [Fact]
    public void Squared_distances_of_nearby_vectors_with_large_norms_are_exact()
    {
        // Models near consensus: norm ~1e3 per coordinate, differences ~1e-3. The Gram identity would lose everything.
        const int d = 4099;
        var a = new float[d];
        var b = new float[d];
        for (int c = 0; c < d; c++)
        {
            a[c] = 1000f + c % 7;
            b[c] = a[c] + (c % 2 == 0 ? 1f / 1024 : -1f / 1024); // exactly representable difference
        }
        double expected = d / (1024.0 * 1024.0);
        fixed (float* pa = a)
        fixed (float* pb = b)
        {
            var table = stackalloc nint[2] { (nint)pa, (nint)pb };
            var r = new double[4];
            foreach (var w in Widths)
            {
                fixed (double* pr = r) Pairwise.Compute<SquaredDifference>((float**)table, 2, d, pr, w);
                Assert.Equal(expected, r[1], 12);
                Assert.Equal(expected, VectorKernels.SquaredDistance(pa, pb, d, w), 12);
            }
        }
    }

    [Fact]
    public void Pairwise_sums_that_overflow_float_are_recomputed_in_double()
    {
        // Row 1 is huge over coordinates 4096–8191 (one AVX-512 window; 2 at AVX2, 16 at scalar width):
        // those windows' float sums overflow and are recomputed in double, the others are not.
        const int n = 5, d = 3 * 4096 + 100;
        var rows = Random(n, d, 9);
        for (int c = 4096; c < 2 * 4096; c++) rows[1][c] = 1e30f;
        var handles = rows.Select(r => ((Memory<float>)r).Pin()).ToArray();
        try
        {
            var table = handles.Select(h => (nint)h.Pointer).ToArray();
            foreach (var w in Widths)
            {
                var sq = new double[n * n];
                var dot = new double[n * n];
                fixed (nint* t = table)
                fixed (double* ps = sq)
                fixed (double* pd = dot)
                {
                    Pairwise.Compute<SquaredDifference>((float**)t, n, d, ps, w);
                    Pairwise.Compute<DotProduct>((float**)t, n, d, pd, w);
                }
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double rs = 0, rd = 0;
                        for (int c = 0; c < d; c++)
                        {
                            double diff = (double)rows[i][c] - rows[j][c];
                            rs += diff * diff;
                            rd += (double)rows[i][c] * rows[j][c];
                        }
                        Assert.True(double.IsFinite(sq[i * n + j]), $"w={w} ({i},{j}) squared distance {sq[i * n + j]}");
                        AssertClose(rs, sq[i * n + j], 1e-5, $"sq w={w} ({i},{j})");
                        if (i == 1 || j == 1) AssertClose(rd, dot[i * n + j], 1e-5, $"dot w={w} ({i},{j})");
                    }
            }
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
    }

    [Fact]
    public void Aggregation_kernels_allocate_nothing_on_small_inputs()
    {
        // Below KernelParallelism.MinParallelBytes every kernel stays on its thread: no closure, no array.
        const int n = 10, d = 1000;
        var inputs = Rows(Random(n, d, 4));
        var output = new float[d];
        var outs = Enumerable.Range(0, n).Select(_ => (Memory<float>)new float[d]).ToArray();
        var weights = new float[n];
        var median = new Flock.Aggregation.CoordinateWiseMedian();
        var trimmed = new Flock.Aggregation.TrimmedMean(2);
        var krum = new Flock.Aggregation.Krum(2);
        var nnm = new Flock.Aggregation.NearestNeighborMixing(2);
        void All()
        {
            median.Aggregate(inputs, ReadOnlySpan<float>.Empty, output);
            trimmed.Aggregate(inputs, ReadOnlySpan<float>.Empty, output);
            krum.Aggregate(inputs, ReadOnlySpan<float>.Empty, output);
            nnm.Apply(inputs, ReadOnlySpan<float>.Empty, outs, weights, 0);
        }
        All();
        Assert.Equal(0, Allocations.SteadyState(All));
    }

    [Fact]
    public void Squared_distance_of_huge_values_stays_finite()
    {
        var a = new float[100];
        Array.Fill(a, 1e30f);
        fixed (float* pa = a)
            foreach (var w in Widths)
                AssertClose(100 * (double)1e30f * 1e30f, VectorKernels.SquaredDistance(pa, null, 100, w), 1e-12);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Subset_means_and_linear_combinations_match_a_reference(int n)
    {
        const int d = 301;
        var rows = Random(n, d, 77);
        int k = Math.Max(1, n - n / 4);
        var rng = new Flock.Tensors.Rng(9);
        var index = new int[n * k];
        for (int i = 0; i < n; i++)
        {
            var pick = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(pick.AsSpan());
            Array.Copy(pick, 0, index, i * k, k);
        }
        var coef = Enumerable.Range(0, n).Select(i => i % 3 == 0 ? 0f : 0.1f * i).ToArray();
        var handles = rows.Select(r => ((Memory<float>)r).Pin()).ToArray();
        try
        {
            var table = handles.Select(h => (nint)h.Pointer).ToArray();
            foreach (var w in Widths)
            {
                var outs = Enumerable.Range(0, n).Select(_ => new float[d]).ToArray();
                var grouped = Enumerable.Range(0, n).Select(_ => new float[d]).ToArray();
                var outHandles = outs.Concat(grouped).Select(o => ((Memory<float>)o).Pin()).ToArray();
                var lc = new float[d];
                try
                {
                    var otable = outHandles.Select(h => (nint)h.Pointer).ToArray();
                    fixed (nint* t = table)
                    fixed (nint* ot = otable)
                    fixed (int* ip = index)
                    fixed (float* o = lc)
                    {
                        VectorKernels.SubsetMeans((float**)t, n, ip, k, n, 1f / k, d, (float**)ot, w);
                        VectorKernels.SubsetMeansGrouped((float**)t, n, ip, k, n, 1f / k, d, (float**)ot + n, w);
                        VectorKernels.LinearCombination((float**)t, n, coef, d, o, w);
                    }
                }
                finally
                {
                    foreach (var h in outHandles) h.Dispose();
                }
                for (int c = 0; c < d; c++)
                {
                    for (int i = 0; i < n; i++)
                    {
                        double s = 0;
                        for (int t = 0; t < k; t++) s += rows[index[i * k + t]][c];
                        AssertClose(s / k, outs[i][c], 1e-5, $"subset w={w}");
                        AssertClose(s / k, grouped[i][c], 1e-5, $"grouped w={w}");
                    }
                    double l = 0;
                    for (int i = 0; i < n; i++) l += (double)coef[i] * rows[i][c];
                    AssertClose(l, lc[c], 1e-5, $"lincomb w={w}");
                }
            }
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
    }

    [Fact]
    public void Symmetric_eigen_decomposition_reconstructs_the_matrix()
    {
        foreach (int n in new[] { 1, 2, 3, 6, 20 })
        {
            var rng = new Flock.Tensors.Rng((ulong)n);
            var m = new double[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++) m[i * n + j] = m[j * n + i] = rng.NextGaussian();
            var a = (double[])m.Clone();
            var values = new double[n];
            var vectors = new double[n * n];
            SymmetricEigen.Decompose(a, n, values, vectors);
            for (int k = 1; k < n; k++) Assert.True(values[k - 1] >= values[k]);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double r = 0, orth = 0;
                    for (int k = 0; k < n; k++)
                    {
                        r += vectors[i * n + k] * values[k] * vectors[j * n + k];
                        orth += vectors[k * n + i] * vectors[k * n + j];
                    }
                    Assert.Equal(m[i * n + j], r, 9);
                    Assert.Equal(i == j ? 1.0 : 0.0, orth, 9);
                }
        }
    }

    [Fact]
    public void Scratch_pool_hands_out_distinct_arrays_to_nested_rentals()
    {
        // The pool is per thread: use a fresh thread so arrays other tests left behind do not interfere.
        Exception? failure = null;
        var t = new Thread(() =>
        {
            try
            {
                var a = ScratchPool<float>.Rent(100);
                var b = ScratchPool<float>.Rent(100);
                Assert.NotSame(a, b);
                ScratchPool<float>.Return(a);
                ScratchPool<float>.Return(b);
                var c = ScratchPool<float>.Rent(50);
                Assert.True(ReferenceEquals(c, a) || ReferenceEquals(c, b));
                ScratchPool<float>.Return(c);
            }
            catch (Exception ex) { failure = ex; }
        });
        t.Start();
        t.Join();
        if (failure is not null) throw failure;
    }
}
