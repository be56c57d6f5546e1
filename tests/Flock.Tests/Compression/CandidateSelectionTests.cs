using Flock.Compression;
using Flock.Tensors;

namespace Flock.Tests.Compression;

/// <summary>
/// The selection kernels behind top-k and DGC: the radix select of the k-th largest against a sort,
/// and the compress-based threshold collection against the plain scan, at every capacity edge.
/// </summary>
public sealed class CandidateSelectionTests
{
    [Theory]
    [InlineData(0)]   // Gaussian magnitudes (many values in few exponent buckets)
    [InlineData(1)]   // signed values, including negatives, ±0 and infinities
    [InlineData(2)]   // few distinct values: long runs of ties
    public void Radix_select_matches_a_sort(int kind)
    {
        var rng = new Rng(21 + (ulong)kind);
        foreach (int n in new[] { 512, 513, 1000, 4099, 70_001 })
        {
            var v = new float[n];
            for (int i = 0; i < n; i++)
                v[i] = kind switch
                {
                    0 => MathF.Abs((float)rng.NextGaussian()),
                    1 => (float)(rng.NextGaussian() * Math.Pow(10, rng.NextInt(9) - 4)),
                    _ => rng.NextInt(7) - 3,
                };
            if (kind == 1)
            {
                v[0] = -0f;
                v[1] = 0f;
                v[2] = float.PositiveInfinity;
                v[3] = float.NegativeInfinity;
                v[4] = -float.Epsilon;
                v[5] = float.Epsilon;
            }
            var sorted = v.OrderByDescending(a => a).ToArray();
            foreach (int k in new[] { 1, 2, n / 3, n / 2, n - 1, n })
            {
                var copy = (float[])v.Clone();
                float kth = Selection.KthLargest(copy, k);
                Assert.Equal(sorted[k - 1], kth);                       // −0 equals +0
                Assert.Equal(v.Order(), copy.Order());                  // reordered, same values
            }
        }
    }

    [Fact]
    public void Collection_matches_the_plain_scan_at_every_capacity()
    {
        var rng = new Rng(4);
        foreach (int n in new[] { 0, 7, 16, 17, 100, 1000, 4111 })
        {
            var x = new float[n];
            rng.FillGaussian(x);
            if (n > 10)
            {
                x[3] = float.NaN;
                x[4] = float.PositiveInfinity;
                x[5] = -1.5f;
                x[6] = 1.5f;
            }
            foreach (float t in new[] { 0f, 0.5f, 1.5f, 3f, float.PositiveInfinity })
            {
                var expected = Enumerable.Range(0, n).Where(i => MathF.Abs(x[i]) >= t).ToArray();
                foreach (int cap in new[] { 0, 1, 15, 16, 17, expected.Length - 1, expected.Length, expected.Length + 20 })
                {
                    if (cap < 0) continue;
                    var indices = new int[cap];
                    var values = new float[cap];
                    int total = Candidates.AtLeast(x, t, indices, values);
                    Assert.Equal(expected.Length, total);
                    int written = Math.Min(cap, total);
                    Assert.Equal(expected[..written], indices[..written]);
                    Assert.Equal(expected[..written].Select(i => x[i]), values[..written]);
                    // Offsets and the reference scan (indices only).
                    var reference = new int[cap];
                    Assert.Equal(total, Kernels.CollectAtLeast(x, t, reference));
                    var shifted = new int[cap];
                    Assert.Equal(total, Candidates.Collect(x, 1000, t, shifted, default));
                    Assert.Equal(reference[..written].Select(i => i + 1000), shifted[..written]);
                }
            }
        }
    }
}
