using System.Runtime.Intrinsics;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>One chunk's work of a chunked codec kernel (a readonly struct of pointers and parameters).</summary>
internal interface IChunkJob
{
    /// <summary>Does chunk <paramref name="chunk"/>'s work; chunks write disjoint outputs.</summary>
    void Run(int chunk);
}

/// <summary>
/// The fixed chunking by which the dense codecs (identity, QSGD, RQM, scaled sign, error feedback)
/// run on several threads for large vectors (<see cref="KernelParallelism"/>). Chunks are runs of
/// <see cref="Length"/> entries (QSGD aligns them to its buckets) whose bounds depend only on the
/// dimension and the codec's parameters; each stochastic chunk draws from its own stream
/// (<see cref="Seed(ulong, int)"/>), and reductions add per-chunk double partials in chunk order, so payloads
/// and decoded vectors are bit-identical whatever the thread count.
/// </summary>
/// <remarks>
/// Calls below <see cref="KernelParallelism.MinParallelBytes"/> (every simulated node's model)
/// run their chunks in order on the calling thread and allocate nothing; only the threaded path
/// creates a closure.
/// </remarks>
internal static unsafe class CodecChunks
{
    /// <summary>Entries per chunk: 64 Ki (a multiple of the 512-entry random refills, and of 8 so that packed codes start on a byte).</summary>
    public const int Length = KernelParallelism.ChunkLength;

    /// <summary>Most chunk partials a caller keeps on the stack (8 KiB); longer vectors rent an array.</summary>
    public const int MaxStackPartials = 1024;

    /// <summary>Number of chunks of <see cref="Length"/> entries covering <paramref name="d"/> entries.</summary>
    public static int Count(int d) => KernelParallelism.ChunkCount(d);

    /// <summary>The seed of chunk <paramref name="chunk"/>'s random stream, derived from the call's seed.</summary>
    public static ulong Seed(ulong seed, int chunk) => Rng.DeriveSeed(seed, (ulong)chunk);

    /// <summary>The seed of chunk <paramref name="chunk"/>'s random stream number <paramref name="stream"/> (for codecs drawing from several).</summary>
    public static ulong Seed(ulong seed, int chunk, int stream) => Rng.DeriveSeed(seed, (ulong)chunk, (ulong)stream);

    /// <summary>
    /// Runs <paramref name="job"/> for every chunk of a kernel over <paramref name="bytes"/> bytes of
    /// input: on several threads when <see cref="KernelParallelism.UseThreads"/> says so, else in order
    /// on the caller without allocating.
    /// </summary>
    public static void Run<TJob>(in TJob job, int chunks, long bytes) where TJob : struct, IChunkJob
    {
        if (KernelParallelism.UseThreads(bytes, chunks)) RunThreaded(job, chunks, bytes);
        else for (int c = 0; c < chunks; c++) job.Run(c);
    }

    private static void RunThreaded<TJob>(TJob job, int chunks, long bytes) where TJob : struct, IChunkJob =>
        KernelParallelism.For(chunks, bytes, c => job.Run(c));

    /// <summary>Copies <paramref name="count"/> bytes, on several threads (in parts of 4 MiB) when the copy is large.</summary>
    public static void Copy(byte* source, byte* destination, long count)
    {
        int chunks = (int)((count + CopyJob.Bytes - 1) / CopyJob.Bytes);
        if (KernelParallelism.UseThreads(count, chunks)) RunThreaded(new CopyJob(source, destination, count), chunks, count);
        else Buffer.MemoryCopy(source, destination, count, count);
    }

    /// <summary>Blocks per chunk for codecs that work in blocks (count sketch, SRHT): whole blocks, ⌈<see cref="Length"/>/B⌉ of them (at least one).</summary>
    public static int BlocksPerChunk(int blockLength) => Math.Max(1, Length / blockLength);

    /// <summary>Number of chunks of whole blocks (a partition that depends only on the problem, not on the thread count).</summary>
    public static int BlockChunkCount(int blocks, int blockLength)
    {
        int g = BlocksPerChunk(blockLength);
        return (blocks + g - 1) / g;
    }

    /// <summary>acc ← acc + scale·values (<see cref="Kernels.AddScaled"/>'s rounding), on several threads when large.</summary>
    public static void AddScaled(float* accumulator, float* values, int n, float scale) =>
        Run(new AddScaledJob(accumulator, values, n, scale), Count(n), 4L * n);

    /// <summary>
    /// The first index i with acc[i] + values[i] not finite (NaN, ±∞ or an overflowing sum), or −1;
    /// on several threads when large (each chunk reports its first, the lowest chunk wins).
    /// </summary>
    public static int FirstNonFiniteSum(float* accumulator, float* values, int n)
    {
        int chunks = Count(n);
        if (chunks <= 1 || !KernelParallelism.UseThreads(8L * n, chunks)) return FirstNonFiniteSum(accumulator, values, 0, n);
        var firsts = new int[chunks];
        Run(new NonFiniteJob(accumulator, values, n, firsts), chunks, 8L * n);
        foreach (int f in firsts) if (f >= 0) return f;
        return -1;
    }

    private static int FirstNonFiniteSum(float* a, float* v, int start, int end)
    {
        int i = start;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= end; i += 16)
            {
                var sum = Vector512.Load(a + i) + Vector512.Load(v + i);
                if (Vector512.Equals(sum - sum, Vector512<float>.Zero) != Vector512<float>.AllBitsSet) break;   // x − x is 0 exactly when x is finite
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= end; i += 8)
            {
                var sum = Vector256.Load(a + i) + Vector256.Load(v + i);
                if (Vector256.Equals(sum - sum, Vector256<float>.Zero) != Vector256<float>.AllBitsSet) break;
            }
        for (; i < end; i++) if (!float.IsFinite(a[i] + v[i])) return i;
        return -1;
    }

    private readonly struct NonFiniteJob(float* accumulator, float* values, int n, int[] firsts) : IChunkJob
    {
        public void Run(int chunk)
        {
            int start = chunk * Length;
            firsts[chunk] = FirstNonFiniteSum(accumulator, values, start, Math.Min(n, start + Length));
        }
    }

    private readonly struct CopyJob(byte* source, byte* destination, long count) : IChunkJob
    {
        public const int Bytes = 4 << 20;

        public void Run(int chunk)
        {
            long start = (long)chunk * Bytes, n = Math.Min(Bytes, count - start);
            Buffer.MemoryCopy(source + start, destination + start, n, n);
        }
    }

    private readonly struct AddScaledJob(float* accumulator, float* values, int n, float scale) : IChunkJob
    {
        public void Run(int chunk)
        {
            int start = chunk * Length, len = Math.Min(Length, n - start);
            Kernels.AddScaled(new Span<float>(accumulator + start, len), new ReadOnlySpan<float>(values + start, len), scale);
        }
    }
}
