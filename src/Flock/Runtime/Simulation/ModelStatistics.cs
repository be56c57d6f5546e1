using System.Buffers;

namespace Flock.Runtime.Simulation;

/// <summary>Statistics over a set of node models.</summary>
public static class ModelStatistics
{
    private const int Chunk = 8192;

    /// <summary>
    /// Consensus distance <c>(1/m) Σᵢ ‖xᵢ − x̄‖²</c> with <c>x̄</c> the average of the m models:
    /// 0 for one model, NaN for none. Computed in double over fixed coordinate chunks in parallel
    /// and reduced in chunk order, so the value is reproducible.
    /// </summary>
    /// <exception cref="ArgumentException">The models have different lengths.</exception>
    public static double ConsensusDistance(IReadOnlyList<ReadOnlyMemory<float>> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        int m = models.Count;
        if (m == 0) return double.NaN;
        int d = models[0].Length;
        for (int i = 1; i < m; i++)
            if (models[i].Length != d) throw new ArgumentException($"Model {i} has {models[i].Length} parameters but model 0 has {d}.", nameof(models));
        if (m == 1 || d == 0) return 0;
        int chunks = (d + Chunk - 1) / Chunk;
        var partial = new double[chunks];
        Parallel.For(0, chunks, c =>
        {
            int start = c * Chunk, len = Math.Min(Chunk, d - start);
            var mean = ArrayPool<double>.Shared.Rent(len);
            try
            {
                Array.Clear(mean, 0, len);
                for (int i = 0; i < m; i++)
                {
                    var x = models[i].Span.Slice(start, len);
                    for (int j = 0; j < len; j++) mean[j] += x[j];
                }
                for (int j = 0; j < len; j++) mean[j] /= m;
                double s = 0;
                for (int i = 0; i < m; i++)
                {
                    var x = models[i].Span.Slice(start, len);
                    for (int j = 0; j < len; j++) { double e = x[j] - mean[j]; s += e * e; }
                }
                partial[c] = s;
            }
            finally { ArrayPool<double>.Shared.Return(mean); }
        });
        double total = 0;
        foreach (double s in partial) total += s;
        return total / m;
    }
}
