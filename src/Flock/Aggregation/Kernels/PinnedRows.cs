using System.Buffers;

namespace Flock.Aggregation.Kernels;

/// <summary>
/// Pins every input vector for the duration of a kernel and exposes their addresses as a table
/// of pointers (<see cref="Table"/>, to be <c>fixed</c> and cast to <c>float**</c>).
/// </summary>
internal unsafe struct PinnedRows : IDisposable
{
    private MemoryHandle[]? _handles;
    private nint[]? _table;
    private int _count;

    /// <summary>Pins <paramref name="inputs"/>.</summary>
    public static PinnedRows Pin(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        int n = inputs.Count;
        var rows = new PinnedRows { _handles = ScratchPool<MemoryHandle>.Rent(n), _table = ScratchPool<nint>.Rent(n), _count = 0 };
        for (int i = 0; i < n; i++)
        {
            rows._handles[i] = inputs[i].Pin();
            rows._count = i + 1;
            rows._table[i] = (nint)rows._handles[i].Pointer;
        }
        return rows;
    }

    /// <summary>Pins destination vectors (e.g. a pre-aggregator's outputs).</summary>
    public static PinnedRows Pin(IReadOnlyList<Memory<float>> outputs)
    {
        int n = outputs.Count;
        var rows = new PinnedRows { _handles = ScratchPool<MemoryHandle>.Rent(n), _table = ScratchPool<nint>.Rent(n), _count = 0 };
        for (int i = 0; i < n; i++)
        {
            rows._handles[i] = outputs[i].Pin();
            rows._count = i + 1;
            rows._table[i] = (nint)rows._handles[i].Pointer;
        }
        return rows;
    }

    /// <summary>Pointer table: entry i is the address of input i (rented; may be longer than n).</summary>
    public readonly nint[] Table => _table!;

    /// <summary>Address of input <paramref name="i"/>.</summary>
    public readonly float* this[int i] => (float*)_table![i];

    /// <summary>
    /// Throws when <paramref name="output"/> overlaps an input (rules read their inputs after
    /// writing parts of the output).
    /// </summary>
    /// <exception cref="ArgumentException">Overlap.</exception>
    public readonly void EnsureNoOverlap(string rule, float* output, int length)
    {
        if (length == 0) return;
        for (int i = 0; i < _count; i++)
        {
            float* p = (float*)_table![i];
            if (p < output + length && output < p + length)
                throw new ArgumentException($"{rule}: the output overlaps input {i}; the output must be a separate buffer.", "output");
        }
    }

    /// <summary>Unpins the inputs and returns the scratch.</summary>
    public void Dispose()
    {
        if (_handles is null) return;
        for (int i = 0; i < _count; i++) _handles[i].Dispose();
        Array.Clear(_handles, 0, _count);
        ScratchPool<MemoryHandle>.Return(_handles);
        ScratchPool<nint>.Return(_table!);
        _handles = null;
        _table = null;
    }
}
