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
/// Only each group's mean and 1/σ are kept in the scratch; backward recomputes x̂ from the input.
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
    public override int ScratchLength(int batch) => checked(2 * batch * _groups);

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        int size = _channels * _spatial, cpg = _channels / _groups, gsize = cpg * _spatial, sp = _spatial;
        var gamma = _gamma.Slice(a.Parameters);
        var beta = _beta.Slice(a.Parameters);
        var stats = a.Scratch.Slice(0, 2 * a.Batch * _groups); // (mean, 1/σ) per example and group
        for (int e = 0; e < a.Batch; e++)
        for (int g = 0; g < _groups; g++)
        {
            int off = e * size + g * gsize;
            var x = a.Input.Slice(off, gsize);
            float mean = TensorPrimitives.Sum(x) / gsize;
            float r = 1f / MathF.Sqrt(SumSquaredDeviations(x, mean) / gsize + _eps);
            stats[2 * (e * _groups + g)] = mean;
            stats[2 * (e * _groups + g) + 1] = r;
            for (int c = 0; c < cpg; c++)
            {
                // y = γ·(x − μ)·r + β = x·(rγ) + (β − μ·rγ)
                int ch = g * cpg + c;
                float scale = r * gamma[ch];
                Affine(x.Slice(c * sp, sp), scale, beta[ch] - mean * scale, a.Output.Slice(off + c * sp, sp));
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
        ReadOnlySpan<float> stats = a.Scratch.Slice(0, 2 * a.Batch * _groups);
        bool wantDx = !a.InputGradient.IsEmpty;
        for (int e = 0; e < a.Batch; e++)
        for (int g = 0; g < _groups; g++)
        {
            int off = e * size + g * gsize;
            float mean = stats[2 * (e * _groups + g)], r = stats[2 * (e * _groups + g) + 1];
            // Σ dx̂ and Σ dx̂·x̂ over the group, with dx̂ = γ_c·dy and x̂ = (x − μ)·r.
            float sumDxh = 0, sumDxhXh = 0;
            for (int c = 0; c < cpg; c++)
            {
                int ch = g * cpg + c;
                var (s, dev) = SumAndDotDeviations(a.OutputGradient.Slice(off + c * sp, sp), a.Input.Slice(off + c * sp, sp), mean);
                float d = dev * r;
                dbeta[ch] += s;
                dgamma[ch] += d;
                sumDxh += gamma[ch] * s;
                sumDxhXh += gamma[ch] * d;
            }
            if (!wantDx) continue;
            // dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) = (rγ_c)·dy + (−r²·mean(dx̂·x̂))·(x − μ) − r·mean(dx̂)
            float shift = -r * sumDxh / gsize, slope = -r * r * sumDxhXh / gsize;
            for (int c = 0; c < cpg; c++)
            {
                int ch = g * cpg + c;
                Combine(a.OutputGradient.Slice(off + c * sp, sp), r * gamma[ch], a.Input.Slice(off + c * sp, sp), mean, slope, shift,
                    a.InputGradient.Slice(off + c * sp, sp));
            }
        }
    }

    /// <summary><c>Σ (x[i] − mean)²</c>.</summary>
    private static float SumSquaredDeviations(ReadOnlySpan<float> x, float mean)
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        float total = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var m = Vector512.Create(mean);
            Vector512<float> s0 = default, s1 = default;
            for (; i <= n - 32; i += 32)
            {
                var d0 = Vector512.LoadUnsafe(ref rx, (nuint)i) - m;
                var d1 = Vector512.LoadUnsafe(ref rx, (nuint)(i + 16)) - m;
                s0 = Vector512.FusedMultiplyAdd(d0, d0, s0);
                s1 = Vector512.FusedMultiplyAdd(d1, d1, s1);
            }
            for (; i <= n - 16; i += 16)
            {
                var d0 = Vector512.LoadUnsafe(ref rx, (nuint)i) - m;
                s0 = Vector512.FusedMultiplyAdd(d0, d0, s0);
            }
            total = Vector512.Sum(s0 + s1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var m = Vector256.Create(mean);
            Vector256<float> s0 = default;
            for (; i <= n - 8; i += 8)
            {
                var d0 = Vector256.LoadUnsafe(ref rx, (nuint)i) - m;
                s0 = Vector256.FusedMultiplyAdd(d0, d0, s0);
            }
            total = Vector256.Sum(s0);
        }
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref rx, i) - mean;
            total += d * d;
        }
        return total;
    }

    /// <summary><c>(Σ dy[i], Σ dy[i]·(x[i] − mean))</c>.</summary>
    private static (float Sum, float Dot) SumAndDotDeviations(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean)
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rd = ref MemoryMarshal.GetReference(dy);
        float sum = 0, dot = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var m = Vector512.Create(mean);
            Vector512<float> s0 = default, t0 = default;
            for (; i <= n - 16; i += 16)
            {
                var g = Vector512.LoadUnsafe(ref rd, (nuint)i);
                s0 += g;
                t0 = Vector512.FusedMultiplyAdd(g, Vector512.LoadUnsafe(ref rx, (nuint)i) - m, t0);
            }
            sum = Vector512.Sum(s0);
            dot = Vector512.Sum(t0);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var m = Vector256.Create(mean);
            Vector256<float> s0 = default, t0 = default;
            for (; i <= n - 8; i += 8)
            {
                var g = Vector256.LoadUnsafe(ref rd, (nuint)i);
                s0 += g;
                t0 = Vector256.FusedMultiplyAdd(g, Vector256.LoadUnsafe(ref rx, (nuint)i) - m, t0);
            }
            sum = Vector256.Sum(s0);
            dot = Vector256.Sum(t0);
        }
        for (; i < n; i++)
        {
            float g = Unsafe.Add(ref rd, i);
            sum += g;
            dot += g * (Unsafe.Add(ref rx, i) - mean);
        }
        return (sum, dot);
    }

    /// <summary><c>dx[i] = a·dy[i] + slope·(x[i] − mean) + shift</c>.</summary>
    private static void Combine(ReadOnlySpan<float> dy, float a, ReadOnlySpan<float> x, float mean, float slope, float shift, Span<float> dx)
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rd = ref MemoryMarshal.GetReference(dy);
        ref float ro = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a); var vm = Vector512.Create(mean); var vs = Vector512.Create(slope); var vc = Vector512.Create(shift);
            for (; i <= n - 16; i += 16)
            {
                var t = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref rx, (nuint)i) - vm, vs, vc);
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref rd, (nuint)i), va, t).StoreUnsafe(ref ro, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a); var vm = Vector256.Create(mean); var vs = Vector256.Create(slope); var vc = Vector256.Create(shift);
            for (; i <= n - 8; i += 8)
            {
                var t = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rx, (nuint)i) - vm, vs, vc);
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rd, (nuint)i), va, t).StoreUnsafe(ref ro, (nuint)i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref ro, i) = a * Unsafe.Add(ref rd, i) + slope * (Unsafe.Add(ref rx, i) - mean) + shift;
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
