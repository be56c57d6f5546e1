using Flock.Aggregation.Kernels;

namespace Flock.Aggregation;

/// <summary>
/// Centered clipping, from "Learning from History for Byzantine Robust Optimization" (Karimireddy,
/// He and Jaggi, 2021): starting from a centre v, repeat <see cref="Iterations"/> times
/// <c>v ← v + (1/n) Σᵢ (xᵢ − v) · min(1, τ / ‖xᵢ − v‖)</c>. The paper starts from the previous
/// round's aggregate (use the overload taking a centre); without one the start is the plain mean
/// of the inputs. Default: one iteration, as in the paper. Weights are ignored. The update is
/// computed as <c>(1 − S/n)·v + Σ (sᵢ/n)·xᵢ</c> with sᵢ the clipping factors (S their sum), fused
/// with the next distances, so each iteration reads the inputs once; a clipped-to-zero input is
/// skipped (never 0 · huge).
/// </summary>
public sealed class CenteredClipping : IAggregator
{
    /// <summary>Creates centered clipping with radius <paramref name="tau"/>.</summary>
    /// <param name="tau">Clipping radius τ &gt; 0.</param>
    /// <param name="iterations">Number of clipping iterations L ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">τ not positive and finite, or iterations below 1.</exception>
    public CenteredClipping(float tau, int iterations = 1)
    {
        if (!(tau > 0) || float.IsInfinity(tau))
            throw new ArgumentOutOfRangeException(nameof(tau), tau, $"Centered clipping: invalid clipping radius τ = {tau}; must be a finite value > 0.");
        if (iterations < 1)
            throw new ArgumentOutOfRangeException(nameof(iterations), iterations, $"Centered clipping: invalid number of iterations {iterations}; must be ≥ 1.");
        Tau = tau;
        Iterations = iterations;
    }

    /// <summary>Clipping radius τ.</summary>
    public float Tau { get; }

    /// <summary>Number of clipping iterations.</summary>
    public int Iterations { get; }

    /// <inheritdoc />
    public string Name => "centered-clipping";

    /// <summary>Centered clipping starting from the mean of the inputs.</summary>
    /// <exception cref="ArgumentException">No inputs, a length mismatch, a weight count other than 0 or n, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output) =>
        Run(inputs, weights, output, centre: default, fromCentre: false, Simd.Best);

    /// <summary>Centered clipping starting from <paramref name="centre"/> (e.g. the previous aggregate; it may be the output buffer itself).</summary>
    /// <exception cref="ArgumentException">The centre's length differs from the output's, no inputs, a length mismatch,
    /// a weight count other than 0 or n, or the output overlapping an input.</exception>
    public void Aggregate(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output, ReadOnlySpan<float> centre) =>
        Run(inputs, weights, output, centre, fromCentre: true, Simd.Best);

    internal unsafe void Run(IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Span<float> output,
        ReadOnlySpan<float> centre, bool fromCentre, SimdWidth width)
    {
        int n = AggregationGuard.Validate(Name, inputs, weights, output.Length);
        int d = output.Length;
        if (fromCentre && centre.Length != d)
            throw new ArgumentException($"{Name}: the centre has length {centre.Length} but the output has length {d}.", nameof(centre));
        var dist2 = ScratchPool<double>.Rent(n);
        var coef = ScratchPool<float>.Rent(n + 1);
        var index = ScratchPool<int>.Rent(n + 1);
        var table = ScratchPool<nint>.Rent(n + 1);
        try
        {
            using var rows = PinnedRows.Pin(inputs);
            fixed (float* o = output)
            fixed (nint* tp = table)
            fixed (int* ip = index)
            fixed (float* cp = coef)
            {
                rows.EnsureNoOverlap(Name, o, d);
                for (int i = 0; i < n; i++) tp[i] = rows.Table[i];
                tp[n] = (nint)o;
                float** tab = (float**)tp;
                if (fromCentre) centre.CopyTo(output);
                else
                {
                    for (int i = 0; i < n; i++) cp[i] = 1f / n;
                    VectorKernels.LinearCombination(tab, n, new ReadOnlySpan<float>(cp, n), d, o, width);
                }
                CentreIteration.Measure(tab, n, d, dist2, width);
                for (int it = 0; it < Iterations; it++)
                {
                    int terms = 0;
                    double total = 0;
                    for (int i = 0; i < n; i++)
                    {
                        double dist = Math.Sqrt(dist2[i]);
                        double s = dist <= Tau ? 1.0 : Tau / dist;
                        total += s;
                        float c = (float)(s / n);
                        if (c == 0) continue;
                        ip[terms] = i;
                        cp[terms++] = c;
                    }
                    float keep = (float)(1.0 - total / n);
                    if (keep != 0)
                    {
                        ip[terms] = n;
                        cp[terms++] = keep;
                    }
                    CentreIteration.UpdateAndMeasure(tab, n, ip, cp, terms, d, dist2, measure: it + 1 < Iterations, width);
                }
            }
        }
        finally
        {
            ScratchPool<double>.Return(dist2);
            ScratchPool<float>.Return(coef);
            ScratchPool<int>.Return(index);
            ScratchPool<nint>.Return(table);
        }
    }
}
