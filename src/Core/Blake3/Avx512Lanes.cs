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
    public static void Store(Vector512<uint> value, uint* lanes) => Avx512F.Store(lanes, value);

    public static void LoadBlockTransposed(byte** inputs, nint blockOffset, Vector512<uint>* m)
    {
        for (int i = 0; i < 16; i++)
        {
            m[i] = Avx512F.LoadVector512((uint*)(inputs[i] + blockOffset));
        }

        Transpose16(m);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16(Vector512<uint>* v)
    {
        // 32-bit then 64-bit interleaves: rows[g]K holds column (4L + K) of rows 4g..4g+3 in 128-bit lane L.
        var q = stackalloc Vector512<uint>[16];
        for (int g = 0; g < 4; g++)
        {
            var r = v + (4 * g);
            var lo01 = Avx512F.UnpackLow(r[0], r[1]).AsUInt64();
            var hi01 = Avx512F.UnpackHigh(r[0], r[1]).AsUInt64();
            var lo23 = Avx512F.UnpackLow(r[2], r[3]).AsUInt64();
            var hi23 = Avx512F.UnpackHigh(r[2], r[3]).AsUInt64();
            q[(4 * g) + 0] = Avx512F.UnpackLow(lo01, lo23).AsUInt32();
            q[(4 * g) + 1] = Avx512F.UnpackHigh(lo01, lo23).AsUInt32();
            q[(4 * g) + 2] = Avx512F.UnpackLow(hi01, hi23).AsUInt32();
            q[(4 * g) + 3] = Avx512F.UnpackHigh(hi01, hi23).AsUInt32();
        }

        // 128-bit lane shuffles: first pair groups (0,1) and (2,3), then the pairs with each other.
        for (int k = 0; k < 4; k++)
        {
            var ab = Avx512F.Shuffle4x128(q[k], q[4 + k], EvenLanes);      // columns k, 8+k of rows 0..7
            var abOdd = Avx512F.Shuffle4x128(q[k], q[4 + k], OddLanes);    // columns 4+k, 12+k of rows 0..7
            var cd = Avx512F.Shuffle4x128(q[8 + k], q[12 + k], EvenLanes);
            var cdOdd = Avx512F.Shuffle4x128(q[8 + k], q[12 + k], OddLanes);
            v[k] = Avx512F.Shuffle4x128(ab, cd, EvenLanes);
            v[8 + k] = Avx512F.Shuffle4x128(ab, cd, OddLanes);
            v[4 + k] = Avx512F.Shuffle4x128(abOdd, cdOdd, EvenLanes);
            v[12 + k] = Avx512F.Shuffle4x128(abOdd, cdOdd, OddLanes);
        }
    }
}
