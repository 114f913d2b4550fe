using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>REPARSE_DATA_BUFFER of a symlink (winnt.h), without its path buffer, which follows at <see cref="PathOffset"/>.</summary>
[StructLayout(LayoutKind.Explicit, Size = PathOffset)]
internal struct SymlinkReparseHeader
{
    public const int PathOffset = 20;

    /// <summary>The bytes before the substitute and print names that ReparseDataLength counts.</summary>
    public const int CountedHeader = 12;

    public const uint SymlinkTag = 0xA000000C;
    public const uint RelativeFlag = 1;

    [FieldOffset(0)] public uint ReparseTag;
    [FieldOffset(4)] public ushort ReparseDataLength;
    [FieldOffset(6)] public ushort Reserved;
    [FieldOffset(8)] public ushort SubstituteNameOffset;
    [FieldOffset(10)] public ushort SubstituteNameLength;
    [FieldOffset(12)] public ushort PrintNameOffset;
    [FieldOffset(14)] public ushort PrintNameLength;
    [FieldOffset(16)] public uint Flags;
}
