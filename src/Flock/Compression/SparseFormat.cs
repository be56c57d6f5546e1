using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
            foreach (int idx in indices)
            {
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

    /// <summary>Validates a sparse payload of <paramref name="codec"/>, then writes or accumulates it.</summary>
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
        // Threads pay off only for large payloads: the work is proportional to the payload (plus a clear).
        int[]? marks = KernelParallelism.UseThreads(payload.Length, chunks) ? ArrayPool<int>.Shared.Rent(3 * chunks) : null;
        try
        {
            if (format == BitmapFormat) ValidateBitmap(ref reader, indexBytes, d, k, marks);
            else ValidateVarints(ref reader, indexBytes, d, k, marks);
            if (marks is not null)
            {
                DecodeThreaded(indexBytes, format, values, output, chunks, marks, scale, accumulate);
                return;
            }
        }
        finally
        {
            if (marks is not null) ArrayPool<int>.Shared.Return(marks);
        }

        // Validated: now write.
        if (!accumulate) output.Clear();
        ref float o = ref MemoryMarshal.GetReference(output);
        int j = 0;
        if (format == BitmapFormat)
        {
            int full = d >> 6;
            for (int w = 0; w <= full; w++)
            {
                ulong bits = ReadWord(indexBytes, w);
                while (bits != 0)
                {
                    int idx = (w << 6) + BitOperations.TrailingZeroCount(bits);
                    Put(ref o, idx, values[j++], scale, accumulate);
                    bits &= bits - 1;
                }
            }
        }
        else
        {
            int pos = 0;
            long idx = -1;
            for (; j < k; j++)
            {
                uint gap = ReadVarint(indexBytes, ref pos);
                idx += gap + 1L;
                Put(ref o, (int)idx, values[j], scale, accumulate);
            }
        }
    }

    /// <summary>Coordinates per chunk of the threaded decode (a multiple of 64: whole bitmap words).</summary>
    private const int ChunkLength = 1 << 16;

    /// <summary>
    /// Writes (or accumulates) a validated payload chunk by chunk on several threads: chunk c clears
    /// and fills coordinates [c·L, (c+1)·L), starting from the entry recorded for it during validation
    /// (<paramref name="marks"/>: per chunk, the first value's number, and for varints the byte offset of
    /// its varint and the index before it). Every coordinate gets the value it gets on one thread.
    /// </summary>
    private static unsafe void DecodeThreaded(ReadOnlySpan<byte> indexBytes, byte format, ReadOnlySpan<float> values, Span<float> output, int chunks, int[] marks, float scale, bool accumulate)
    {
        int d = output.Length, k = values.Length, nb = indexBytes.Length;
        fixed (byte* ip = indexBytes)
        fixed (float* vp = values)
        fixed (float* op = output)
        {
            nint ib = (nint)ip, vb = (nint)vp, ob = (nint)op;
            KernelParallelism.For(chunks, 4L * d, c =>
            {
                int start = c * ChunkLength, end = Math.Min(d, start + ChunkLength);
                var outChunk = new Span<float>((float*)ob, d);
                if (!accumulate) outChunk[start..end].Clear();
                ref float o = ref MemoryMarshal.GetReference(outChunk);
                var bytes = new ReadOnlySpan<byte>((byte*)ib, nb);
                var vals = new ReadOnlySpan<float>((float*)vb, k);
                int j = marks[3 * c];
                if (format == BitmapFormat)
                {
                    for (int w = start >> 6, last = (end - 1) >> 6; w <= last; w++)
                    {
                        ulong bits = ReadWord(bytes, w);
                        while (bits != 0)
                        {
                            Put(ref o, (w << 6) + BitOperations.TrailingZeroCount(bits), vals[j++], scale, accumulate);
                            bits &= bits - 1;
                        }
                    }
                }
                else
                {
                    int pos = marks[3 * c + 1];
                    long idx = marks[3 * c + 2];
                    for (; j < k; j++)
                    {
                        int at = pos;
                        long next = idx + ReadVarint(bytes, ref at) + 1L;
                        if (next >= end) break;
                        Put(ref o, (int)next, vals[j], scale, accumulate);
                        idx = next;
                        pos = at;
                    }
                }
            });
        }
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

    /// <summary>Checks a bitmap; with <paramref name="marks"/>, records per decode chunk the number of bits set before it (at 3·chunk).</summary>
    private static void ValidateBitmap(ref PayloadReader reader, ReadOnlySpan<byte> bitmap, int d, int k, int[]? marks)
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
            if (marks is not null && w % WordsPerChunk == 0) marks[3 * (w / WordsPerChunk)] = (int)Math.Min(set, int.MaxValue);
            set += BitOperations.PopCount(BinaryPrimitives.ReadUInt64LittleEndian(bitmap[i..]));
        }
        if (marks is not null)
            for (int c = (words + WordsPerChunk - 1) / WordsPerChunk; c < (d + ChunkLength - 1) / ChunkLength; c++) marks[3 * c] = (int)Math.Min(set, int.MaxValue);
        for (; i < bitmap.Length; i++) set += BitOperations.PopCount((uint)bitmap[i]);
        if ((d & 7) != 0 && (bitmap[^1] >> (d & 7)) != 0)
            throw reader.Error("bitmap", $"padding bits after entry {d - 1} are set (last byte 0x{bitmap[^1]:X2}): index out of range [0, {d}).");
        if (set != k) throw reader.Error("bitmap", $"{set} bit(s) set but the count is {k}.");
    }

    /// <summary>
    /// Checks the index varints; with <paramref name="marks"/>, records per decode chunk its first
    /// entry j (the first index at or past the chunk's start), the offset of that entry's varint and
    /// the index before it (−1 for the first), at 3·chunk, 3·chunk + 1 and 3·chunk + 2.
    /// </summary>
    private static void ValidateVarints(ref PayloadReader reader, ReadOnlySpan<byte> bytes, int d, int k, int[]? marks)
    {
        int pos = 0, chunk = 0, chunks = (d + ChunkLength - 1) / ChunkLength;
        long idx = -1;
        for (int j = 0; j < k; j++)
        {
            int start = pos;
            long before = idx;
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
            if (marks is not null)
                for (; chunk < chunks && idx >= (long)chunk * ChunkLength; chunk++) Mark(marks, chunk, j, start, before);
        }
        if (marks is not null)
            for (; chunk < chunks; chunk++) Mark(marks, chunk, k, pos, idx);
        if (pos != bytes.Length)
            throw reader.Error("length", $"{bytes.Length - pos} unexpected trailing byte(s) after the {k} index varints.");
    }

    private static void Mark(int[] marks, int chunk, int entry, int offset, long before)
    {
        marks[3 * chunk] = entry;
        marks[3 * chunk + 1] = offset;
        marks[3 * chunk + 2] = (int)before;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReadVarint(ReadOnlySpan<byte> bytes, ref int pos)
    {
        uint value = 0;
        int shift = 0;
        while (true)
        {
            byte b = bytes[pos++];
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
            shift += 7;
        }
    }
}
