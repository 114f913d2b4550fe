using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.IO.Interop;

/// <summary>
/// A folder held open, and names looked up in it with statx(2) relative to it: the kernel then resolves
/// one name in a folder it has already found, rather than every folder of a full path again.
/// </summary>
internal static unsafe partial class LinuxFolder
{
    private const int ReadOnlyFolder = 0x10000 | 0x80000; // O_RDONLY | O_DIRECTORY | O_CLOEXEC
    private const int NoEntry = 2; // ENOENT

    /// <summary>The folder at <paramref name="path"/>, open; null when it does not exist.</summary>
    /// <exception cref="IOException">Another failure (ENOTDIR, EACCES, EMFILE).</exception>
    public static SafeFileHandle? TryOpen(string path)
    {
        int fd = Open(path, ReadOnlyFolder);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno == NoEntry ? null : throw new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    /// <summary>Whether <paramref name="name"/> exists in <paramref name="folder"/> (a final symlink not followed).</summary>
    public static bool Contains(SafeFileHandle folder, string name)
    {
        bool added = false;
        try
        {
            folder.DangerousAddRef(ref added);
            byte* buffer = stackalloc byte[LinuxStatx.BufferSize];
            return LinuxStatx.Statx((int)folder.DangerousGetHandle(), name, LinuxStatx.AtSymlinkNoFollow, 0, buffer) == 0;
        }
        finally
        {
            if (added)
            {
                folder.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
