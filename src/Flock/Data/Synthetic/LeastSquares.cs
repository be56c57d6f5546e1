namespace Flock.Data.Synthetic;

/// <summary>
/// Exact least-squares solutions for regression data (one target per example), used to measure the
/// distance to the optimum in convex experiments. The objective is
/// F(w, b) = (1 / 2n) Σᵢ (xᵢᵀw + b − yᵢ)² + (λ / 2)‖w‖² over the examples of a view (b only with an
/// intercept, and not regularised). It is minimised by solving the normal equations
/// (XᵀX / n + λI) w = Xᵀy / n (with a column of ones appended for the intercept) by a Cholesky
/// factorisation in double precision, on the float values exactly as stored. Cost O(n·d² + d³).
/// </summary>
public static class LeastSquares
{
    /// <summary>
    /// The minimiser of the objective over <paramref name="data"/>: d weights, followed by the intercept
    /// when <paramref name="intercept"/> is set.
    /// </summary>
    /// <param name="data">Regression examples with one target each (any feature shape, flattened).</param>
    /// <param name="l2">The ridge coefficient λ ≥ 0.</param>
    /// <param name="intercept">Whether to fit an unregularised intercept b.</param>
    /// <exception cref="ArgumentException">The data is not single-target regression, is empty, or λ is negative or not finite.</exception>
    /// <exception cref="InvalidOperationException">The normal equations are singular (fewer examples than unknowns, or collinear features)
    /// and λ = 0; use λ &gt; 0.</exception>
    public static double[] Solve(DatasetView data, double l2 = 0, bool intercept = false)
    {
        Check(data, l2);
        var ds = data.Dataset;
        int d = ds.FeatureSize, m = d + (intercept ? 1 : 0), n = data.Count;
        var a = new double[m * m];
        var rhs = new double[m];
        var row = new double[m];
        foreach (int idx in data.Indices)
        {
            var x = ds.Example(idx);
            for (int j = 0; j < d; j++) row[j] = x[j];
            if (intercept) row[d] = 1;
            double y = ds.Targets![idx];
            for (int i = 0; i < m; i++)
            {
                double ri = row[i];
                if (ri == 0) continue;
                rhs[i] += ri * y;
                var arow = a.AsSpan(i * m, i + 1);
                for (int j = 0; j <= i; j++) arow[j] += ri * row[j];
            }
        }
        for (int i = 0; i < m; i++)
        {
            rhs[i] /= n;
            for (int j = 0; j <= i; j++) a[i * m + j] /= n;
            if (i < d) a[i * m + i] += l2;
        }
        // Cholesky A = L Lᵀ in place (lower triangle).
        double scale = 0;
        for (int i = 0; i < m; i++) scale = Math.Max(scale, a[i * m + i]);
        for (int j = 0; j < m; j++)
        {
            double s = a[j * m + j];
            for (int p = 0; p < j; p++) s -= a[j * m + p] * a[j * m + p];
            if (!(s > 1e-12 * Math.Max(scale, 1e-300)))
                throw new InvalidOperationException(
                    $"Least squares on '{ds.Name}' ({n} examples, {m} unknowns) is singular at unknown {j} (pivot {s:G3}): fewer examples than unknowns or collinear features; use l2 > 0.");
            double ljj = Math.Sqrt(s);
            a[j * m + j] = ljj;
            for (int i = j + 1; i < m; i++)
            {
                double t = a[i * m + j];
                for (int p = 0; p < j; p++) t -= a[i * m + p] * a[j * m + p];
                a[i * m + j] = t / ljj;
            }
        }
        var w = new double[m];
        for (int i = 0; i < m; i++)
        {
            double t = rhs[i];
            for (int p = 0; p < i; p++) t -= a[i * m + p] * w[p];
            w[i] = t / a[i * m + i];
        }
        for (int i = m - 1; i >= 0; i--)
        {
            double t = w[i];
            for (int p = i + 1; p < m; p++) t -= a[p * m + i] * w[p];
            w[i] = t / a[i * m + i];
        }
        return w;
    }

    /// <summary>
    /// The objective F(w, b) at <paramref name="weights"/> (d weights, then b when <paramref name="intercept"/> is set).
    /// </summary>
    /// <exception cref="ArgumentException">The data is not single-target regression, is empty, λ is invalid, or the weights have the wrong length.</exception>
    public static double Objective(DatasetView data, ReadOnlySpan<double> weights, double l2 = 0, bool intercept = false)
    {
        Check(data, l2);
        var ds = data.Dataset;
        int d = ds.FeatureSize;
        if (weights.Length != d + (intercept ? 1 : 0))
            throw new ArgumentException($"Weight vector has {weights.Length} entries; expected {d + (intercept ? 1 : 0)} ({d} features{(intercept ? " + intercept" : "")}).", nameof(weights));
        double sum = 0;
        foreach (int idx in data.Indices)
        {
            var x = ds.Example(idx);
            double r = intercept ? weights[d] : 0;
            for (int j = 0; j < d; j++) r += x[j] * weights[j];
            r -= ds.Targets![idx];
            sum += r * r;
        }
        double reg = 0;
        for (int j = 0; j < d; j++) reg += weights[j] * weights[j];
        return sum / (2.0 * data.Count) + 0.5 * l2 * reg;
    }

    private static void Check(DatasetView data, double l2)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Dataset.IsClassification || data.Dataset.TargetDim != 1)
            throw new ArgumentException($"Least squares needs regression data with one target per example; '{data.Dataset.Name}' has {(data.Dataset.IsClassification ? "class labels" : $"{data.Dataset.TargetDim} targets")}.", nameof(data));
        if (data.Count == 0) throw new ArgumentException($"Least squares on an empty view of '{data.Dataset.Name}'.", nameof(data));
        if (!(l2 >= 0) || !double.IsFinite(l2)) throw new ArgumentException($"Invalid l2 coefficient: {l2}; must be a finite value ≥ 0.", nameof(l2));
    }
}
