using System.Numerics.Tensors;
using Flock.Tensors;

namespace Flock.Topology;

/// <summary>How <see cref="SpectralGap.Compute"/> finds the eigenvalues.</summary>
public enum SpectralMethod
{
    /// <summary>
    /// Dense for n ≤ <see cref="SpectralGap.DenseLimit"/>; Lanczos above, falling back to dense when
    /// Lanczos does not converge and n ≤ <see cref="SpectralGap.DenseFallbackLimit"/>.
    /// </summary>
    Auto,

    /// <summary>All eigenvalues of the dense matrix (<see cref="SymmetricEigen"/>): exact to rounding, O(n³).</summary>
    Dense,

    /// <summary>Lanczos with full reorthogonalisation on W restricted to 1⊥: O(iterations · (edges + iterations · n)); extreme eigenvalues only.</summary>
    Lanczos,
}

/// <summary>Result of a spectral-gap computation.</summary>
/// <param name="Gap">1 − max(|λ₂|, |λₙ|): the per-step contraction of the disagreement is 1 − Gap.</param>
/// <param name="Lambda2">Second-largest eigenvalue λ₂ (1 for a disconnected graph).</param>
/// <param name="LambdaMin">Smallest eigenvalue λₙ.</param>
/// <param name="Method">The method actually used.</param>
/// <param name="Converged">False when Lanczos stopped at its iteration limit before its extreme Ritz values settled (then Gap is an overestimate).</param>
/// <param name="Iterations">Lanczos iterations (0 for dense).</param>
public readonly record struct SpectralGapResult(double Gap, double Lambda2, double LambdaMin, SpectralMethod Method, bool Converged, int Iterations);

/// <summary>
/// The spectral gap <c>1 − max(|λ₂|, |λₙ|)</c> of a symmetric doubly stochastic mixing matrix W,
/// i.e. one minus the spectral norm of <c>W − 11ᵀ/n</c>; gossip averaging contracts the distance to
/// consensus by at least <c>1 − gap</c> per step (Xiao and Boyd, "Fast linear iterations for
/// distributed averaging", 2004). Dense eigenvalues for n up to <see cref="DenseLimit"/>, Lanczos
/// iteration (C. Lanczos, 1950; full reorthogonalisation) beyond. Lanczos converges in about a
/// hundred iterations on expander-like graphs (Erdős–Rényi, Barabási–Albert, k-regular,
/// exponential) but needs O(n) iterations on slowly mixing ones (long rings and paths): check
/// <see cref="SpectralGapResult.Converged"/>.
/// </summary>
public static class SpectralGap
{
    /// <summary>Largest n for which <see cref="SpectralMethod.Auto"/> goes straight to the dense solver (≈ 0.3 s at this size).</summary>
    public const int DenseLimit = 1000;

    /// <summary>Largest n for which <see cref="SpectralMethod.Auto"/> retries densely when Lanczos does not converge (slowly mixing graphs such as long rings; seconds).</summary>
    public const int DenseFallbackLimit = 2500;

    /// <summary>All eigenvalues of W (dense), descending.</summary>
    /// <exception cref="ArgumentException">W is not symmetric.</exception>
    public static double[] Eigenvalues(MixingMatrix w)
    {
        RequireSymmetric(w);
        return SymmetricEigen.Eigenvalues(w.ToDense(), w.NodeCount);
    }

    /// <summary>Computes the spectral gap of <paramref name="w"/>.</summary>
    /// <param name="w">A symmetric doubly stochastic mixing matrix.</param>
    /// <param name="method">Dense, Lanczos, or automatic by size.</param>
    /// <param name="maxIterations">Lanczos iteration limit (also bounded by n − 1); memory is maxIterations·n doubles.</param>
    /// <param name="tolerance">Lanczos stops when the extreme Ritz values move less than this between checks.</param>
    /// <exception cref="ArgumentException">W is not symmetric or not doubly stochastic.</exception>
    /// <exception cref="ArgumentOutOfRangeException">maxIterations &lt; 2 or tolerance not positive.</exception>
    public static SpectralGapResult Compute(MixingMatrix w, SpectralMethod method = SpectralMethod.Auto, int maxIterations = 500, double tolerance = 1e-10)
    {
        if (maxIterations < 2) throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, $"Invalid Lanczos iteration limit: {maxIterations}; must be ≥ 2.");
        if (!(tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, $"Invalid Lanczos tolerance: {tolerance}; must be > 0.");
        RequireSymmetric(w);
        if (!w.IsDoublyStochastic(1e-9)) throw new ArgumentException($"The spectral gap is defined here for doubly stochastic W; this {w.Kind} matrix has a row or column not summing to 1 (or a negative entry).", nameof(w));
        int n = w.NodeCount;
        if (n == 1) return new SpectralGapResult(1, 0, 0, SpectralMethod.Dense, true, 0);
        if (method == SpectralMethod.Lanczos || (method == SpectralMethod.Auto && n > DenseLimit))
        {
            var r = Lanczos(w, Math.Min(maxIterations, n - 1), tolerance);
            if (r.Converged || method == SpectralMethod.Lanczos || n > DenseFallbackLimit) return r;
        }
        var ev = SymmetricEigen.Eigenvalues(w.ToDense(), n);
        return Result(ev[1], ev[n - 1], SpectralMethod.Dense, true, 0);
    }

    private static SpectralGapResult Result(double l2, double ln, SpectralMethod m, bool converged, int iters)
    {
        double gap = 1 - Math.Max(Math.Abs(l2), Math.Abs(ln));
        return new SpectralGapResult(Math.Max(0, gap), l2, ln, m, converged, iters);
    }

    private static void RequireSymmetric(MixingMatrix w)
    {
        if (!w.IsSymmetric(1e-12)) throw new ArgumentException($"The {w.Kind} mixing matrix is not symmetric; the spectral gap here needs a symmetric W.", nameof(w));
    }

    /// <summary>
    /// Lanczos on W restricted to the complement of the all-ones vector (every Lanczos vector is
    /// re-orthogonalised against 1 and against all previous vectors), so the Ritz values
    /// approximate λ₂ … λₙ; stops when the largest and smallest Ritz values move less than the
    /// tolerance over 5 iterations, or on an invariant subspace (exact).
    /// </summary>
    private static SpectralGapResult Lanczos(MixingMatrix w, int maxIter, double tolerance)
    {
        int n = w.NodeCount;
        var q = new double[maxIter + 1][];
        var alpha = new List<double>();
        var beta = new List<double>();
        var rng = new Rng(0x5EC7_7A1_6A9UL);
        var r = new double[n];
        for (int i = 0; i < n; i++) r[i] = rng.NextGaussian();
        ProjectOutOnes(r);
        double rn = TensorPrimitives.Norm<double>(r);
        double prevMax = double.NaN, prevMin = double.NaN, lmax = 0, lmin = 0;
        bool converged = false;
        int j = 0;
        var wq = new double[n];
        while (j < maxIter)
        {
            q[j] = new double[n];
            TensorPrimitives.Multiply<double>(r, 1.0 / rn, q[j]);
            w.Apply(q[j], wq);
            double a = TensorPrimitives.Dot<double>(q[j], wq);
            alpha.Add(a);
            wq.CopyTo(r, 0);
            ProjectOutOnes(r);
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k <= j; k++)
                    TensorPrimitives.MultiplyAdd<double>(q[k], -TensorPrimitives.Dot<double>(q[k], r), r, r);
            rn = TensorPrimitives.Norm<double>(r);
            j++;
            bool invariant = rn <= 1e-13;
            if (invariant || j % 5 == 0 || j == maxIter)
            {
                var theta = SymmetricEigen.TridiagonalEigenvalues(alpha.ToArray(), beta.ToArray());
                lmax = theta[0];
                lmin = theta[^1];
                if (invariant || (Math.Abs(lmax - prevMax) < tolerance && Math.Abs(lmin - prevMin) < tolerance)) { converged = true; break; }
                prevMax = lmax;
                prevMin = lmin;
            }
            if (j < maxIter) beta.Add(rn);
        }
        return Result(lmax, lmin, SpectralMethod.Lanczos, converged, j);
    }

    private static void ProjectOutOnes(Span<double> x)
    {
        double mean = TensorPrimitives.Sum<double>(x) / x.Length;
        TensorPrimitives.Subtract<double>(x, mean, x);
    }
}
