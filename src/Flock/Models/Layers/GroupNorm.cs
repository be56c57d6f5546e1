using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// Group normalization (Wu and He, "Group Normalization", 2018) over <c>[C, …]</c> examples:
/// the channels are split into <c>groups</c> equal groups, each group of each example is
/// normalized by its own mean and biased variance (<c>x̂ = (x − μ)/√(σ² + ε)</c>), then every
/// channel is scaled and shifted (<c>y = γ_c·x̂ + β_c</c>, γ starts at 1, β at 0). Unlike batch
/// norm it does not depend on the batch, which suits non-IID federated learning. Parameters
/// <c>{name}.weight</c> (γ) and <c>{name}.bias</c> (β), both <c>[C]</c>, as in PyTorch.
/// The normalized input and each group's 1/σ are kept in the scratch for backward.
/// </summary>
public sealed class GroupNorm : Layer
{
    private readonly int _groups, _channels;
    private readonly float _eps;
    private ParameterTensor _gamma = null!, _beta = null!;
    private int _spatial;

    /// <summary>Creates a group normalization.</summary>
    /// <param name="groups">Number of groups (positive, divides <paramref name="channels"/>).</param>
    /// <param name="channels">Number of channels (the input's first dimension).</param>
    /// <param name="eps">Added to the variance (positive, default 1e-5).</param>
    /// <param name="name">Layer name (default "gn").</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive, <paramref name="groups"/> does not divide <paramref name="channels"/>, or <paramref name="eps"/> is not a positive finite value.</exception>
    public GroupNorm(int groups, int channels, float eps = 1e-5f, string name = "gn") : base(name)
    {
        if (groups <= 0) throw new ArgumentOutOfRangeException(nameof(groups), groups, "Invalid number of groups: must be positive.");
        if (channels <= 0) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Invalid number of channels: must be positive.");
        if (channels % groups != 0) throw new ArgumentOutOfRangeException(nameof(groups), groups, $"Invalid number of groups: {groups} does not divide the {channels} channels.");
        if (!(eps > 0) || float.IsInfinity(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "Invalid epsilon: must be a positive finite value.");
        _groups = groups;
        _channels = channels;
        _eps = eps;
    }

    /// <summary>Number of groups.</summary>
    public int Groups => _groups;

    /// <summary>Number of channels.</summary>
    public int Channels => _channels;

    /// <summary>The scale γ descriptor (<c>[C]</c>).</summary>
    public ParameterTensor Weight => _gamma;

    /// <summary>The shift β descriptor (<c>[C]</c>).</summary>
    public ParameterTensor Bias => _beta;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input's first dimension is not the channel count.</exception>
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        if (input[0] != _channels) throw new ArgumentException($"GroupNorm '{Name}' expects {_channels} channels; got input {input}.", nameof(input));
        _spatial = input.Size / _channels;
        _gamma = layout.Add(Name + ".weight", _channels);
        _beta = layout.Add(Name + ".bias", _channels);
        return input;
    }

    /// <inheritdoc />
    public override void InitializeParameters(Span<float> p, Rng rng)
    {
        _gamma.Slice(p).Fill(1f);
        _beta.Slice(p).Clear();
    }

    /// <inheritdoc />
    public override long FlopsPerExample => 8L * _channels * _spatial;

    /// <inheritdoc />
    public override int ScratchLength(int batch) => checked(batch * (_channels * _spatial + _groups));

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        int size = _channels * _spatial, cpg = _channels / _groups, gsize = cpg * _spatial;
        var gamma = _gamma.Slice(a.Parameters);
        var beta = _beta.Slice(a.Parameters);
        var xhat = a.Scratch.Slice(0, a.Batch * size);
        var rstd = a.Scratch.Slice(a.Batch * size, a.Batch * _groups);
        for (int e = 0; e < a.Batch; e++)
        for (int g = 0; g < _groups; g++)
        {
            int off = e * size + g * gsize;
            var x = a.Input.Slice(off, gsize);
            var xh = xhat.Slice(off, gsize);
            float mean = TensorPrimitives.Sum(x) / gsize;
            TensorPrimitives.Subtract(x, mean, xh);
            float var = TensorPrimitives.SumOfSquares(xh) / gsize;
            float r = 1f / MathF.Sqrt(var + _eps);
            rstd[e * _groups + g] = r;
            TensorPrimitives.Multiply(xh, r, xh);
            for (int c = 0; c < cpg; c++)
            {
                int ch = g * cpg + c;
                Affine(xh.Slice(c * _spatial, _spatial), gamma[ch], beta[ch], a.Output.Slice(off + c * _spatial, _spatial));
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        int size = _channels * _spatial, cpg = _channels / _groups, gsize = cpg * _spatial, sp = _spatial;
        var gamma = _gamma.Slice(a.Parameters);
        var dgamma = _gamma.Slice(a.ParameterGradient);
        var dbeta = _beta.Slice(a.ParameterGradient);
        dgamma.Clear();
        dbeta.Clear();
        ReadOnlySpan<float> xhat = a.Scratch.Slice(0, a.Batch * size);
        ReadOnlySpan<float> rstd = a.Scratch.Slice(a.Batch * size, a.Batch * _groups);
        bool wantDx = !a.InputGradient.IsEmpty;
        for (int e = 0; e < a.Batch; e++)
        for (int g = 0; g < _groups; g++)
        {
            int off = e * size + g * gsize;
            // Σ dx̂ and Σ dx̂·x̂ over the group, with dx̂ = γ_c·dy.
            float sumDxh = 0, sumDxhXh = 0;
            for (int c = 0; c < cpg; c++)
            {
                int ch = g * cpg + c;
                var dy = a.OutputGradient.Slice(off + c * sp, sp);
                float s = TensorPrimitives.Sum(dy);
                float d = TensorPrimitives.Dot(dy, xhat.Slice(off + c * sp, sp));
                dbeta[ch] += s;
                dgamma[ch] += d;
                sumDxh += gamma[ch] * s;
                sumDxhXh += gamma[ch] * d;
            }
            if (!wantDx) continue;
            // dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))
            float r = rstd[e * _groups + g];
            float shift = -r * sumDxh / gsize, slope = -r * sumDxhXh / gsize;
            for (int c = 0; c < cpg; c++)
            {
                int ch = g * cpg + c;
                var dx = a.InputGradient.Slice(off + c * sp, sp);
                Affine(xhat.Slice(off + c * sp, sp), slope, shift, dx);
                TensorPrimitives.MultiplyAdd(a.OutputGradient.Slice(off + c * sp, sp), r * gamma[ch], dx, dx);
            }
        }
    }

    /// <summary><c>y[i] = x[i]·a + b</c>.</summary>
    private static void Affine(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a); var vb = Vector512.Create(b);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref rx, (nuint)i), va, vb).StoreUnsafe(ref ry, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a); var vb = Vector256.Create(b);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rx, (nuint)i), va, vb).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref ry, i) = MathF.FusedMultiplyAdd(Unsafe.Add(ref rx, i), a, b);
    }
}
