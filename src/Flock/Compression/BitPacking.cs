using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flock.Compression;

/// <summary>
/// Packing of eight small codes (one per byte of a <see cref="ulong"/>) into 2, 4 or 8 bits each,
/// least significant bits first, and back; plus the conversions between eight codes and a vector.
/// </summary>
internal static class BitPacking
{
    /// <summary>Packs eight codes (the bytes of <paramref name="codes"/>, each &lt; 2^bits) into the low <paramref name="bits"/> bytes (bits ∈ {2, 4, 8}).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Pack(ulong codes, int bits)
    {
        if (bits == 8) return codes;
        if (bits == 4)
        {
            ulong y = (codes | (codes >> 4)) & 0x00FF00FF00FF00FFUL;
            y = (y | (y >> 8)) & 0x0000FFFF0000FFFFUL;
            return (y | (y >> 16)) & 0xFFFFFFFFUL;
        }
        ulong z = (codes | (codes >> 6)) & 0x00FF00FF00FF00FFUL;
        z = (z | (z >> 12)) & 0x0000FFFF0000FFFFUL;
        return (z | (z >> 24)) & 0xFFFFUL;
    }

    /// <summary>Inverse of <see cref="Pack"/>: eight codes, one per byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Unpack(ulong packed, int bits)
    {
        if (bits == 8) return packed;
        if (bits == 4)
        {
            ulong y = (packed | (packed << 16)) & 0x0000FFFF0000FFFFUL;
            y = (y | (y << 8)) & 0x00FF00FF00FF00FFUL;
            return (y | (y << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        }
        ulong z = (packed | (packed << 24)) & 0x000000FF000000FFUL;
        z = (z | (z << 12)) & 0x000F000F000F000FUL;
        return (z | (z << 6)) & 0x0303030303030303UL;
    }

    /// <summary>The eight int lanes (each 0–255) as eight bytes of a ulong.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ToBytes(Vector256<int> codes)
    {
        var s = Vector256.Narrow(codes, codes);
        var b = Vector256.Narrow(s, s);
        return b.AsUInt64().ToScalar();
    }

    /// <summary>Eight bytes of a ulong as eight int lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> FromBytes(ulong codes)
    {
        var b = Vector128.CreateScalar(codes).AsByte();
        if (Avx2.IsSupported) return Avx2.ConvertToVector256Int32(b);
        var w = Vector128.WidenLower(b);
        return Vector256.Create(Vector128.WidenLower(w), Vector128.WidenUpper(w)).AsInt32();
    }

    /// <summary>
    /// Writes eight codes (each &lt; 2^bits, bits ∈ {1, 2, 4, 8, 16}) as <paramref name="bits"/>
    /// bytes, or only the first ⌈valid·bits/8⌉ bytes when <paramref name="valid"/> &lt; 8 (codes past
    /// <paramref name="valid"/> must be zero).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteGroup(Span<byte> destination, Vector256<int> codes, int bits, int valid = 8)
    {
        int bytes = valid == 8 ? bits : (valid * bits + 7) / 8;
        if (bits == 1)
        {
            destination[0] = (byte)Vector256.GreaterThan(codes, Vector256<int>.Zero).ExtractMostSignificantBits();
            return;
        }
        if (bits == 16)
        {
            var s = Vector256.Narrow(codes.AsUInt32(), codes.AsUInt32()).GetLower();
            if (bytes == 16) s.AsByte().StoreUnsafe(ref MemoryMarshal.GetReference(destination));
            else MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<Vector128<ushort>, ushort>(ref s), 8))[..bytes].CopyTo(destination);
            return;
        }
        WritePartial(destination, Pack(ToBytes(codes), bits), bytes);
    }

    /// <summary>Reads eight codes written by <see cref="WriteGroup"/> (zero past <paramref name="valid"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ReadGroup(ReadOnlySpan<byte> source, int bits, int valid = 8)
    {
        int bytes = valid == 8 ? bits : (valid * bits + 7) / 8;
        if (bits == 1)
        {
            var lanes = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
            return Vector256.Min(Vector256.Create((int)source[0]) & lanes, Vector256<int>.One);
        }
        if (bits == 16)
        {
            Vector128<ushort> s;
            if (bytes == 16) s = Vector128.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(source)));
            else
            {
                s = Vector128<ushort>.Zero;
                source[..bytes].CopyTo(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref Unsafe.As<Vector128<ushort>, ushort>(ref s), 8)));
            }
            return Vector256.Create(Vector128.WidenLower(s), Vector128.WidenUpper(s)).AsInt32();
        }
        return FromBytes(Unpack(ReadPartial(source, bytes), bits));
    }

    /// <summary>32 int lanes (each 0–255) of four vectors as 32 bytes, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Narrow(Vector256<int> c0, Vector256<int> c1, Vector256<int> c2, Vector256<int> c3) =>
        Vector256.Narrow(Vector256.Narrow(c0.AsUInt32(), c1.AsUInt32()), Vector256.Narrow(c2.AsUInt32(), c3.AsUInt32()));

    /// <summary>32 bytes as four vectors of eight int lanes, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<int>, Vector256<int>, Vector256<int>, Vector256<int>) Widen(Vector256<byte> codes)
    {
        var (lo, hi) = Vector256.Widen(codes);
        var (a, b) = Vector256.Widen(lo);
        var (c, d) = Vector256.Widen(hi);
        return (a.AsInt32(), b.AsInt32(), c.AsInt32(), d.AsInt32());
    }

    /// <summary>Packs 32 codes (bytes, each &lt; 2^bits, bits ∈ {2, 4, 8}) into 4·bits bytes at <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store32(Vector256<byte> codes, int bits, Span<byte> destination)
    {
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        if (destination.Length < 4 * bits) throw new ArgumentException("Destination too short.", nameof(destination));
        if (bits == 8)
        {
            codes.StoreUnsafe(ref dst);
        }
        else if (bits == 4)
        {
            var w = codes.AsUInt16();
            var p = (w & Vector256.Create((ushort)0x000F)) | ((w >> 4) & Vector256.Create((ushort)0x00F0));
            Vector256.Narrow(p, p).GetLower().StoreUnsafe(ref dst);
        }
        else
        {
            var u = codes.AsUInt32();
            var p = (u & Vector256.Create(3u)) | ((u >> 6) & Vector256.Create(0xCu)) | ((u >> 12) & Vector256.Create(0x30u)) | ((u >> 18) & Vector256.Create(0xC0u));
            var n = Vector256.Narrow(p, p);
            Unsafe.WriteUnaligned(ref dst, Vector256.Narrow(n, n).AsUInt64().ToScalar());
        }
    }

    /// <summary>
    /// Packs 64 codes (bytes, each &lt; 2^bits, bits ∈ {2, 4, 8}) into 8·bits bytes at
    /// <paramref name="destination"/> (AVX-512BW only; the caller checks the room), the same bytes
    /// as two <see cref="Store32"/> calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store64(Vector512<byte> codes, int bits, ref byte destination)
    {
        if (bits == 8)
        {
            codes.StoreUnsafe(ref destination);
        }
        else if (bits == 4)
        {
            var w = codes.AsUInt16();
            Avx512BW.ConvertToVector256Byte((w & Vector512.Create((ushort)0x000F)) | ((w >> 4) & Vector512.Create((ushort)0x00F0))).StoreUnsafe(ref destination);
        }
        else
        {
            var u = codes.AsUInt32();
            var p = (u & Vector512.Create(3u)) | ((u >> 6) & Vector512.Create(0xCu)) | ((u >> 12) & Vector512.Create(0x30u)) | ((u >> 18) & Vector512.Create(0xC0u));
            Avx512F.ConvertToVector128Byte(p).StoreUnsafe(ref destination);
        }
    }

    /// <summary>Unpacks 32 codes written by <see cref="Store32"/> (bits ∈ {2, 4, 8}) into 32 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Load32(ReadOnlySpan<byte> source, int bits)
    {
        if (source.Length < 4 * bits) throw new ArgumentException("Source too short.", nameof(source));
        ref byte src = ref MemoryMarshal.GetReference(source);
        if (bits == 8) return Vector256.LoadUnsafe(ref src);
        if (bits == 4)
        {
            var v = Vector128.LoadUnsafe(ref src);
            var w = Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v));
            return ((w & Vector256.Create((ushort)0x000F)) | ((w << 4) & Vector256.Create((ushort)0x0F00))).AsByte();
        }
        var b = FromBytes(Unsafe.ReadUnaligned<ulong>(ref src)).AsUInt32();
        return ((b & Vector256.Create(3u)) | ((b << 6) & Vector256.Create(0x300u)) | ((b << 12) & Vector256.Create(0x30000u)) | ((b << 18) & Vector256.Create(0x3000000u))).AsByte();
    }

    /// <summary>Unpacks 64 codes written by <see cref="Store64"/> (AVX-512BW only; the caller checks that 8·bits bytes are readable).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Load64(ref readonly byte source, int bits)
    {
        if (bits == 8) return Vector512.LoadUnsafe(in source);
        if (bits == 4)
        {
            var w = Avx512BW.ConvertToVector512UInt16(Vector256.LoadUnsafe(in source));
            return ((w & Vector512.Create((ushort)0x000F)) | ((w << 4) & Vector512.Create((ushort)0x0F00))).AsByte();
        }
        var b = Avx512F.ConvertToVector512UInt32(Vector128.LoadUnsafe(in source));
        return ((b & Vector512.Create(3u)) | ((b << 6) & Vector512.Create(0x300u)) | ((b << 12) & Vector512.Create(0x30000u)) | ((b << 18) & Vector512.Create(0x3000000u))).AsByte();
    }

    /// <summary>
    /// Whether a code packed in <paramref name="codes"/> at <paramref name="bits"/> bits (1, 2, 4, 8
    /// or 16, least significant first) is above <paramref name="limit"/>, padding codes included.
    /// </summary>
    public static bool AnyAbove(ReadOnlySpan<byte> codes, int limit, int bits)
    {
        if (limit >= (1 << bits) - 1) return false;                    // every code fits
        if (bits == 16) return AnyAbove16(MemoryMarshal.Cast<byte, ushort>(codes), (ushort)limit);
        if (bits == 1 || (bits == 2 && limit < 2))
        {
            foreach (byte v in codes)
                for (int k = 0; k < 8; k += bits)
                    if (((v >> k) & ((1 << bits) - 1)) > limit) return true;
            return false;
        }
        // bits = 2 with limit 2 (only code 3 is above), 4 or 8.
        int i = 0, n = codes.Length;
        ref byte r = ref MemoryMarshal.GetReference(codes);
        if (Vector512.IsHardwareAccelerated)
        {
            var vlimit = Vector512.Create((byte)limit);
            var low = Vector512.Create((byte)0x0F);
            var pairs = Vector512.Create((byte)0x55);
            var bad = Vector512<byte>.Zero;
            for (; i <= n - 64; i += 64)
            {
                var v = Vector512.LoadUnsafe(ref r, (nuint)i);
                bad |= bits switch
                {
                    8 => Vector512.GreaterThan(v, vlimit),
                    4 => Vector512.GreaterThan(v & low, vlimit) | Vector512.GreaterThan(v >>> 4, vlimit),
                    _ => v & (v >>> 1) & pairs,
                };
            }
            if (bad != Vector512<byte>.Zero) return true;
        }
        {
            var vlimit = Vector256.Create((byte)limit);
            var low = Vector256.Create((byte)0x0F);
            var pairs = Vector256.Create((byte)0x55);
            var bad = Vector256<byte>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var v = Vector256.LoadUnsafe(ref r, (nuint)i);
                bad |= bits switch
                {
                    8 => Vector256.GreaterThan(v, vlimit),
                    4 => Vector256.GreaterThan(v & low, vlimit) | Vector256.GreaterThan(v >>> 4, vlimit),
                    _ => v & (v >>> 1) & pairs,
                };
            }
            if (bad != Vector256<byte>.Zero) return true;
        }
        for (; i < n; i++)
        {
            int v = codes[i];
            bool above = bits switch
            {
                8 => v > limit,
                4 => (v & 0x0F) > limit || (v >> 4) > limit,
                _ => (v & (v >> 1) & 0x55) != 0,
            };
            if (above) return true;
        }
        return false;
    }

    private static bool AnyAbove16(ReadOnlySpan<ushort> codes, ushort limit)
    {
        int i = 0, n = codes.Length;
        ref ushort r = ref MemoryMarshal.GetReference(codes);
        var vlimit = Vector256.Create(limit);
        var bad = Vector256<ushort>.Zero;
        for (; i <= n - 16; i += 16) bad |= Vector256.GreaterThan(Vector256.LoadUnsafe(ref r, (nuint)i), vlimit);
        if (bad != Vector256<ushort>.Zero) return true;
        for (; i < n; i++) if (codes[i] > limit) return true;
        return false;
    }

    /// <summary>Reads <paramref name="count"/> (≤ 8) little-endian bytes as a ulong, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadPartial(ReadOnlySpan<byte> source, int count)
    {
        if (count == 8) return BinaryPrimitives.ReadUInt64LittleEndian(source);
        ulong v = 0;
        for (int i = 0; i < count; i++) v |= (ulong)source[i] << (8 * i);
        return v;
    }

    /// <summary>Writes the low <paramref name="count"/> (≤ 8) bytes of <paramref name="value"/>, little-endian.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WritePartial(Span<byte> destination, ulong value, int count)
    {
        if (count == 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination, value);
            return;
        }
        for (int i = 0; i < count; i++) destination[i] = (byte)(value >> (8 * i));
    }
}
