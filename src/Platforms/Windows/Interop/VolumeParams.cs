using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>FSP_FSCTL_VOLUME_PARAMS (fsctl.h), version 504 (with the V1 timeouts), x64 and arm64 layout.</summary>
[StructLayout(LayoutKind.Explicit, Size = SizeV1)]
internal unsafe struct VolumeParams
{
    public const int SizeV1 = 504;
    public const int PrefixChars = 192;
    public const int FileSystemNameChars = 16;

    [FieldOffset(0)] public ushort Version;
    [FieldOffset(2)] public ushort SectorSize;
    [FieldOffset(4)] public ushort SectorsPerAllocationUnit;
    [FieldOffset(6)] public ushort MaxComponentLength;
    [FieldOffset(8)] public ulong VolumeCreationTime;
    [FieldOffset(16)] public uint VolumeSerialNumber;
    [FieldOffset(20)] public uint TransactTimeout;
    [FieldOffset(24)] public uint IrpTimeout;
    [FieldOffset(28)] public uint IrpCapacity;
    [FieldOffset(32)] public uint FileInfoTimeout;
    [FieldOffset(36)] public VolumeFlags Flags;
    [FieldOffset(40)] public fixed char Prefix[PrefixChars];
    [FieldOffset(424)] public fixed char FileSystemName[FileSystemNameChars];
    [FieldOffset(456)] public VolumeTimeoutFlags TimeoutFlags;
    [FieldOffset(460)] public uint VolumeInfoTimeout;
    [FieldOffset(464)] public uint DirInfoTimeout;
    [FieldOffset(468)] public uint SecurityTimeout;
    [FieldOffset(472)] public uint StreamInfoTimeout;
    [FieldOffset(476)] public uint EaTimeout;
    [FieldOffset(480)] public uint FsextControlCode;
}
