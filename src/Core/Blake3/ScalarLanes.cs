using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.Intrinsics.X86;

namespace CastoreFs.Core.Blake3;

/// <summary>One lane: the portable path, used on every CPU and for single-block compressions.</summary>
internal readonly unsafe struct ScalarLanes : ILaneOps<uint>
{
    public static int Lanes => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Splat(uint value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Load(uint* lanes) => lanes[0];
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Add(uint a, uint b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Xor(uint a, uint b) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint RotateRight16(uint x) => BitOperations.RotateRight(x, 16);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint RotateRight12(uint x) => BitOperations.RotateRight(x, 12);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint RotateRight8(uint x) => BitOperations.RotateRight(x, 8);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint RotateRight7(uint x) => BitOperations.RotateRight(x, 7);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadBlockTransposed(byte** inputs, nint blockOffset, nint prefetchAhead, uint* m)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(inputs[0] + blockOffset + prefetchAhead);
        }

        var block = new ReadOnlySpan<byte>(inputs[0] + blockOffset, Blake3Constants.BlockLen);
        for (int w = 0; w < 16; w++)
        {
            m[w] = BinaryPrimitives.ReadUInt32LittleEndian(block[(w * 4)..]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreChainingValues(uint* h, byte* output)
    {
        var cv = new Span<byte>(output, Blake3Constants.OutLen);
        for (int w = 0; w < 8; w++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(cv[(w * 4)..], h[w]);
        }
    }
}
