using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CastoreFs.Core.IO;

/// <summary>
/// What writes around the page cache (O_DIRECT) ask of their callers: block-aligned offsets,
/// lengths and buffers.
/// </summary>
public static class UnbufferedIo
{
    /// <summary>A multiple of every common logical block size.</summary>
    public const int Alignment = 4096;

    /// <summary>Whether a transfer of <paramref name="data"/> at <paramref name="offset"/> may bypass the page cache.</summary>
    /// <remarks>The address is only stable while <paramref name="data"/> is pinned, as the buffers below are.</remarks>
    public static unsafe bool IsAligned(long offset, ReadOnlySpan<byte> data) =>
        offset % Alignment == 0 && data.Length % Alignment == 0
        && ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(data)) & (Alignment - 1)) == 0;

    /// <summary>A pinned buffer of <paramref name="length"/> bytes whose byte at <paramref name="alignedAt"/> starts a block.</summary>
    public static unsafe Memory<byte> AllocatePinned(int length, int alignedAt = 0)
    {
        var array = GC.AllocateUninitializedArray<byte>(length + Alignment, pinned: true);
        nint aligned = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)) + alignedAt;
        int skip = (int)(-aligned & (Alignment - 1));
        return array.AsMemory(skip, length);
    }
}
