using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>FSP_FSCTL_VOLUME_INFO (fsctl.h).</summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
internal unsafe struct VolumeInfo
{
    public const int LabelChars = 32;

    [FieldOffset(0)] public ulong TotalSize;
    [FieldOffset(8)] public ulong FreeSize;
    [FieldOffset(16)] public ushort VolumeLabelLength; // bytes
    [FieldOffset(18)] public fixed char VolumeLabel[LabelChars];
}
