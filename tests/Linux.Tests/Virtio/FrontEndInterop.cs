using System.Runtime.InteropServices;

namespace CastoreFs.Linux.Tests.Virtio;

/// <summary>What a test front-end needs beside the back-end's own calls: guest memory in a memfd, and fds sent over the socket.</summary>
internal static unsafe partial class FrontEndInterop
{
    public const int MFD_CLOEXEC = 1;

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, CastoreFs.Virtio.Interop.Libc.MsgHdr* message, int flags);
}
