using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static CastoreFs.Core.Blake3.Blake3Constants;

namespace CastoreFs.Core.Blake3;

/// <summary>
/// One block compressed with the state's four rows in four vectors, the G function run on four columns
/// (then four diagonals) at once, as the BLAKE3 reference's SSE4.1 code does. A single input has no other
/// lanes to fill, and the one-lane path kept each of the 16 words in a register of its own. Small files
/// are mostly single blocks: the walk over 100,000 files of 0-2 KiB spent 11% of its samples there.
/// </summary>
[SkipLocalsInit]
internal static unsafe class RowCompression
{
    /// <summary>The message schedule: for each round, the order in which it reads the block's 16 words.</summary>
    private static ReadOnlySpan<byte> Schedule =>
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8,
        3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1,
        10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6,
        12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4,
        9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7,
        11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13,
    ];

    /// <summary>Vectors of four words in hardware (every x86-64 and arm64 CPU), on a little-endian machine as BLAKE3's words are.</summary>
    public static bool IsSupported => Vector128.IsHardwareAccelerated && BitConverter.IsLittleEndian;

    /// <summary>
    /// As <see cref="Compression.CompressBlock"/>: all 16 output words, 0..7 the next chaining value.
    /// The block's words are read in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CompressBlock(uint* cv, byte* block, uint blockLen, ulong counter, uint flags, uint* out16)
    {
        var m = (uint*)block;
        var cvLow = Vector128.Load(cv);
        var cvHigh = Vector128.Load(cv + 4);
        Vector128<uint> row0 = cvLow, row1 = cvHigh;
        var row2 = Vector128.Create(Iv0, Iv1, Iv2, Iv3);
        var row3 = Vector128.Create((uint)counter, (uint)(counter >> 32), blockLen, flags);
        ref byte schedule = ref MemoryMarshal.GetReference(Schedule);
        for (int round = 0; round < 7; round++)
        {
            ref byte s = ref Unsafe.Add(ref schedule, round * 16);
            var mx = Vector128.Create(m[Unsafe.Add(ref s, 0)], m[Unsafe.Add(ref s, 2)], m[Unsafe.Add(ref s, 4)], m[Unsafe.Add(ref s, 6)]);
            var my = Vector128.Create(m[Unsafe.Add(ref s, 1)], m[Unsafe.Add(ref s, 3)], m[Unsafe.Add(ref s, 5)], m[Unsafe.Add(ref s, 7)]);
            G(ref row0, ref row1, ref row2, ref row3, mx, my);

            // Diagonals into columns: lane 0 then holds words 3, 4, 9, 14, the fourth diagonal, and lanes 1-3
            // the first three, so their message words are taken in that order.
            row0 = Vector128.Shuffle(row0, Vector128.Create(3u, 0, 1, 2));
            row2 = Vector128.Shuffle(row2, Vector128.Create(1u, 2, 3, 0));
            row3 = Vector128.Shuffle(row3, Vector128.Create(2u, 3, 0, 1));
            mx = Vector128.Create(m[Unsafe.Add(ref s, 14)], m[Unsafe.Add(ref s, 8)], m[Unsafe.Add(ref s, 10)], m[Unsafe.Add(ref s, 12)]);
            my = Vector128.Create(m[Unsafe.Add(ref s, 15)], m[Unsafe.Add(ref s, 9)], m[Unsafe.Add(ref s, 11)], m[Unsafe.Add(ref s, 13)]);
            G(ref row0, ref row1, ref row2, ref row3, mx, my);
            row0 = Vector128.Shuffle(row0, Vector128.Create(1u, 2, 3, 0));
            row2 = Vector128.Shuffle(row2, Vector128.Create(3u, 0, 1, 2));
            row3 = Vector128.Shuffle(row3, Vector128.Create(2u, 3, 0, 1));
        }

        (row0 ^ row2).Store(out16);
        (row1 ^ row3).Store(out16 + 4);
        (row2 ^ cvLow).Store(out16 + 8);
        (row3 ^ cvHigh).Store(out16 + 12);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d, Vector128<uint> mx, Vector128<uint> my)
    {
        a += b + mx;
        d = RotateRight(d ^ a, 16);
        c += d;
        b = RotateRight(b ^ c, 12);
        a += b + my;
        d = RotateRight(d ^ a, 8);
        c += d;
        b = RotateRight(b ^ c, 7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateRight(Vector128<uint> x, [ConstantExpected] byte count) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(x, count) : Vector128.ShiftRightLogical(x, count) | Vector128.ShiftLeft(x, 32 - count);
}
