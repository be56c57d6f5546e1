using Flock.Compression;

namespace Flock.Tests.Compression;

/// <summary>Error feedback: residual bookkeeping is exact, and it wraps any codec.</summary>
public sealed class ErrorFeedbackTests
{
    [Theory]
    [InlineData("sign")]
    [InlineData("top-k")]
    [InlineData("random-k-raw")]
    [InlineData("qsgd-4bit")]
    [InlineData("rqm")]
    [InlineData("count-sketch")]
    [InlineData("dgc")]
    public void Sum_of_decoded_plus_residual_equals_sum_of_inputs(string inner)
    {
        const int d = 257, rounds = 30;
        var ef = new ErrorFeedback(Codecs.Create(inner));
        var state = new float[ef.StateLength(d)];
        var sumIn = new double[d];
        var sumOut = new double[d];
        var bound = new double[d];                           // Σ of magnitudes entering the two float operations per round
        for (int r = 0; r < rounds; r++)
        {
            var x = Codecs.Gaussian(d, 100 + (ulong)r);
            var before = ErrorFeedback.Residual(state, d).ToArray();
            var y = Codecs.Decode(ef, Codecs.Encode(ef, x, state, Codecs.Context(r)), d);
            var after = ErrorFeedback.Residual(state, d);
            for (int i = 0; i < d; i++)
            {
                sumIn[i] += x[i];
                sumOut[i] += y[i];
                bound[i] += Math.Abs(before[i]) + Math.Abs(x[i]) + Math.Abs(y[i]) + Math.Abs(after[i]);
            }
        }
        // e_T = Σ x − Σ decode exactly in real arithmetic; each round rounds e + x and e − decode once
        // (relative error 2^−24 each), so the difference is bounded by 2^−23 times the magnitudes involved.
        var residual = ErrorFeedback.Residual(state, d);
        for (int i = 0; i < d; i++)
            Assert.True(Math.Abs(sumIn[i] - (sumOut[i] + residual[i])) <= bound[i] * Math.Pow(2, -23) + 1e-9,
                $"entry {i}: Σx = {sumIn[i]}, Σdecoded + e = {sumOut[i] + residual[i]}, bound {bound[i] * Math.Pow(2, -23)}");
    }

    [Theory]
    [InlineData("qsgd-4bit")]
    [InlineData("top-k")]
    [InlineData("sign")]
    public void Non_finite_input_is_rejected_and_leaves_the_residual_unchanged(string inner)
    {
        const int d = 300;
        var ef = new ErrorFeedback(Codecs.Create(inner));
        var state = new float[ef.StateLength(d)];
        Codecs.Encode(ef, Codecs.Gaussian(d, 1), state, Codecs.Context(0));
        var before = state.ToArray();
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity })
        {
            var x = Codecs.Gaussian(d, 2);
            x[211] = bad;
            var e = Assert.Throws<ArgumentException>(() => Codecs.Encode(ef, x, state, Codecs.Context(1)));
            if (inner != "sign") Assert.Contains("211", e.Message);   // the fused sign path reports the scale instead
            Assert.Equal(before, state);
        }
        // A finite input whose sum with the residual overflows is rejected too.
        var huge = Codecs.Gaussian(d, 3);
        huge[5] = ErrorFeedback.Residual(state, d)[5] >= 0 ? float.MaxValue : -float.MaxValue;
        if (Math.Abs(ErrorFeedback.Residual(state, d)[5]) > 1e32f)
        {
            Assert.Throws<ArgumentException>(() => Codecs.Encode(ef, huge, state, Codecs.Context(2)));
            Assert.Equal(before, state);
        }
    }

    [Fact]
    public void First_step_by_hand_with_sign()
    {
        // x = (1, −3, 0.5, 2): scale = 6.5/4 = 1.625; decoded = (1.625, −1.625, 1.625, 1.625);
        // residual = x − decoded. Step 2 with x = 0: p = residual.
        var ef = new ErrorFeedback(new ScaledSign());
        var state = new float[4];
        float[] x = [1f, -3f, 0.5f, 2f];
        var y = Codecs.Decode(ef, Codecs.Encode(ef, x, state, Codecs.Context()), 4);
        Assert.Equal(new[] { 1.625f, -1.625f, 1.625f, 1.625f }, y);
        Assert.Equal(new[] { 1f - 1.625f, -3f + 1.625f, 0.5f - 1.625f, 2f - 1.625f }, state);
        var p = (float[])state.Clone();
        var y2 = Codecs.Decode(ef, Codecs.Encode(ef, new float[4], state, Codecs.Context(1)), 4);
        float scale2 = (float)(p.Sum(v => Math.Abs((double)v)) / 4);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(p[i] < 0 ? -scale2 : scale2, y2[i]);
            Assert.Equal(p[i] - y2[i], state[i]);
        }
    }

    [Fact]
    public void Lossless_inner_leaves_no_residual_and_state_layout()
    {
        var ef = new ErrorFeedback(new Identity());
        var state = new float[ef.StateLength(10)];
        var x = Codecs.Gaussian(10, 1);
        Assert.Equal(x, Codecs.Decode(ef, Codecs.Encode(ef, x, state, Codecs.Context()), 10));
        Assert.All(state, v => Assert.Equal(0f, v));
        // State = residual (d) then the inner state (DGC: 2d).
        Assert.Equal(30, new ErrorFeedback(new DeepGradientCompression()).StateLength(10));
        Assert.Throws<ArgumentException>(() => new ErrorFeedback(new ErrorFeedback(new ScaledSign())));
        Assert.Throws<ArgumentNullException>(() => new ErrorFeedback(null!));
    }

    [Fact]
    public void Top_k_with_error_feedback_eventually_sends_every_entry()
    {
        // A constant input with k = 1 of 4: the residual of unsent entries grows until each is sent.
        var ef = new ErrorFeedback(TopK.WithCount(1));
        var state = new float[4];
        float[] x = [4f, 3f, 2f, 1f];
        var sent = new float[4];
        for (int r = 0; r < 12; r++)
        {
            var y = Codecs.Decode(ef, Codecs.Encode(ef, x, state, Codecs.Context(r)), 4);
            for (int i = 0; i < 4; i++) sent[i] += y[i];
        }
        Assert.All(sent, v => Assert.True(v > 0));
        for (int i = 0; i < 4; i++) Assert.Equal(12 * x[i], sent[i] + state[i], 1e-4);
    }
}
