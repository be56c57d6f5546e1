namespace Flock.Aggregation.Kernels;

/// <summary>
/// Per-thread reusable scratch arrays, so aggregation kernels allocate nothing in steady state.
/// A rented array is not cleared and may be longer than asked for; return it when done. Nested
/// rentals (a pre-aggregator feeding a rule) get distinct arrays. At most <see cref="Slots"/>
/// free arrays are kept per thread and element type; the smallest is dropped first.
/// </summary>
internal static class ScratchPool<T>
{
    private const int Slots = 8;
    [ThreadStatic] private static T[]?[]? _free;

    /// <summary>An array of at least <paramref name="minLength"/> elements (contents undefined).</summary>
    public static T[] Rent(int minLength)
    {
        var free = _free ??= new T[]?[Slots];
        int best = -1;
        for (int i = 0; i < Slots; i++)
        {
            var a = free[i];
            if (a is not null && a.Length >= minLength && (best < 0 || a.Length < free[best]!.Length)) best = i;
        }
        if (best >= 0)
        {
            var a = free[best]!;
            free[best] = null;
            return a;
        }
        return new T[minLength];
    }

    /// <summary>Gives an array back for reuse by this thread.</summary>
    public static void Return(T[] array)
    {
        var free = _free ??= new T[]?[Slots];
        int slot = -1;
        for (int i = 0; i < Slots; i++)
        {
            if (free[i] is null) { slot = i; break; }
            if (slot < 0 || free[i]!.Length < free[slot]!.Length) slot = i;
        }
        if (free[slot] is null || free[slot]!.Length < array.Length) free[slot] = array;
    }
}
