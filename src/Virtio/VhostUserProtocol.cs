using System.Runtime.InteropServices;

namespace CastoreFs.Virtio;

/// <summary>Front-end requests of the vhost-user protocol (QEMU's docs/interop/vhost-user.rst).</summary>
internal enum VhostUserRequest : uint
{
    GetFeatures = 1,
    SetFeatures = 2,
    SetOwner = 3,
    ResetOwner = 4,
    SetMemTable = 5,
    SetLogBase = 6,
    SetLogFd = 7,
    SetVringNum = 8,
    SetVringAddr = 9,
    SetVringBase = 10,
    GetVringBase = 11,
    SetVringKick = 12,
    SetVringCall = 13,
    SetVringErr = 14,
    GetProtocolFeatures = 15,
    SetProtocolFeatures = 16,
    GetQueueNum = 17,
    SetVringEnable = 18,
}

/// <summary>Feature bits, virtio's and vhost-user's, and the header every message starts with.</summary>
internal static class VhostUser
{
    public const int HeaderSize = 12;

    /// <summary>Version 1 in bits 0–1.</summary>
    public const uint Version = 1;

    public const uint ReplyFlag = 1 << 2;
    public const uint NeedReplyFlag = 1 << 3;

    /// <summary>The largest payload a message we take may carry: a memory table of 8 regions is 264 bytes.</summary>
    public const int MaxPayload = 4096;

    /// <summary>At most 8 regions (and fds) without CONFIGURE_MEM_SLOTS.</summary>
    public const int MaxRegions = 8;

    public const ulong IndirectDescriptors = 1UL << 28;
    public const ulong EventIndex = 1UL << 29;
    public const ulong ProtocolFeatures = 1UL << 30;
    public const ulong Version1 = 1UL << 32;

    /// <summary>What the device offers: no packed ring, no IOMMU, no in-order, no logging (migration).</summary>
    public const ulong Offered = Version1 | IndirectDescriptors | EventIndex | ProtocolFeatures;

    public const ulong ProtocolMultiQueue = 1UL << 0;
    public const ulong ProtocolReplyAck = 1UL << 3;

    /// <summary>
    /// MQ and REPLY_ACK only. Never CONFIG: QEMU's vhost-user-fs supplies the config space itself (tag and
    /// queue count from its command line), and QEMU 7.1–8.0 crash when a back-end offers it.
    /// </summary>
    public const ulong ProtocolOffered = ProtocolMultiQueue | ProtocolReplyAck;

    /// <summary>KICK/CALL/ERR payload: bit 8 says there is no fd (the ring is to be polled).</summary>
    public const ulong NoFdFlag = 1UL << 8;
}

[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VhostUserHeader
{
    public VhostUserRequest Request;
    public uint Flags;
    public uint Size;
}

[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VringState
{
    public uint Index;
    public uint Num;
}

[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VringAddress
{
    public uint Index;
    public uint Flags;
    public ulong Descriptors;
    public ulong Used;
    public ulong Available;
    public ulong Log;
}

[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct MemoryRegionMessage
{
    public ulong GuestAddress;
    public ulong Size;
    public ulong UserAddress;
    public ulong MmapOffset;
}
