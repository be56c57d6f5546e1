namespace Flock.Tensors;

/// <summary>
/// Intra-kernel parallelism for large vectors (the role of PyTorch's intra-op threads). A kernel
/// that supports it cuts its work into chunks whose number and bounds depend only on the problem
/// size, never on the thread count, and combines chunk results in chunk order: its output is
/// bit-identical whether it runs on 1 thread or many, and whatever the thread timing. The calling
/// thread works on chunks too, so a kernel called from a busy worker (a simulated node's job) still
/// makes progress when no other thread is free.
/// </summary>
/// <remarks>
/// Only large calls use threads: below <see cref="MinParallelBytes"/> bytes of input a kernel runs
/// on the calling thread and allocates nothing. Simulated nodes with ordinary models stay below it,
/// so a simulation's parallelism is across nodes; a coordinator aggregating 50 models of 1M
/// parameters, or a client compressing a 10M-parameter update, uses every core.
/// </remarks>
public static class KernelParallelism
{
    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>
    /// Input size in bytes from which a kernel call may use more than one thread: 8 MiB (2M floats).
    /// </summary>
    public const long MinParallelBytes = 8L << 20;

    /// <summary>
    /// Most threads one kernel call uses, the caller included. Default: <see cref="Environment.ProcessorCount"/>.
    /// 1 keeps every kernel on its calling thread. Results do not depend on it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value below 1.</exception>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, $"Invalid kernel thread count: {value}; must be ≥ 1.");
            s_maxThreads = value;
        }
    }

    /// <summary>Entries per chunk of the per-entry kernels that split their work (a multiple of every SIMD step).</summary>
    internal const int ChunkLength = 1 << 16;

    /// <summary>Number of <see cref="ChunkLength"/>-entry chunks of <paramref name="d"/> entries.</summary>
    internal static int ChunkCount(int d) => (int)((d + (long)ChunkLength - 1) / ChunkLength);

    [ThreadStatic] private static int t_threadedCalls;

    /// <summary>How many calls from this thread took the multi-threaded path (for tests).</summary>
    internal static int ThreadedCalls => t_threadedCalls;

    /// <summary>Whether a call over <paramref name="bytes"/> bytes cut into <paramref name="chunks"/> chunks should use threads.</summary>
    internal static bool UseThreads(long bytes, int chunks) => chunks > 1 && s_maxThreads > 1 && bytes >= MinParallelBytes;

    /// <summary>
    /// Runs <paramref name="body"/> for every chunk index in [0, <paramref name="chunks"/>), on up to
    /// <see cref="MaxThreads"/> threads when <see cref="UseThreads"/> says so, else in order on the
    /// caller. Chunks must write disjoint outputs. An exception from one chunk is rethrown as is.
    /// </summary>
    internal static void For(int chunks, long bytes, Action<int> body)
    {
        if (!UseThreads(bytes, chunks))
        {
            for (int c = 0; c < chunks; c++) body(c);
            return;
        }
        t_threadedCalls++;
        try
        {
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(s_maxThreads, chunks) }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            // The exception a one-thread run would throw, not a wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }
}
