namespace Flock.Aggregation.Kernels;

/// <summary>Eigen-decomposition of small dense symmetric matrices (cyclic Jacobi rotations, double precision).</summary>
internal static class SymmetricEigen
{
    /// <summary>
    /// Decomposes the symmetric n×n matrix <paramref name="a"/> (row-major; overwritten) into
    /// eigenvalues sorted in descending order and the matching orthonormal eigenvectors, stored as
    /// columns: component i of eigenvector k is <c>vectors[i * n + k]</c>.
    /// </summary>
    public static void Decompose(Span<double> a, int n, Span<double> values, Span<double> vectors)
    {
        vectors.Slice(0, n * n).Clear();
        for (int i = 0; i < n; i++) vectors[i * n + i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, total = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double x = a[i * n + j] * a[i * n + j];
                    total += x;
                    if (i != j) off += x;
                }
            if (off <= 1e-30 * total || off == 0) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (apq == 0) continue;
                    double app = a[p * n + p], aqq = a[q * n + q];
                    double theta = (aqq - app) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k * n + p], akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k], aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = vectors[k * n + p], vkq = vectors[k * n + q];
                        vectors[k * n + p] = c * vkp - s * vkq;
                        vectors[k * n + q] = s * vkp + c * vkq;
                    }
                }
        }
        for (int i = 0; i < n; i++) values[i] = a[i * n + i];
        // Selection sort by descending eigenvalue (n is small), swapping eigenvector columns along.
        for (int i = 0; i < n; i++)
        {
            int best = i;
            for (int j = i + 1; j < n; j++) if (values[j] > values[best]) best = j;
            if (best == i) continue;
            (values[i], values[best]) = (values[best], values[i]);
            for (int k = 0; k < n; k++) (vectors[k * n + i], vectors[k * n + best]) = (vectors[k * n + best], vectors[k * n + i]);
        }
    }
}
