using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// 2-D max pooling over <c>[C, H, W]</c> examples without padding (PyTorch's <c>MaxPool2d</c>
/// with floor rounding). Ties go to the first maximum in row-major window order and a NaN in a
/// window propagates (the last NaN's index is kept), as in PyTorch. The position of each maximum
/// is kept in the scratch (an <see cref="int"/> reinterpreting the float scratch: the flat index
/// in the plane, or the 0..3 window position on the AVX-512 2×2 path) and backward routes the
/// gradient there.
/// </summary>
public sealed class MaxPool2d : Layer
{
    private readonly int _kernel, _stride;
    private ConvGeometry _g;

    /// <summary>Creates a max pool.</summary>
    /// <param name="kernel">Window size (positive).</param>
    /// <param name="stride">Stride (positive); default (0) = <paramref name="kernel"/>.</param>
    /// <param name="name">Layer name (default "maxpool").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kernel"/> is not positive or <paramref name="stride"/> is negative.</exception>
    public MaxPool2d(int kernel, int stride = 0, string name = "maxpool") : base(name)
    {
        if (kernel <= 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Invalid pooling kernel: must be positive.");
        if (stride < 0) throw new ArgumentOutOfRangeException(nameof(stride), stride, "Invalid pooling stride: must be positive (or 0 for the kernel size).");
        _kernel = kernel;
        _stride = stride == 0 ? kernel : stride;
    }

    /// <summary>The window geometry (valid once built).</summary>
    public ConvGeometry Geometry => _g;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c> or is smaller than the window.</exception>
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout)
    {
        if (input.Rank != 3) throw new ArgumentException($"MaxPool2d '{Name}' needs [C, H, W] inputs; got {input}.", nameof(input));
        try { _g = new ConvGeometry(input[0], input[1], input[2], _kernel, _kernel, _stride, _stride, 0, 0); }
        catch (ArgumentOutOfRangeException e) { throw new ArgumentException($"MaxPool2d '{Name}' cannot take input {input}: {e.Message}", nameof(input), e); }
        return new TensorShape(input[0], _g.OutH, _g.OutW);
    }

    /// <inheritdoc />
    public override int ScratchLength(int batch) => checked(batch * _g.Channels * _g.OutputPositions);

    /// <inheritdoc />
    public override long FlopsPerExample => (long)_g.Channels * _g.OutputPositions * _kernel * _kernel;

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        if (UseFast2x2) { Forward2x2(a); return; }
        int planes = a.Batch * _g.Channels, h = _g.Height, w = _g.Width, oh = _g.OutH, ow = _g.OutW, k = _kernel, s = _stride;
        int inPlane = h * w, outPlane = oh * ow;
        ref float rx = ref MemoryMarshal.GetReference(a.Input);
        ref float ry = ref MemoryMarshal.GetReference(a.Output);
        ref int ri = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<float, int>(a.Scratch));
        for (int pl = 0; pl < planes; pl++)
        {
            ref float x = ref Unsafe.Add(ref rx, (nint)pl * inPlane);
            ref float y = ref Unsafe.Add(ref ry, (nint)pl * outPlane);
            ref int idx = ref Unsafe.Add(ref ri, (nint)pl * outPlane);
            for (int r = 0; r < oh; r++)
            for (int c = 0; c < ow; c++)
            {
                int start = r * s * w + c * s;
                int bi = start; float bv = Unsafe.Add(ref x, start);
                for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                {
                    int t = start + i * w + j;
                    float v = Unsafe.Add(ref x, t);
                    if (v > bv || float.IsNaN(v)) { bv = v; bi = t; }
                }
                Unsafe.Add(ref y, r * ow + c) = bv;
                Unsafe.Add(ref idx, r * ow + c) = bi;
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (a.InputGradient.IsEmpty) return;
        if (UseFast2x2) { Backward2x2(a); return; }
        int planes = a.Batch * _g.Channels, inPlane = _g.Height * _g.Width, outPlane = _g.OutputPositions;
        a.InputGradient.Slice(0, planes * inPlane).Clear();
        ref float rdx = ref MemoryMarshal.GetReference(a.InputGradient);
        ref float rdy = ref MemoryMarshal.GetReference(a.OutputGradient);
        ref int ri = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<float, int>(a.Scratch));
        for (int pl = 0; pl < planes; pl++)
        {
            ref float dx = ref Unsafe.Add(ref rdx, (nint)pl * inPlane);
            ref float dy = ref Unsafe.Add(ref rdy, (nint)pl * outPlane);
            ref int idx = ref Unsafe.Add(ref ri, (nint)pl * outPlane);
            for (int o = 0; o < outPlane; o++) Unsafe.Add(ref dx, Unsafe.Add(ref idx, o)) += Unsafe.Add(ref dy, o);
        }
    }

    // 2×2, stride 2 with AVX-512: 16 windows at a time; the scratch keeps each window's winner as
    // a code 0..3 (row-major in the window) instead of a flat index.
    private bool UseFast2x2 => _kernel == 2 && _stride == 2 && Avx512F.IsSupported;

    private static readonly Vector512<int> Even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> InterleaveLo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> InterleaveHi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LaneMask(int n) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Load(float* p, int n) =>
        n >= 16 ? Vector512.Load(p) : n <= 0 ? Vector512<float>.Zero : Avx512F.MaskLoad(p, LaneMask(n), Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(float* p, Vector512<float> v, int n)
    {
        if (n >= 16) v.Store(p);
        else if (n > 0) Avx512F.MaskStore(p, LaneMask(n), v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector512<float> v, int code, ref Vector512<float> best, ref Vector512<int> codes)
    {
        // PyTorch's rule: replace when v > best or v is NaN.
        var m = Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v);
        best = Vector512.ConditionalSelect(m, v, best);
        codes = Vector512.ConditionalSelect(m.AsInt32(), Vector512.Create(code), codes);
    }

    private unsafe void Forward2x2(in ForwardArgs a)
    {
        int planes = a.Batch * _g.Channels, w = _g.Width, oh = _g.OutH, ow = _g.OutW;
        int inPlane = _g.Height * w, outPlane = oh * ow;
        fixed (float* px = a.Input, py = a.Output, pi = a.Scratch)
        {
            for (int pl = 0; pl < planes; pl++)
            for (int r = 0; r < oh; r++)
            {
                float* x0 = px + (long)pl * inPlane + 2 * r * w, x1 = x0 + w;
                float* y = py + (long)pl * outPlane + r * ow, idx = pi + (long)pl * outPlane + r * ow;
                for (int c = 0; c < ow; c += 16)
                {
                    int n = Math.Min(16, ow - c);
                    var a0 = Load(x0 + 2 * c, 2 * n); var a1 = Load(x0 + 2 * c + 16, 2 * n - 16);
                    var b0 = Load(x1 + 2 * c, 2 * n); var b1 = Load(x1 + 2 * c + 16, 2 * n - 16);
                    var best = Avx512F.PermuteVar16x32x2(a0, Even, a1);
                    var codes = Vector512<int>.Zero;
                    Take(Avx512F.PermuteVar16x32x2(a0, Odd, a1), 1, ref best, ref codes);
                    Take(Avx512F.PermuteVar16x32x2(b0, Even, b1), 2, ref best, ref codes);
                    Take(Avx512F.PermuteVar16x32x2(b0, Odd, b1), 3, ref best, ref codes);
                    Store(y + c, best, n);
                    Store(idx + c, codes.AsSingle(), n);
                }
            }
        }
    }

    private unsafe void Backward2x2(in BackwardArgs a)
    {
        int planes = a.Batch * _g.Channels, h = _g.Height, w = _g.Width, oh = _g.OutH, ow = _g.OutW;
        int inPlane = h * w, outPlane = oh * ow;
        // Rows and columns that no window covers get zero gradient.
        if (h % 2 != 0 || w % 2 != 0) a.InputGradient.Slice(0, planes * inPlane).Clear();
        fixed (float* pdx = a.InputGradient, pdy = a.OutputGradient, pi = a.Scratch)
        {
            for (int pl = 0; pl < planes; pl++)
            for (int r = 0; r < oh; r++)
            {
                float* d0 = pdx + (long)pl * inPlane + 2 * r * w, d1 = d0 + w;
                float* dy = pdy + (long)pl * outPlane + r * ow, idx = pi + (long)pl * outPlane + r * ow;
                for (int c = 0; c < ow; c += 16)
                {
                    int n = Math.Min(16, ow - c);
                    var g = Load(dy + c, n);
                    var code = Load(idx + c, n).AsInt32();
                    var g0 = g & Vector512.Equals(code, Vector512<int>.Zero).AsSingle();
                    var g1 = g & Vector512.Equals(code, Vector512.Create(1)).AsSingle();
                    var g2 = g & Vector512.Equals(code, Vector512.Create(2)).AsSingle();
                    var g3 = g & Vector512.Equals(code, Vector512.Create(3)).AsSingle();
                    Store(d0 + 2 * c, Avx512F.PermuteVar16x32x2(g0, InterleaveLo, g1), 2 * n);
                    Store(d0 + 2 * c + 16, Avx512F.PermuteVar16x32x2(g0, InterleaveHi, g1), 2 * n - 16);
                    Store(d1 + 2 * c, Avx512F.PermuteVar16x32x2(g2, InterleaveLo, g3), 2 * n);
                    Store(d1 + 2 * c + 16, Avx512F.PermuteVar16x32x2(g2, InterleaveHi, g3), 2 * n - 16);
                }
            }
        }
    }
}
