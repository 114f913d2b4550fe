using System.Runtime.InteropServices;
using System.Text;

namespace CastoreFs.Linux.Tests;

/// <summary>
/// libc calls with their errno, so that tests check the exact error a user's program sees rather than
/// .NET's mapping of it.
/// </summary>
internal static unsafe partial class Posix
{
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;

    public static (StatResult Stat, int Errno) Stat(string path) => StatCore(path, follow: true);

    public static (StatResult Stat, int Errno) Lstat(string path) => StatCore(path, follow: false);

    /// <summary>Opens and closes; 0 or the errno of open().</summary>
    public static int TryOpen(string path, int flags)
    {
        int fd = Open(path, flags, 0x1A4);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        _ = Close(fd);
        return 0;
    }

    /// <summary>Opens, reads one byte and closes: 0, the errno of open(), or the errno of read().</summary>
    public static int TryOpenAndRead(string path)
    {
        int fd = Open(path, O_RDONLY, 0);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        byte one;
        int error = ReadNative(fd, &one, 1) < 0 ? Marshal.GetLastPInvokeError() : 0;
        _ = Close(fd);
        return error;
    }

    /// <summary>The names and d_ino of a directory, or the errno of opendir/readdir.</summary>
    public static (List<(string Name, ulong Ino, byte Type)> Entries, int Errno) ReadDirectory(string path)
    {
        var entries = new List<(string, ulong, byte)>();
        var dir = OpenDir(path);
        if (dir == 0)
        {
            return (entries, Marshal.GetLastPInvokeError());
        }

        try
        {
            while (true)
            {
                var entry = ReadDir(dir);
                if (entry == null)
                {
                    return (entries, Marshal.GetLastPInvokeError());
                }

                // struct dirent: d_ino@0, d_off@8, d_reclen@16, d_type@18, d_name@19.
                var name = Marshal.PtrToStringUTF8((nint)(entry + 19))!;
                if (name is not ("." or ".."))
                {
                    entries.Add((name, *(ulong*)entry, entry[18]));
                }
            }
        }
        finally
        {
            _ = CloseDir(dir);
        }
    }

    public static (string? Target, int Errno) ReadLink(string path)
    {
        var buffer = new byte[4096];
        fixed (byte* p = buffer)
        {
            var n = ReadLinkCore(path, p, (nuint)buffer.Length);
            return n < 0 ? (null, Marshal.GetLastPInvokeError()) : (Encoding.UTF8.GetString(buffer, 0, (int)n), 0);
        }
    }

    /// <summary>getxattr with a buffer of <paramref name="size"/> bytes (0 asks the length).</summary>
    public static (byte[] Value, long Length, int Errno) GetXattr(string path, string name, int size)
    {
        var buffer = new byte[size];
        fixed (byte* p = buffer)
        {
            var n = LGetXattr(path, name, p, (nuint)size);
            return n < 0 ? ([], -1, Marshal.GetLastPInvokeError()) : (buffer[..(int)Math.Min(n, size)], n, 0);
        }
    }

    public static (string[] Names, int Errno) ListXattr(string path)
    {
        var buffer = new byte[4096];
        fixed (byte* p = buffer)
        {
            var n = LListXattr(path, p, (nuint)buffer.Length);
            return n < 0
                ? ([], Marshal.GetLastPInvokeError())
                : (Encoding.UTF8.GetString(buffer, 0, (int)n).Split('\0', StringSplitOptions.RemoveEmptyEntries), 0);
        }
    }

    public static int SendSignal(int pid, int signal) => Kill(pid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static bool IsRoot => GetEuid() == 0;

    private static (StatResult, int) StatCore(string path, bool follow)
    {
        var buffer = stackalloc byte[256];
        int rc = follow ? StatNative(path, buffer) : LstatNative(path, buffer);
        if (rc != 0)
        {
            return (default, Marshal.GetLastPInvokeError());
        }

        // x86-64 struct stat.
        return (new StatResult(
            Device: *(ulong*)buffer,
            Inode: *(ulong*)(buffer + 8),
            Links: *(ulong*)(buffer + 16),
            Mode: *(uint*)(buffer + 24),
            Uid: *(uint*)(buffer + 28),
            Gid: *(uint*)(buffer + 32),
            Size: *(long*)(buffer + 48),
            Blocks: *(long*)(buffer + 64),
            MtimeSeconds: *(long*)(buffer + 88)), 0);
    }

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatNative(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LstatNative(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "opendir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint OpenDir(string path);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static partial byte* ReadDir(nint dir);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDir(nint dir);

    [LibraryImport("libc", EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint ReadLinkCore(string path, byte* buffer, nuint size);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LGetXattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LListXattr(string path, byte* list, nuint size);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}

internal readonly record struct StatResult(ulong Device, ulong Inode, ulong Links, uint Mode, uint Uid, uint Gid, long Size, long Blocks, long MtimeSeconds)
{
    public uint Type => Mode & 0xF000;

    public uint Permissions => Mode & 0xFFF;

    public bool IsDirectory => Type == 0x4000;

    public bool IsFile => Type == 0x8000;

    public bool IsSymlink => Type == 0xA000;
}

internal static class Errnos
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EACCES = 13;
    public const int EROFS = 30;
    public const int ERANGE = 34;
    public const int ENODATA = 61;
    public const int EINVAL = 22;
    public const int SIGTERM = 15;
}
