namespace Flock.Attacks;

/// <summary>
/// The standard normal quantile function Φ⁻¹, used by ALIE to turn n and f into its factor z.
/// Algorithm AS 241 (PPND16) from "The Percentage Points of the Normal Distribution" (Wichura,
/// Applied Statistics, 1988): rational approximations with relative error about 1e-16 over the whole
/// range, so no refinement step is needed (Acklam's 1.15e-9 approximation would need a Halley step
/// with an accurate erfc, which .NET lacks). Python's <c>statistics.NormalDist.inv_cdf</c> uses the same algorithm.
/// </summary>
public static class NormalQuantile
{
    /// <summary>Φ⁻¹(<paramref name="p"/>): the z with P(Z ≤ z) = p for Z ~ N(0, 1).</summary>
    /// <param name="p">A probability strictly between 0 and 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not in (0, 1).</exception>
    public static double InverseCdf(double p)
    {
        if (!(p > 0 && p < 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, $"Invalid probability: {p}; the normal quantile needs a value in (0, 1).");
        double q = p - 0.5;
        double num, den;
        if (Math.Abs(q) <= 0.425)
        {
            double r = 0.180625 - q * q;
            num = (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r + 6.7265770927008700853e+4) * r
                + 4.5921953931549871457e+4) * r + 1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r
                + 1.3314166789178437745e+2) * r + 3.3871328727963666080e+0) * q;
            den = (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r + 3.9307895800092710610e+4) * r
                + 2.1213794301586595867e+4) * r + 5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r
                + 4.2313330701600911252e+1) * r + 1.0);
            return num / den;
        }
        double t = Math.Sqrt(-Math.Log(q < 0 ? p : 1.0 - p));
        if (t <= 5.0)
        {
            t -= 1.6;
            num = (((((((7.74545014278341407640e-4 * t + 2.27238449892691845833e-2) * t + 2.41780725177450611770e-1) * t
                + 1.27045825245236838258e+0) * t + 3.64784832476320460504e+0) * t + 5.76949722146069140550e+0) * t
                + 4.63033784615654529590e+0) * t + 1.42343711074968357734e+0);
            den = (((((((1.05075007164441684324e-9 * t + 5.47593808499534494600e-4) * t + 1.51986665636164571966e-2) * t
                + 1.48103976427480074590e-1) * t + 6.89767334985100004550e-1) * t + 1.67638483018380384940e+0) * t
                + 2.05319162663775882187e+0) * t + 1.0);
        }
        else
        {
            t -= 5.0;
            num = (((((((2.01033439929228813265e-7 * t + 2.71155556874348757815e-5) * t + 1.24266094738807843860e-3) * t
                + 2.65321895265761230930e-2) * t + 2.96560571828504891230e-1) * t + 1.78482653991729133580e+0) * t
                + 5.46378491116411436990e+0) * t + 6.65790464350110377720e+0);
            den = (((((((2.04426310338993978564e-15 * t + 1.42151175831644588870e-7) * t + 1.84631831751005468180e-5) * t
                + 7.86869131145613259100e-4) * t + 1.48753612908506148525e-2) * t + 1.36929880922735805310e-1) * t
                + 5.99832206555887937690e-1) * t + 1.0);
        }
        double x = num / den;
        return q < 0 ? -x : x;
    }
}
