namespace Flock.Tensors;

/// <summary>The instruction-set path <see cref="Gemm.Multiply"/> runs on.</summary>
public enum GemmPath
{
    /// <summary>Portable scalar micro-kernel (4×4 register block); works everywhere.</summary>
    Scalar,

    /// <summary>256-bit micro-kernel (6×16 register block, AVX2 + FMA).</summary>
    Vector256,

    /// <summary>512-bit micro-kernel (12×32 register block, AVX-512F).</summary>
    Vector512,
}
