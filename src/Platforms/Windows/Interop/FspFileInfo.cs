using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>FSP_FSCTL_FILE_INFO (fsctl.h). Times are FILETIMEs.</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
internal struct FspFileInfo
{
    [FieldOffset(0)] public uint FileAttributes;
    [FieldOffset(4)] public uint ReparseTag;
    [FieldOffset(8)] public ulong AllocationSize;
    [FieldOffset(16)] public ulong FileSize;
    [FieldOffset(24)] public ulong CreationTime;
    [FieldOffset(32)] public ulong LastAccessTime;
    [FieldOffset(40)] public ulong LastWriteTime;
    [FieldOffset(48)] public ulong ChangeTime;
    [FieldOffset(56)] public ulong IndexNumber;
    [FieldOffset(64)] public uint HardLinks;
    [FieldOffset(68)] public uint EaSize;
}
