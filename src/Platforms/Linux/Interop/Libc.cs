using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Linux.Interop;

/// <summary>The libc calls the /dev/fuse transport needs. Each sets errno, read with <see cref="Marshal.GetLastPInvokeError"/>.</summary>
internal static unsafe partial class Libc
{
    public const int O_RDWR = 2;
    public const int O_CLOEXEC = 0x80000;

    public const int EINTR = 4;
    public const int ENOENT = 2;
    public const int EAGAIN = 11;
    public const int ENODEV = 19;
    public const int EINVAL = 22;

    public const ulong MS_RDONLY = 1;
    public const ulong MS_NOSUID = 2;
    public const ulong MS_NODEV = 4;
    public const int MNT_DETACH = 2;

    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;

    /// <summary>_IOR(229, 0, uint32): attach a new /dev/fuse fd to an existing connection.</summary>
    public const ulong FUSE_DEV_IOC_CLONE = 0x8004E500;

    /// <summary>_IOW(229, 1, struct fuse_backing_map): register a passthrough backing file.</summary>
    public const ulong FUSE_DEV_IOC_BACKING_OPEN = 0x4010E501;

    /// <summary>_IOW(229, 2, uint32): drop a backing id.</summary>
    public const ulong FUSE_DEV_IOC_BACKING_CLOSE = 0x4004E502;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, void* argument);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string fileSystemType, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    public static partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int fd, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "getegid")]
    public static partial uint GetEffectiveGroupId();

    [LibraryImport("libc", EntryPoint = "setsid", SetLastError = true)]
    public static partial int SetSid();

    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int FD_CLOEXEC = 1;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    public const int O_NONBLOCK = 0x800;
    public const int F_SETPIPE_SZ = 1031;
    public const int F_GETPIPE_SZ = 1032;
    public const uint SPLICE_F_NONBLOCK = 2;

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int input, long* inputOffset, int output, long* outputOffset, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int from, int to);

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    /// <summary>struct msghdr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public void* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct fuse_backing_map.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FuseBackingMap
    {
        public int Fd;
        public uint Flags;
        public ulong Padding;
    }
}
