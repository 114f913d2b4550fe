using System.Runtime.InteropServices;

namespace CastoreFs.Core.Fuse.Protocol;

[StructLayout(LayoutKind.Sequential)]
public struct FuseInHeader
{
    public uint Length;
    public FuseOpcode Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    public uint Pid;
    public ushort TotalExtensionLength;
    public ushort Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseOutHeader
{
    public uint Length;
    public int Error;
    public ulong Unique;
}
