using System.Numerics.Tensors;
using Flock.Models.Engine;
using Flock.Tensors;

namespace Flock.Models.Layers;

/// <summary>
/// Inverted dropout (Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from
/// Overfitting", 2014), as PyTorch's <c>nn.Dropout</c>: in training each element is zeroed with
/// probability <c>p</c> and the survivors are scaled by <c>1/(1 − p)</c>, so the expectation is the
/// identity; in evaluation the layer is the identity. The mask (0 or <c>1/(1 − p)</c> per element)
/// is drawn from <see cref="LayerContext.Random"/> and kept in scratch for backward, so a pass is
/// deterministic for a given generator state.
/// </summary>
public sealed class Dropout : Layer
{
    private readonly uint _dropThreshold;
    private readonly float _scale;

    /// <summary>Creates a dropout layer.</summary>
    /// <param name="p">Probability of zeroing an element, in [0, 1) (default 0.5).</param>
    /// <param name="name">Layer name (default "dropout").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside [0, 1) or NaN.</exception>
    public Dropout(float p = 0.5f, string name = "dropout") : base(name)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, $"Invalid dropout probability: {p}; must be in [0, 1).");
        P = p;
        // An element is dropped when a uniform 32-bit draw is below p·2³² (exact to 2⁻³²).
        _dropThreshold = (uint)Math.Min(p * 4294967296.0, uint.MaxValue);
        _scale = (float)(1.0 / (1.0 - p));
    }

    /// <summary>Probability of zeroing an element in training.</summary>
    public float P { get; }

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape input, ParameterLayoutBuilder layout) => input;

    /// <inheritdoc />
    public override int ScratchLength(int batch) => P == 0f ? 0 : checked(batch * InputShape.Size);

    /// <inheritdoc />
    public override void Forward(in ForwardArgs a)
    {
        if (!a.Context.Training || P == 0f)
        {
            a.Input.CopyTo(a.Output);
            return;
        }
        var mask = a.Scratch.Slice(0, a.Input.Length);
        FillMask(mask, a.Context.Random);
        TensorPrimitives.Multiply(a.Input, mask, a.Output);
    }

    /// <inheritdoc />
    public override void Backward(in BackwardArgs a)
    {
        if (a.InputGradient.IsEmpty) return;
        if (!a.Context.Training || P == 0f) a.OutputGradient.CopyTo(a.InputGradient);
        else TensorPrimitives.Multiply(a.OutputGradient, a.Scratch.Slice(0, a.OutputGradient.Length), a.InputGradient);
    }

    private void FillMask(Span<float> mask, Rng rng)
    {
        // Branch-free: keep ⇔ draw ≥ threshold ⇔ (threshold − 1 − draw) wraps around in 64 bits (bit 63 set);
        // a threshold of 0 (tiny p) gives limit = 2⁶⁴ − 1, so every element is kept.
        ulong limit = _dropThreshold - 1UL;
        uint keepBits = BitConverter.SingleToUInt32Bits(_scale);
        int n = mask.Length, i = 0;
        for (; i + 1 < n; i += 2)
        {
            ulong r = rng.NextUInt64();
            mask[i] = BitConverter.UInt32BitsToSingle(keepBits & (uint)(0UL - ((limit - (uint)r) >> 63)));
            mask[i + 1] = BitConverter.UInt32BitsToSingle(keepBits & (uint)(0UL - ((limit - (r >> 32)) >> 63)));
        }
        if (i < n) mask[i] = BitConverter.UInt32BitsToSingle(keepBits & (uint)(0UL - ((limit - (uint)rng.NextUInt64()) >> 63)));
    }
}
