using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>The fields of FSP_FILE_SYSTEM (winfsp.h) that a file system reads or sets; the DLL owns the struct.</summary>
[StructLayout(LayoutKind.Explicit, Size = 792)]
internal unsafe struct FileSystemHeader
{
    [FieldOffset(0)] public ushort Version;
    [FieldOffset(8)] public nint UserContext;
    [FieldOffset(16)] public fixed char VolumeName[256];
    [FieldOffset(728)] public nint Interface;
    [FieldOffset(752)] public char* MountPoint;
}
