using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flock.Tensors;

namespace Flock.Compression;

/// <summary>
/// The (index, value) body shared by <see cref="TopK"/>, <see cref="RandomK"/> and
/// <see cref="DeepGradientCompression"/>. After the header:
/// <list type="bullet">
/// <item>byte 6: index format, 0 = bitmap, 1 = delta varints;</item>
/// <item>bytes 7–10: count k (int32, 0 ≤ k ≤ d);</item>
/// <item>k float32 values, in increasing index order;</item>
/// <item>the indices: either a bitmap of ⌈d/8⌉ bytes (bit i%8 of byte i/8 set for a sent index i;
/// exactly k bits set; padding bits zero), or k unsigned LEB128 varints: the first index, then
/// each gap minus one (<c>idx[j] − idx[j−1] − 1</c>), canonical (no overlong encodings), at most
/// 5 bytes each, every index &lt; d, ending exactly at the end of the payload.</item>
/// </list>
/// The encoder writes whichever index format is shorter (the bitmap on a tie).
/// </summary>
internal static class SparseFormat
{
    public const byte BitmapFormat = 0;
    public const byte VarintFormat = 1;
    public const int BodyHeaderLength = 5;

    /// <summary>Upper bound on the payload length for k entries of a d-vector.</summary>
    public static long MaxLength(int dimension, int k) =>
        PayloadHeader.Length + BodyHeaderLength + 4L * k + Math.Min((dimension + 7L) / 8, 5L * k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int VarintSize(uint value) => BitOperations.Log2(value | 1) / 7 + 1;

    /// <summary>
    /// Writes a sparse payload for strictly increasing <paramref name="indices"/> with values
    /// <c>source[idx]·scale</c> (exactly <c>source[idx]</c> when the scale is 1). Returns its length.
    /// </summary>
    public static int Write(Span<byte> destination, CodecId codec, int dimension, ReadOnlySpan<int> indices, ReadOnlySpan<float> source, float scale) =>
        Write(destination, codec, dimension, indices, source, scale, gather: true);

    /// <summary>Writes a sparse payload for strictly increasing <paramref name="indices"/> with the given <paramref name="values"/> (one per index). Returns its length.</summary>
    public static int WriteValues(Span<byte> destination, CodecId codec, int dimension, ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
    {
        if (values.Length != indices.Length) throw new ArgumentException($"{values.Length} values for {indices.Length} indices.", nameof(values));
        return Write(destination, codec, dimension, indices, values, 1f, gather: false);
    }

    private static int Write(Span<byte> destination, CodecId codec, int dimension, ReadOnlySpan<int> indices, ReadOnlySpan<float> source, float scale, bool gather)
    {
        int k = indices.Length;
        long varintBytes = 0;
        int prev = -1;
        foreach (int idx in indices)
        {
            varintBytes += VarintSize((uint)(idx - prev - 1));
            prev = idx;
        }
        long bitmapBytes = (dimension + 7L) / 8;
        byte format = bitmapBytes <= varintBytes ? BitmapFormat : VarintFormat;
        int pos = Payload.WriteHeader(destination, codec, dimension);
        destination[pos++] = format;
        BinaryPrimitives.WriteInt32LittleEndian(destination[pos..], k);
        pos += 4;
        var values = MemoryMarshal.Cast<byte, float>(destination.Slice(pos, 4 * k));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Flock's payload codecs need a little-endian machine.");
        if (!gather) source.CopyTo(values);
        else if (scale == 1f) for (int j = 0; j < k; j++) values[j] = source[indices[j]];
        else for (int j = 0; j < k; j++) values[j] = source[indices[j]] * scale;
        pos += 4 * k;
        if (format == BitmapFormat)
        {
            var bitmap = destination.Slice(pos, (int)bitmapBytes);
            bitmap.Clear();
            foreach (int idx in indices) bitmap[idx >> 3] |= (byte)(1 << (idx & 7));
            pos += (int)bitmapBytes;
        }
        else
        {
            prev = -1;
            int j = 0, end = pos + (int)varintBytes;
            if (end > destination.Length) throw new ArgumentException($"Destination of {destination.Length} bytes is shorter than the {end}-byte payload.", nameof(destination));
            ref byte dr = ref MemoryMarshal.GetReference(destination);
            // While eight bytes of the payload remain, one unaligned 64-bit store per varint (the bytes
            // past its end are overwritten by the next varints).
            for (; j < k && pos <= end - 8; j++)
            {
                int idx = indices[j];
                uint gap = (uint)(idx - prev - 1);
                int length = VarintSize(gap);
                ulong continuation = 0x80808080UL & ((1UL << (8 * (length - 1))) - 1);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dr, pos), Spread7(gap) | continuation);
                pos += length;
                prev = idx;
            }
            for (; j < k; j++)
            {
                int idx = indices[j];
                uint gap = (uint)(idx - prev - 1);
                while (gap >= 0x80)
                {
                    destination[pos++] = (byte)(gap | 0x80);
                    gap >>= 7;
                }
                destination[pos++] = (byte)gap;
                prev = idx;
            }
        }
        return pos;
    }

    /// <summary>
    /// Validates a sparse payload of <paramref name="codec"/>, then writes or accumulates it. Delta
    /// varints are decoded once, while validating, into a list of indices that the write then walks.
    /// When the payload plus the output to clear (none when accumulating) reach
    /// <see cref="KernelParallelism.MinParallelBytes"/>, the output is cleared and written chunk by chunk
    /// (<see cref="ChunkLength"/> coordinates each) on several threads; every coordinate gets the value
    /// it gets on one thread.
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> payload, CodecId codec, Span<float> output, float scale, bool accumulate)
    {
        int d = output.Length;
        var reader = Payload.OpenForDecode(payload, codec, d);
        byte format = reader.ReadByte("index format");
        if (format != BitmapFormat && format != VarintFormat)
            throw reader.Error("index format", $"unknown index format {format}; expected 0 (bitmap) or 1 (delta varints).");
        int k = reader.ReadInt32("count");
        if (k < 0 || k > d) throw reader.Error("count", $"count {k} is outside [0, {d}] (the dimension).");
        var valueBytes = reader.ReadBytes(4L * k, "values");
        var values = MemoryMarshal.Cast<byte, float>(valueBytes);
        var indexBytes = payload[reader.Position..];
        int chunks = (d + ChunkLength - 1) / ChunkLength;
        // The work is the payload, plus the clear of the output unless accumulating.
        long work = payload.Length + (accumulate ? 0 : 4L * d);
        bool threaded = KernelParallelism.UseThreads(work, chunks);
        if (format == BitmapFormat)
        {
            int[]? firsts = threaded ? ArrayPool<int>.Shared.Rent(chunks) : null;
            try
            {
                ValidateBitmap(ref reader, indexBytes, d, k, firsts);
                if (firsts is not null) BitmapThreaded(indexBytes, values, output, chunks, firsts, scale, accumulate, work);
                else
                {
                    if (!accumulate) output.Clear();
                    WriteBitmap(indexBytes, values, output, 0, d, 0, scale, accumulate);
                }
            }
            finally
            {
                if (firsts is not null) ArrayPool<int>.Shared.Return(firsts);
            }
            return;
        }
        int[] indices = ArrayPool<int>.Shared.Rent(Math.Max(k, 1));
        try
        {
            ValidateVarints(ref reader, indexBytes, d, k, indices);
            if (threaded) ListThreaded(indices.AsSpan(0, k), values, output, chunks, scale, accumulate, work);
            else
            {
                if (!accumulate) output.Clear();
                WriteList(indices.AsSpan(0, k), values, output, scale, accumulate);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(indices);
        }
    }

    /// <summary>Writes (or accumulates) the entries of the bitmap in coordinates [start, end) (start a multiple of 64), the first being value number <paramref name="first"/>.</summary>
    private static void WriteBitmap(ReadOnlySpan<byte> bitmap, ReadOnlySpan<float> values, Span<float> output, int start, int end, int first, float scale, bool accumulate)
    {
        if (end <= start) return;
        ref float o = ref MemoryMarshal.GetReference(output);
        int j = first;
        for (int w = start >> 6, last = (end - 1) >> 6; w <= last; w++)
        {
            ulong bits = ReadWord(bitmap, w);
            while (bits != 0)
            {
                Put(ref o, (w << 6) + BitOperations.TrailingZeroCount(bits), values[j++], scale, accumulate);
                bits &= bits - 1;
            }
        }
    }

    /// <summary>Writes (or accumulates) values[j] at indices[j] (validated: increasing, within the output).</summary>
    private static void WriteList(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> output, float scale, bool accumulate)
    {
        if (values.Length < indices.Length) throw new ArgumentException($"{values.Length} values for {indices.Length} indices.", nameof(values));
        ref float o = ref MemoryMarshal.GetReference(output);
        ref int ir = ref MemoryMarshal.GetReference(indices);
        ref float vr = ref MemoryMarshal.GetReference(values);
        int j = 0, n = indices.Length;
        if (Sse.IsSupported)
            unsafe
            {
                // Scattered entries of a large output each miss the caches: ask for them a few entries ahead.
                fixed (float* op = output)
                    for (; j < n - WriteAhead; j++)
                    {
                        Sse.Prefetch0(op + Unsafe.Add(ref ir, j + WriteAhead));
                        Put(ref o, Unsafe.Add(ref ir, j), Unsafe.Add(ref vr, j), scale, accumulate);
                    }
            }
        for (; j < n; j++) Put(ref o, Unsafe.Add(ref ir, j), Unsafe.Add(ref vr, j), scale, accumulate);
    }

    /// <summary>How many entries ahead <see cref="WriteList"/> prefetches its output.</summary>
    private const int WriteAhead = 32;

    /// <summary>Coordinates per chunk of the threaded decode (a multiple of 64: whole bitmap words).</summary>
    private const int ChunkLength = CodecChunks.Length;

    /// <summary>
    /// <see cref="WriteBitmap"/> chunk by chunk on several threads: chunk c clears (unless
    /// accumulating) and fills coordinates [c·L, (c+1)·L), from value number firsts[c] (the bits set
    /// before it, counted during validation).
    /// </summary>
    private static unsafe void BitmapThreaded(ReadOnlySpan<byte> bitmap, ReadOnlySpan<float> values, Span<float> output, int chunks, int[] firsts, float scale, bool accumulate, long work)
    {
        int d = output.Length, k = values.Length, nb = bitmap.Length;
        fixed (byte* bp = bitmap)
        fixed (float* vp = values)
        fixed (float* op = output)
        {
            nint bb = (nint)bp, vb = (nint)vp, ob = (nint)op;
            KernelParallelism.For(chunks, work, c =>
            {
                int start = c * ChunkLength, end = Math.Min(d, start + ChunkLength);
                var o = new Span<float>((float*)ob, d);
                if (!accumulate) o[start..end].Clear();
                WriteBitmap(new ReadOnlySpan<byte>((byte*)bb, nb), new ReadOnlySpan<float>((float*)vb, k), o, start, end, firsts[c], scale, accumulate);
            });
        }
    }

    /// <summary>
    /// <see cref="WriteList"/> chunk by chunk on several threads: chunk c clears (unless accumulating)
    /// coordinates [c·L, (c+1)·L) and writes the entries whose indices fall there (found by bisection).
    /// </summary>
    private static unsafe void ListThreaded(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> output, int chunks, float scale, bool accumulate, long work)
    {
        int d = output.Length, k = indices.Length;
        fixed (int* ip = indices)
        fixed (float* vp = values)
        fixed (float* op = output)
        {
            nint ib = (nint)ip, vb = (nint)vp, ob = (nint)op;
            KernelParallelism.For(chunks, work, c =>
            {
                int start = c * ChunkLength, end = Math.Min(d, start + ChunkLength);
                var o = new Span<float>((float*)ob, d);
                if (!accumulate) o[start..end].Clear();
                var all = new ReadOnlySpan<int>((int*)ib, k);
                int from = LowerBound(all, start), to = LowerBound(all, end);
                WriteList(all[from..to], new ReadOnlySpan<float>((float*)vb + from, to - from), o, scale, accumulate);
            });
        }
    }

    /// <summary>The first position of the increasing <paramref name="sorted"/> holding a value ≥ <paramref name="value"/>.</summary>
    private static int LowerBound(ReadOnlySpan<int> sorted, int value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(ref float output, int index, float value, float scale, bool accumulate)
    {
        ref float slot = ref Unsafe.Add(ref output, index);
        slot = accumulate ? slot + value * scale : value;
    }

    /// <summary>The w-th 64-bit little-endian word of a bitmap, zero-padded past its end.</summary>
    private static ulong ReadWord(ReadOnlySpan<byte> bitmap, int w)
    {
        int start = w << 3;
        if (start + 8 <= bitmap.Length) return BinaryPrimitives.ReadUInt64LittleEndian(bitmap[start..]);
        ulong word = 0;
        for (int b = start; b < bitmap.Length; b++) word |= (ulong)bitmap[b] << ((b - start) * 8);
        return word;
    }

    /// <summary>Checks a bitmap; with <paramref name="firsts"/>, records per decode chunk the number of bits set before it.</summary>
    private static void ValidateBitmap(ref PayloadReader reader, ReadOnlySpan<byte> bitmap, int d, int k, int[]? firsts)
    {
        long expected = (d + 7L) / 8;
        if (bitmap.Length != expected)
            throw reader.Error("bitmap", bitmap.Length < expected
                ? $"truncated: the bitmap of {d} entries needs {expected} bytes, got {bitmap.Length}."
                : $"{bitmap.Length - expected} unexpected trailing byte(s) after the {expected}-byte bitmap.");
        long set = 0;
        int words = bitmap.Length >> 3, i = 0;
        const int WordsPerChunk = ChunkLength / 64;
        for (int w = 0; w < words; w++, i += 8)
        {
            if (firsts is not null && w % WordsPerChunk == 0) firsts[w / WordsPerChunk] = (int)Math.Min(set, int.MaxValue);
            set += BitOperations.PopCount(BinaryPrimitives.ReadUInt64LittleEndian(bitmap[i..]));
        }
        if (firsts is not null)
            for (int c = (words + WordsPerChunk - 1) / WordsPerChunk; c < (d + ChunkLength - 1) / ChunkLength; c++) firsts[c] = (int)Math.Min(set, int.MaxValue);
        for (; i < bitmap.Length; i++) set += BitOperations.PopCount((uint)bitmap[i]);
        if ((d & 7) != 0 && (bitmap[^1] >> (d & 7)) != 0)
            throw reader.Error("bitmap", $"padding bits after entry {d - 1} are set (last byte 0x{bitmap[^1]:X2}): index out of range [0, {d}).");
        if (set != k) throw reader.Error("bitmap", $"{set} bit(s) set but the count is {k}.");
    }

    /// <summary>
    /// Checks the index varints and writes the k indices they encode into <paramref name="indices"/>.
    /// While a window of 64 bytes (plus 8) remains, the ends of its varints are found at once (the
    /// bytes without a continuation bit, one SIMD compare) and each varint is read from one 64-bit
    /// load at the byte after the previous end, so no varint waits for the previous one's bytes;
    /// anything unusual (longer than five bytes, overlong, above 32 bits), and the last varints, go
    /// through the byte-by-byte check, which reports the error.
    /// </summary>
    private static void ValidateVarints(ref PayloadReader reader, ReadOnlySpan<byte> bytes, int d, int k, Span<int> indices)
    {
        if (indices.Length < k) throw new ArgumentException($"{indices.Length} index slots for {k} indices.", nameof(indices));
        int pos = 0, j = 0;
        long idx = -1;
        ref byte b0 = ref MemoryMarshal.GetReference(bytes);
        ref int ir = ref MemoryMarshal.GetReference(indices);
        if (Vector256.IsHardwareAccelerated)
        {
            while (j < k && pos <= bytes.Length - 72)
            {
                ref byte window = ref Unsafe.Add(ref b0, pos);
                ulong ends = ~((ulong)Vector256.LoadUnsafe(ref window).ExtractMostSignificantBits()
                               | ((ulong)Vector256.LoadUnsafe(ref window, 32).ExtractMostSignificantBits() << 32));
                int start = 0;
                bool unusual = false;
                for (; ends != 0 && j < k; j++)
                {
                    int end = BitOperations.TrailingZeroCount(ends);
                    int length = end - start + 1;
                    ulong w = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref window, start));
                    ulong last = (w >> (8 * (length - 1))) & 0xFF;
                    if (length > 5 || (length > 1 && last == 0) || (length == 5 && last > 0x0F))
                    {
                        unusual = true;
                        break;
                    }
                    idx += (long)(Gather7(w) & ((1UL << (7 * length)) - 1)) + 1;
                    if (idx >= d) throw reader.Error($"index {j}", $"index {idx} is out of range [0, {d}).");
                    Unsafe.Add(ref ir, j) = (int)idx;
                    start = end + 1;
                    ends &= ends - 1;
                }
                pos += start;
                if (unusual || start == 0) break;                           // the checked path reports it
            }
        }
        for (; j < k; j++)
        {
            int start = pos;
            uint gap = 0;
            int shift = 0;
            while (true)
            {
                if (pos >= bytes.Length)
                    throw reader.Error($"index {j}", $"truncated: varint at offset {reader.Position + start} runs past the end of the payload ({j} of {k} indices read).");
                byte b = bytes[pos++];
                if (shift == 28 && b > 0x0F)
                    throw reader.Error($"index {j}", $"varint at offset {reader.Position + start} exceeds 32 bits.");
                gap |= (uint)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    if (b == 0 && pos - start > 1)
                        throw reader.Error($"index {j}", $"overlong (non-canonical) varint at offset {reader.Position + start}.");
                    break;
                }
                shift += 7;
            }
            idx += gap + 1L;
            if (idx >= d) throw reader.Error($"index {j}", $"index {idx} is out of range [0, {d}).");
            Unsafe.Add(ref ir, j) = (int)idx;
        }
        if (pos != bytes.Length)
            throw reader.Error("length", $"{bytes.Length - pos} unexpected trailing byte(s) after the {k} index varints.");
    }

    /// <summary>The low seven bits of bytes 0–4 of <paramref name="w"/>, packed (a varint's value, before masking to its length).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Gather7(ulong w) =>
        (w & 0x7F) | ((w >> 1) & 0x3F80) | ((w >> 2) & 0x1FC000) | ((w >> 3) & 0xFE00000) | ((w >> 4) & 0x7F0000000);

    /// <summary>The inverse of <see cref="Gather7"/>: the 7-bit groups of <paramref name="v"/> in bytes 0–4 (continuation bits clear).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Spread7(uint v)
    {
        ulong x = v;
        return (x & 0x7F) | ((x << 1) & 0x7F00) | ((x << 2) & 0x7F0000) | ((x << 3) & 0x7F000000) | ((x << 4) & 0x7F00000000);
    }
}
