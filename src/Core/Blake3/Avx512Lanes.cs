using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CastoreFs.Core.Blake3;

/// <summary>Sixteen lanes in a 512-bit register (AVX-512F), with native rotates.</summary>
internal readonly unsafe struct Avx512Lanes : ILaneOps<Vector512<uint>>
{
    // vshufi32x4 selectors: even or odd 128-bit lanes of each operand.
    private const byte EvenLanes = 0x88;
    private const byte OddLanes = 0xDD;

    public static bool IsSupported => Avx512F.IsSupported;
    public static int Lanes => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Splat(uint value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Load(uint* lanes) => Avx512F.LoadVector512(lanes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Add(Vector512<uint> a, Vector512<uint> b) => Avx512F.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Xor(Vector512<uint> a, Vector512<uint> b) => Avx512F.Xor(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> RotateRight16(Vector512<uint> x) => Avx512F.RotateRight(x, 16);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> RotateRight12(Vector512<uint> x) => Avx512F.RotateRight(x, 12);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> RotateRight8(Vector512<uint> x) => Avx512F.RotateRight(x, 8);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> RotateRight7(Vector512<uint> x) => Avx512F.RotateRight(x, 7);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadBlockTransposed(byte** inputs, nint blockOffset, nint prefetchAhead, Vector512<uint>* m)
    {
        // Rows stay in registers: a stack buffer here would be zeroed and copied for every block.
        nint o = blockOffset, p = prefetchAhead;
        Interleave(Row(inputs[0] + o, p), Row(inputs[1] + o, p), Row(inputs[2] + o, p), Row(inputs[3] + o, p), out var a0, out var a1, out var a2, out var a3);
        Interleave(Row(inputs[4] + o, p), Row(inputs[5] + o, p), Row(inputs[6] + o, p), Row(inputs[7] + o, p), out var b0, out var b1, out var b2, out var b3);
        Interleave(Row(inputs[8] + o, p), Row(inputs[9] + o, p), Row(inputs[10] + o, p), Row(inputs[11] + o, p), out var c0, out var c1, out var c2, out var c3);
        Interleave(Row(inputs[12] + o, p), Row(inputs[13] + o, p), Row(inputs[14] + o, p), Row(inputs[15] + o, p), out var d0, out var d1, out var d2, out var d3);
        Gather(a0, b0, c0, d0, m);
        Gather(a1, b1, c1, d1, m + 1);
        Gather(a2, b2, c2, d2, m + 2);
        Gather(a3, b3, c3, d3, m + 3);
    }

    /// <summary>
    /// The same 16x16 transpose turns word-per-vector back into lane-per-vector; with the eight chaining
    /// value words as the first rows, the low half of each result is one lane's chaining value.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreChainingValues(Vector512<uint>* h, byte* output)
    {
        var cv = (Vector256<uint>*)output;
        Interleave(h[0], h[1], h[2], h[3], out var a0, out var a1, out var a2, out var a3);
        Interleave(h[4], h[5], h[6], h[7], out var b0, out var b1, out var b2, out var b3);
        GatherLowHalves(a0, b0, cv);
        GatherLowHalves(a1, b1, cv + 1);
        GatherLowHalves(a2, b2, cv + 2);
        GatherLowHalves(a3, b3, cv + 3);
    }

    /// <summary><see cref="Gather"/> with rows 8..15 left out: the low half of each column is all there is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GatherLowHalves(Vector512<uint> a, Vector512<uint> b, Vector256<uint>* column)
    {
        var ab = Avx512F.Shuffle4x128(a, b, EvenLanes);
        var abOdd = Avx512F.Shuffle4x128(a, b, OddLanes);
        column[0] = Avx512F.Shuffle4x128(ab, ab, EvenLanes).GetLower();
        column[8] = Avx512F.Shuffle4x128(ab, ab, OddLanes).GetLower();
        column[4] = Avx512F.Shuffle4x128(abOdd, abOdd, EvenLanes).GetLower();
        column[12] = Avx512F.Shuffle4x128(abOdd, abOdd, OddLanes).GetLower();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Row(byte* row, nint prefetchAhead)
    {
        Sse.Prefetch0(row + prefetchAhead);
        return Avx512F.LoadVector512((uint*)row);
    }

    /// <summary>
    /// 32- then 64-bit interleaves of four rows: outK holds column (4L + K) of the four rows in 128-bit lane L.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(
        Vector512<uint> r0, Vector512<uint> r1, Vector512<uint> r2, Vector512<uint> r3,
        out Vector512<uint> out0, out Vector512<uint> out1, out Vector512<uint> out2, out Vector512<uint> out3)
    {
        var lo01 = Avx512F.UnpackLow(r0, r1).AsUInt64();
        var hi01 = Avx512F.UnpackHigh(r0, r1).AsUInt64();
        var lo23 = Avx512F.UnpackLow(r2, r3).AsUInt64();
        var hi23 = Avx512F.UnpackHigh(r2, r3).AsUInt64();
        out0 = Avx512F.UnpackLow(lo01, lo23).AsUInt32();
        out1 = Avx512F.UnpackHigh(lo01, lo23).AsUInt32();
        out2 = Avx512F.UnpackLow(hi01, hi23).AsUInt32();
        out3 = Avx512F.UnpackHigh(hi01, hi23).AsUInt32();
    }

    /// <summary>
    /// 128-bit lane shuffles of one interleave K from each group of four rows: columns K, 4+K, 8+K, 12+K.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gather(Vector512<uint> a, Vector512<uint> b, Vector512<uint> c, Vector512<uint> d, Vector512<uint>* column)
    {
        var ab = Avx512F.Shuffle4x128(a, b, EvenLanes);
        var abOdd = Avx512F.Shuffle4x128(a, b, OddLanes);
        var cd = Avx512F.Shuffle4x128(c, d, EvenLanes);
        var cdOdd = Avx512F.Shuffle4x128(c, d, OddLanes);
        column[0] = Avx512F.Shuffle4x128(ab, cd, EvenLanes);
        column[8] = Avx512F.Shuffle4x128(ab, cd, OddLanes);
        column[4] = Avx512F.Shuffle4x128(abOdd, cdOdd, EvenLanes);
        column[12] = Avx512F.Shuffle4x128(abOdd, cdOdd, OddLanes);
    }
}
