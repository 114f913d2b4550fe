using System.Runtime.InteropServices;

namespace CastoreFs.Core.Fuse.Protocol;

[StructLayout(LayoutKind.Sequential)]
public struct FuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public uint Flags2;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseInitOut
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public ushort MaxBackground;
    public ushort CongestionThreshold;
    public uint MaxWrite;
    public uint TimeGranularity;
    public ushort MaxPages;
    public ushort MapAlignment;
    public uint Flags2;
    public uint MaxStackDepth;
    public ushort RequestTimeout;
    public fixed ushort Unused[11];
}

/// <summary>INIT capability bits; bits 32 and up travel in flags2.</summary>
[Flags]
public enum FuseCapabilities : ulong
{
    None = 0,
    AsyncRead = 1UL << 0,
    DoReaddirplus = 1UL << 13,
    ReaddirplusAuto = 1UL << 14,
    ParallelDirops = 1UL << 18,
    MaxPages = 1UL << 22,
    CacheSymlinks = 1UL << 23,
    ExplicitInvalData = 1UL << 25,
    InitExt = 1UL << 30,
    Passthrough = 1UL << 37,
}
