using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CastoreFs.Core.Blake3;

/// <summary>Eight lanes in a 256-bit register (AVX2).</summary>
internal readonly unsafe struct Avx2Lanes : ILaneOps<Vector256<uint>>
{
    private static readonly Vector256<byte> Rot16Mask = Vector256.Create(
        (byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
        2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);

    private static readonly Vector256<byte> Rot8Mask = Vector256.Create(
        (byte)1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
        1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);

    public static bool IsSupported => Avx2.IsSupported;
    public static int Lanes => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Splat(uint value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Load(uint* lanes) => Avx.LoadVector256(lanes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Add(Vector256<uint> a, Vector256<uint> b) => Avx2.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Xor(Vector256<uint> a, Vector256<uint> b) => Avx2.Xor(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> RotateRight16(Vector256<uint> x) => Avx2.Shuffle(x.AsByte(), Rot16Mask).AsUInt32();
    public static Vector256<uint> RotateRight12(Vector256<uint> x) =>
        Avx2.Or(Avx2.ShiftRightLogical(x, 12), Avx2.ShiftLeftLogical(x, 20));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> RotateRight8(Vector256<uint> x) => Avx2.Shuffle(x.AsByte(), Rot8Mask).AsUInt32();
    public static Vector256<uint> RotateRight7(Vector256<uint> x) =>
        Avx2.Or(Avx2.ShiftRightLogical(x, 7), Avx2.ShiftLeftLogical(x, 25));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadBlockTransposed(byte** inputs, nint blockOffset, nint prefetchAhead, Vector256<uint>* m)
    {
        // Each block is two 8-word halves; each half of the eight inputs is one 8x8 transpose.
        for (int half = 0; half < 2; half++)
        {
            nint at = blockOffset + (half * 32);
            Transpose8(
                Row(inputs[0], at, prefetchAhead), Row(inputs[1], at, prefetchAhead),
                Row(inputs[2], at, prefetchAhead), Row(inputs[3], at, prefetchAhead),
                Row(inputs[4], at, prefetchAhead), Row(inputs[5], at, prefetchAhead),
                Row(inputs[6], at, prefetchAhead), Row(inputs[7], at, prefetchAhead),
                m + (half * 8));
        }
    }

    /// <summary>An 8x8 transpose turns word-per-vector into lane-per-vector: each result is one chaining value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreChainingValues(Vector256<uint>* h, byte* output) =>
        Transpose8(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], (Vector256<uint>*)output);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Row(byte* input, nint at, nint prefetchAhead)
    {
        // Both halves prefetch the same line: a second prefetch of it costs next to nothing.
        Sse.Prefetch0(input + at + prefetchAhead);
        return Avx.LoadVector256((uint*)(input + at));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(
        Vector256<uint> a, Vector256<uint> b, Vector256<uint> c, Vector256<uint> d,
        Vector256<uint> e, Vector256<uint> f, Vector256<uint> g, Vector256<uint> h,
        Vector256<uint>* columns)
    {
        // After the 32- and 64-bit interleaves, abcdK holds column (4L + K) of rows a..d in 128-bit lane L.
        var ab0 = Avx2.UnpackLow(a, b).AsUInt64();
        var ab2 = Avx2.UnpackHigh(a, b).AsUInt64();
        var cd0 = Avx2.UnpackLow(c, d).AsUInt64();
        var cd2 = Avx2.UnpackHigh(c, d).AsUInt64();
        var ef0 = Avx2.UnpackLow(e, f).AsUInt64();
        var ef2 = Avx2.UnpackHigh(e, f).AsUInt64();
        var gh0 = Avx2.UnpackLow(g, h).AsUInt64();
        var gh2 = Avx2.UnpackHigh(g, h).AsUInt64();

        var abcd0 = Avx2.UnpackLow(ab0, cd0).AsUInt32();
        var abcd1 = Avx2.UnpackHigh(ab0, cd0).AsUInt32();
        var abcd2 = Avx2.UnpackLow(ab2, cd2).AsUInt32();
        var abcd3 = Avx2.UnpackHigh(ab2, cd2).AsUInt32();
        var efgh0 = Avx2.UnpackLow(ef0, gh0).AsUInt32();
        var efgh1 = Avx2.UnpackHigh(ef0, gh0).AsUInt32();
        var efgh2 = Avx2.UnpackLow(ef2, gh2).AsUInt32();
        var efgh3 = Avx2.UnpackHigh(ef2, gh2).AsUInt32();

        columns[0] = Avx2.Permute2x128(abcd0, efgh0, 0x20);
        columns[1] = Avx2.Permute2x128(abcd1, efgh1, 0x20);
        columns[2] = Avx2.Permute2x128(abcd2, efgh2, 0x20);
        columns[3] = Avx2.Permute2x128(abcd3, efgh3, 0x20);
        columns[4] = Avx2.Permute2x128(abcd0, efgh0, 0x31);
        columns[5] = Avx2.Permute2x128(abcd1, efgh1, 0x31);
        columns[6] = Avx2.Permute2x128(abcd2, efgh2, 0x31);
        columns[7] = Avx2.Permute2x128(abcd3, efgh3, 0x31);
    }
}
