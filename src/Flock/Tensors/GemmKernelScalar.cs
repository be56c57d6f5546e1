using System.Runtime.CompilerServices;

namespace Flock.Tensors;

/// <summary>Portable scalar micro-kernel: a 4×4 tile of C in 16 scalar accumulators.</summary>
internal readonly struct GemmKernelScalar : IGemmKernel
{
    public static int MR => 4;

    public static int NR => 4;

    public static int NRHalf => 4;

    public static int MRShort => 4;

    public static bool StoresPartialTiles => true;

    public static unsafe void Full(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        Tile(kc, a, aStep, b, bStep, c, ldc, rows, cols, 4, alpha, beta);

    public static unsafe void Half(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        Tile(kc, a, aStep, b, bStep, c, ldc, rows, cols, 4, alpha, beta);

    public static unsafe void FullMasked(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        Tile(kc, a, aStep, b, bStep, c, ldc, rows, cols, cols, alpha, beta);

    public static unsafe void HalfMasked(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        Tile(kc, a, aStep, b, bStep, c, ldc, rows, cols, cols, alpha, beta);

    public static unsafe void FullShort(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        Full(kc, a, aStep, b, bStep, c, ldc, rows, cols, alpha, beta);

    public static unsafe void HalfShort(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        Half(kc, a, aStep, b, bStep, c, ldc, rows, cols, alpha, beta);

    public static unsafe void FullMaskedShort(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        FullMasked(kc, a, aStep, b, bStep, c, ldc, rows, cols, alpha, beta);

    public static unsafe void HalfMaskedShort(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        HalfMasked(kc, a, aStep, b, bStep, c, ldc, rows, cols, alpha, beta);

    /// <summary>The 4×4 tile; reads only the first <paramref name="readable"/> values of each B step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, int rows, int cols, int readable, float alpha, float beta)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        float c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        float c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p = 0; p < kc; p++)
        {
            float b0 = b[0];
            float b1 = readable > 1 ? b[1] : 0, b2 = readable > 2 ? b[2] : 0, b3 = readable > 3 ? b[3] : 0;
            float x = a[0];
            c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
            x = a[1];
            c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
            x = a[2];
            c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
            x = a[3];
            c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
            a += aStep;
            b += bStep;
        }
        Row(c, cols, alpha, beta, c00, c01, c02, c03);
        if (rows == 1) return;
        Row(c + ldc, cols, alpha, beta, c10, c11, c12, c13);
        if (rows == 2) return;
        Row(c + 2 * ldc, cols, alpha, beta, c20, c21, c22, c23);
        if (rows == 3) return;
        Row(c + 3 * ldc, cols, alpha, beta, c30, c31, c32, c33);
    }

    private static unsafe void Row(float* c, int cols, float alpha, float beta, float v0, float v1, float v2, float v3)
    {
        Put(c, 0, cols, alpha, beta, v0);
        Put(c, 1, cols, alpha, beta, v1);
        Put(c, 2, cols, alpha, beta, v2);
        Put(c, 3, cols, alpha, beta, v3);
    }

    private static unsafe void Put(float* c, int j, int cols, float alpha, float beta, float v)
    {
        if (j >= cols) return;
        c[j] = beta == 0 ? alpha * v : alpha * v + beta * c[j];
    }
}
