namespace Flock.Aggregation.Kernels;

/// <summary>Krum scores from a matrix of pairwise squared distances.</summary>
internal static class KrumScoring
{
    /// <summary>
    /// For every active i: the sum of the <paramref name="neighbours"/> smallest squared distances
    /// from i to the other active vectors (ascending order, so ties do not matter). Inactive entries
    /// get +∞. <paramref name="tmp"/> needs n entries.
    /// </summary>
    public static void Scores(ReadOnlySpan<double> dist, int n, ReadOnlySpan<bool> active, int neighbours, Span<double> scores, Span<double> tmp)
    {
        for (int i = 0; i < n; i++)
        {
            if (!active[i]) { scores[i] = double.PositiveInfinity; continue; }
            int m = 0;
            for (int j = 0; j < n; j++)
                if (j != i && active[j]) tmp[m++] = dist[i * n + j];
            var row = tmp.Slice(0, m);
            row.Sort();
            double s = 0;
            for (int k = 0; k < Math.Min(neighbours, m); k++) s += row[k];
            scores[i] = s;
        }
    }

    /// <summary>
    /// Index of the smallest score among active entries. Ties (e.g. two mutual nearest neighbours
    /// when one neighbour is counted) go to the smaller sum of distances to all active others, then
    /// to the lower index, so the choice does not depend on the input order unless vectors coincide.
    /// </summary>
    public static int ArgMin(ReadOnlySpan<double> scores, ReadOnlySpan<bool> active, ReadOnlySpan<double> dist, int n)
    {
        int best = -1;
        double bestTotal = 0;
        for (int i = 0; i < n; i++)
        {
            if (!active[i]) continue;
            if (best < 0 || scores[i] < scores[best]) { best = i; bestTotal = double.NaN; continue; }
            if (scores[i] > scores[best]) continue;
            if (double.IsNaN(bestTotal)) bestTotal = Total(best, active, dist, n);
            double t = Total(i, active, dist, n);
            if (t < bestTotal) { best = i; bestTotal = t; }
        }
        return best;
    }

    private static double Total(int i, ReadOnlySpan<bool> active, ReadOnlySpan<double> dist, int n)
    {
        double s = 0;
        for (int j = 0; j < n; j++) if (active[j] && j != i) s += dist[i * n + j];
        return s;
    }

    /// <summary>Pairwise squared distances (n×n, row-major) of the pinned rows.</summary>
    public static unsafe void Distances(float** rows, int n, int d, double[] dist, SimdWidth width)
    {
        fixed (double* dp = dist) Pairwise.Compute<SquaredDifference>(rows, n, d, dp, width);
    }
}
