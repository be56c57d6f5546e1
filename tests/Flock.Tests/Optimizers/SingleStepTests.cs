using Flock.Optimizers;

namespace Flock.Tests.Optimizers;

/// <summary>One or two steps on 2–3 element vectors, with the expected values worked out by hand (in the comments).</summary>
public sealed class SingleStepTests
{
    private static void Near(double[] expected, float[] actual, double tol = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}]: expected {expected[i]}, got {actual[i]:R}");
    }

    [Fact]
    public void Sgd_step()
    {
        // θ − 0.1·g = [1 − 0.05, −2 − 0.1, 0.5 + 0.2]
        float[] p = [1f, -2f, 0.5f], g = [0.5f, 1f, -2f];
        new Sgd(0.1f).Step(p, g, Span<float>.Empty, 1);
        Near([0.95, -2.1, 0.7], p);
    }

    [Fact]
    public void Sgd_coupled_weight_decay()
    {
        // d = g + 0.5·θ = [0.5 + 0.5, 1 − 1, −2 + 0.25] = [1, 0, −1.75]; θ − 0.1·d = [0.9, −2, 0.675]
        float[] p = [1f, -2f, 0.5f], g = [0.5f, 1f, -2f];
        new Sgd(0.1f, weightDecay: 0.5f).Step(p, g, default, 1);
        Near([0.9, -2.0, 0.675], p);
    }

    [Fact]
    public void Heavy_ball_momentum_two_steps()
    {
        // Step 1: buf = g1 = [0.5, 1]; θ = [1 − 0.05, −2 − 0.1] = [0.95, −2.1]
        // Step 2: buf = 0.9·[0.5, 1] + [1, −1] = [1.45, −0.1]; θ = [0.95 − 0.145, −2.1 + 0.01] = [0.805, −2.09]
        var opt = new MomentumSgd(0.1f, 0.9f);
        float[] p = [1f, -2f], s = new float[opt.StateLength(2)];
        opt.Step(p, new[] { 0.5f, 1f }, s, 1);
        Near([0.95, -2.1], p);
        Near([0.5, 1.0], s);
        opt.Step(p, new[] { 1f, -1f }, s, 2);
        Near([1.45, -0.1], s);
        Near([0.805, -2.09], p);
    }

    [Fact]
    public void Nesterov_momentum_two_steps()
    {
        // Step 1: buf = [0.5, 1]; d + 0.9·buf = [0.95, 1.9]; θ = [1 − 0.095, −2 − 0.19] = [0.905, −2.19]
        // Step 2: buf = [1.45, −0.1]; d + 0.9·buf = [1 + 1.305, −1 − 0.09] = [2.305, −1.09];
        //         θ = [0.905 − 0.2305, −2.19 + 0.109] = [0.6745, −2.081]
        var opt = new MomentumSgd(0.1f, 0.9f, nesterov: true);
        float[] p = [1f, -2f], s = new float[2];
        opt.Step(p, new[] { 0.5f, 1f }, s, 1);
        Near([0.905, -2.19], p);
        opt.Step(p, new[] { 1f, -1f }, s, 2);
        Near([0.6745, -2.081], p);
    }

    [Fact]
    public void Dampening_is_skipped_on_the_first_step()
    {
        // Step 1: buf = g1 = [0.5, 1] (no dampening on the first step); θ = [0.95, −2.1]
        // Step 2: buf = 0.9·[0.5, 1] + 0.5·[1, −1] = [0.95, 0.4]; θ = [0.95 − 0.095, −2.1 − 0.04] = [0.855, −2.14]
        var opt = new MomentumSgd(0.1f, 0.9f, dampening: 0.5f);
        float[] p = [1f, -2f], s = new float[2];
        opt.Step(p, new[] { 0.5f, 1f }, s, 1);
        Near([0.5, 1.0], s);
        Near([0.95, -2.1], p);
        opt.Step(p, new[] { 1f, -1f }, s, 2);
        Near([0.95, 0.4], s);
        Near([0.855, -2.14], p);
    }

    [Fact]
    public void Momentum_with_coupled_weight_decay()
    {
        // d = g + 0.1·θ = [0.5 + 0.1, 1 − 0.2] = [0.6, 0.8] = buf; θ = [1 − 0.06, −2 − 0.08] = [0.94, −2.08]
        var opt = new MomentumSgd(0.1f, 0.9f, weightDecay: 0.1f);
        float[] p = [1f, -2f], s = new float[2];
        opt.Step(p, new[] { 0.5f, 1f }, s, 1);
        Near([0.6, 0.8], s);
        Near([0.94, -2.08], p);
    }

    [Fact]
    public void Momentum_zero_is_plain_sgd_and_leaves_the_buffer_alone()
    {
        var opt = new MomentumSgd(0.1f, 0f, dampening: 0.5f);
        float[] p = [1f, -2f], s = new float[2];
        opt.Step(p, new[] { 0.5f, 1f }, s, 1);
        opt.Step(p, new[] { 0.5f, 1f }, s, 2);
        Near([0.9, -2.2], p);
        Assert.Equal(new float[2], s);
    }

    [Fact]
    public void Adam_two_steps_with_bias_correction()
    {
        // β1 = 0.5, β2 = 0.75, ε = 0, η = 0.1, θ = [1, −2].
        // Step 1, g = [2, −1]: m = 0.5·g = [1, −0.5]; v = 0.25·g² = [1, 0.25];
        //   bc1 = 0.5, √bc2 = √0.25 = 0.5; denom = √v/0.5 = [2, 1]; θ −= (0.1/0.5)·m/denom = [0.1, −0.1]
        //   → θ = [0.9, −1.9]   (step 1 of Adam moves every coordinate by η·sign(g))
        // Step 2, g = [1, 3]: m = 0.5·m + 0.5·g = [1, 1.25]; v = 0.75·v + 0.25·g² = [1, 2.4375];
        //   bc1 = 0.75, bc2 = 1 − 0.5625 = 0.4375; denom = √(v/bc2) = [√2.285714…, √5.571428…] = [1.5118579, 2.3603874];
        //   update = (0.1/0.75)·m/denom = [0.0881917, 0.0706099] → θ = [0.8118083, −1.9706099]
        var opt = new Adam(0.1f, 0.5f, 0.75f, 0f);
        float[] p = [1f, -2f], s = new float[opt.StateLength(2)];
        Assert.Equal(4, s.Length);
        opt.Step(p, new[] { 2f, -1f }, s, 1);
        Near([0.9, -1.9], p);
        Near([1, -0.5, 1, 0.25], s);
        opt.Step(p, new[] { 1f, 3f }, s, 2);
        Near([1, 1.25, 1, 2.4375], s);
        Near([0.8118083, -1.9706099], p);
    }

    [Fact]
    public void AmsGrad_normalizes_by_the_running_maximum()
    {
        // Same β as above, one coordinate: g = 2, 1, 0.
        // After step 2: m = 1, v = 1, v̂ = 1, θ = 0.8118083 (as above).
        // Step 3, g = 0: m = 0.5, v = 0.75, v̂ = max(1, 0.75) = 1; bc1 = 0.875, bc2 = 1 − 0.421875 = 0.578125.
        //   AMSGrad: (0.1/0.875)·0.5/√(1/0.578125) = 0.0571429/1.3151919 = 0.0434484 → θ = 0.7683599
        //   Adam:    (0.1/0.875)·0.5/√(0.75/0.578125) = 0.0571429/1.1389896 = 0.0501698 → θ = 0.7616385
        float RunThree(bool ams, out float[] state)
        {
            var opt = new Adam(0.1f, 0.5f, 0.75f, 0f, amsgrad: ams);
            float[] p = [1f];
            state = new float[opt.StateLength(1)];
            opt.Step(p, new[] { 2f }, state, 1);
            opt.Step(p, new[] { 1f }, state, 2);
            opt.Step(p, new[] { 0f }, state, 3);
            return p[0];
        }
        float withMax = RunThree(true, out var s);
        Assert.Equal(3, s.Length);
        Near([0.5, 0.75, 1.0], s);
        Near([0.7683599], [withMax]);
        Near([0.7616385], [RunThree(false, out _)]);
    }

    [Fact]
    public void Adam_coupled_weight_decay_enters_the_moments()
    {
        // d = g + 0.5·θ = [0.5 + 0.5, 1 − 1] = [1, 0]; step 1 moves by η·d/(|d| + ε): [0.1, 0] → θ = [0.9, −2]
        var opt = new Adam(0.1f, weightDecay: 0.5f);
        float[] p = [1f, -2f], s = new float[4];
        opt.Step(p, new[] { 0.5f, 1f }, s, 1);
        Near([0.9, -2.0], p);
        Assert.Equal(0f, s[1]); // m of the second coordinate: the decay cancelled its gradient
    }

    [Fact]
    public void AdamW_decays_the_weights_before_the_step()
    {
        // θ·(1 − 0.1·0.5) = [0.95, −1.9]; then the Adam step −η·sign(g) = [−0.1, −0.1] → [0.85, −2.0]
        // The moments see the raw gradient: m = 0.1·g = [0.05, 0.1].
        var opt = new AdamW(0.1f, weightDecay: 0.5f, epsilon: 0f);
        float[] p = [1f, -2f], s = new float[4];
        opt.Step(p, new[] { 0.5f, 1f }, s, 1);
        Near([0.85, -2.0], p);
        Near([0.05, 0.1], s.AsSpan(0, 2).ToArray());
    }

    [Fact]
    public void AdamW_uses_the_effective_learning_rate_for_the_decay()
    {
        // η = 0.02 (scheduled): θ·(1 − 0.02·0.5) = [0.99, −1.98]; then −0.02·sign(g) → [0.97, −2.0]
        var opt = new AdamW(0.1f, weightDecay: 0.5f, epsilon: 0f);
        float[] p = [1f, -2f], s = new float[4];
        opt.Step(p, new[] { 0.5f, 1f }, s, 1, 0.02f);
        Near([0.97, -2.0], p);
    }

    [Fact]
    public void Clipping_scales_to_the_max_norm_including_pytorchs_epsilon()
    {
        // ‖[3, 4]‖ = 5; coefficient 1/(5 + 1e-6); SGD with η = 1 from 0 gives −g·coef = [−0.6, −0.8]·(5/(5 + 1e-6))
        var opt = new GradientNormClipping(new Sgd(1f), 1f);
        float[] p = [0f, 0f], g = [3f, 4f];
        opt.Step(p, g, default, 1);
        double coef = 1.0 / (5 + 1e-6);
        Near([3 * coef, 4 * coef], g, 1e-7);
        Near([-3 * coef, -4 * coef], p, 1e-7);
    }

    [Fact]
    public void Clipping_leaves_small_gradients_unchanged_and_returns_the_norm()
    {
        float[] g = [0.3f, 0.4f];
        float norm = GradientNormClipping.Clip(g, 1f);
        Assert.Equal(0.5f, norm, 1e-7f);
        Assert.Equal(new[] { 0.3f, 0.4f }, g); // bit-identical
    }

    [Fact]
    public void Clipping_at_exactly_the_max_norm_still_scales_by_the_epsilon()
    {
        // PyTorch: coef = c/(‖g‖ + 1e-6) = 1/(1 + 1e-6) < 1, so g shrinks by one part in a million.
        float[] g = [0.6f, 0.8f];
        float norm = GradientNormClipping.Clip(g, 1f);
        float coef = 1f / (norm + 1e-6f);
        Assert.True(coef < 1f);
        Assert.Equal(0.6f * coef, g[0]);
        Assert.Equal(0.8f * coef, g[1]);
    }

    [Fact]
    public void Clipping_uses_the_global_norm_of_the_whole_vector()
    {
        // Two "tensors" [3] and [4]: the global norm is 5, not max(3, 4); clip to 2.5 halves everything.
        float[] g = [3f, 4f];
        GradientNormClipping.Clip(g, 2.5f);
        Near([1.5, 2.0], g, 1e-6);
    }
}
