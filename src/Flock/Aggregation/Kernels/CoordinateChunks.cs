using Flock.Tensors;

namespace Flock.Aggregation.Kernels;

/// <summary>
/// Runs a per-coordinate kernel (each output coordinate depends only on the inputs' same
/// coordinate) over chunks of <see cref="Length"/> coordinates on several threads
/// (<see cref="KernelParallelism"/>). Chunks are multiples of every kernel's step, so only the last
/// one has a scalar or padded tail, the same as in one call over all coordinates: every value is
/// bit-identical to the single-threaded result.
/// </summary>
internal static unsafe class CoordinateChunks
{
    /// <summary>Coordinates per chunk.</summary>
    public const int Length = KernelParallelism.ChunkLength;

    /// <summary>A kernel over coordinates [start, start + length); <paramref name="rows"/> is the row table shifted to start.</summary>
    public delegate void Body(float** rows, int start, int length);

    /// <summary>Whether a kernel over n rows of d floats should go through <see cref="Run"/>.</summary>
    public static bool Worth(int n, int d) => KernelParallelism.UseThreads(4L * n * d, Count(d));

    private static int Count(int d) => KernelParallelism.ChunkCount(d);

    /// <summary>Runs <paramref name="body"/> over every chunk, on several threads.</summary>
    public static void Run(float** rows, int n, int d, Body body)
    {
        nint r = (nint)rows;
        KernelParallelism.For(Count(d), 4L * n * d, k =>
        {
            int start = k * Length, len = Math.Min(Length, d - start);
            var table = ScratchPool<nint>.Rent(n);
            try
            {
                for (int i = 0; i < n; i++) table[i] = (nint)(((float**)r)[i] + start);
                fixed (nint* t = table) body((float**)t, start, len);
            }
            finally
            {
                ScratchPool<nint>.Return(table);
            }
        });
    }
}
