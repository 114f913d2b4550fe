using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>FSP_FSCTL_OPEN_FILE_INFO (fsctl.h): what Open's FileInfo argument really points at.</summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
internal unsafe struct OpenFileInfo
{
    [FieldOffset(0)] public FspFileInfo FileInfo;
    [FieldOffset(72)] public char* NormalizedName;
    [FieldOffset(80)] public ushort NormalizedNameSize;
}
