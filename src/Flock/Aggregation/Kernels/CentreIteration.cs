namespace Flock.Aggregation.Kernels;

/// <summary>
/// One fused pass of a centre-update method (Weiszfeld, centered clipping): the new centre is a
/// linear combination of the inputs (and possibly the old centre), and the distances from the new
/// centre to every input are measured in the same pass, block by block while the block is in
/// cache, so every iteration reads the inputs once.
/// </summary>
internal static unsafe class CentreIteration
{
    /// <summary>
    /// <paramref name="table"/> holds n input pointers followed by the centre pointer at index n.
    /// Sets the centre to <c>Σ_t coef[t] · table[index[t]]</c> and, when <paramref name="measure"/>,
    /// <c>dist2[i] = ‖centre − x_i‖²</c>.
    /// </summary>
    public static void UpdateAndMeasure(float** table, int n, int* index, float* coef, int terms, int d,
        Span<double> dist2, bool measure, SimdWidth width)
    {
        if (measure) dist2.Slice(0, n).Clear();
        float* v = table[n];
        for (int start = 0; start < d; start += VectorKernels.Block)
        {
            int len = Math.Min(VectorKernels.Block, d - start);
            if (terms == 0) new Span<float>(v + start, len).Clear();
            else VectorKernels.Combine(table, index, coef, terms, start, len, v + start, width);
            if (!measure) continue;
            for (int i = 0; i < n; i++) dist2[i] += VectorKernels.SquaredDistance(table[i] + start, v + start, len, width);
        }
    }

    /// <summary><c>dist2[i] = ‖table[n] − table[i]‖²</c> for i &lt; n.</summary>
    public static void Measure(float** table, int n, int d, Span<double> dist2, SimdWidth width)
    {
        for (int i = 0; i < n; i++) dist2[i] = VectorKernels.SquaredDistance(table[i], table[n], d, width);
    }
}
