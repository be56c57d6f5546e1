using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Flock.Aggregation.Kernels;

/// <summary>
/// Software prefetch for kernels that stream many inputs at once (50 concurrent streams are more
/// than hardware prefetchers track): each chunk step touches the cache lines a few chunks ahead.
/// A no-op where SSE is unavailable.
/// </summary>
internal static unsafe class Prefetch
{
    /// <summary>How many chunk steps ahead to prefetch.</summary>
    public const int Distance = 4;

    /// <summary>Prefetches the cache lines covering <paramref name="floats"/> floats from <paramref name="p"/> into L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Lines(float* p, int floats)
    {
        if (!Sse.IsSupported) return;
        for (int i = 0; i < floats; i += 16) Sse.Prefetch0(p + i);
    }
}
