using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>The fixed part of FSP_FSCTL_DIR_INFO (fsctl.h); the name follows at <see cref="NameOffset"/>, without a NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = NameOffset)]
internal struct DirInfo
{
    public const int NameOffset = 104;

    /// <summary>The longest name GetDirInfoByName's buffer holds, in UTF-16 units.</summary>
    public const int MaxNameChars = 255;

    [FieldOffset(0)] public ushort Size; // NameOffset + name bytes
    [FieldOffset(8)] public FspFileInfo FileInfo;
    [FieldOffset(80)] public ulong NextOffset;
}
