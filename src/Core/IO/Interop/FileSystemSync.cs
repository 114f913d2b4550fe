using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.IO.Interop;

/// <summary>syncfs(2): everything written to one filesystem made durable with one flush of the disk.</summary>
internal static partial class FileSystemSync
{
    public static bool IsAvailable => OperatingSystem.IsLinux();

    /// <summary>Flushes the filesystem that holds <paramref name="file"/>.</summary>
    /// <exception cref="IOException">The flush failed (EIO, ENOSPC): what was written may not be durable.</exception>
    public static void Flush(SafeFileHandle file, string path)
    {
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            if (SyncFs((int)file.DangerousGetHandle()) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"syncfs of the filesystem holding {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>Flushes the filesystem that holds the file at <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The flush failed (EIO, ENOSPC): what was written may not be durable.</exception>
    public static void Flush(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        Flush(file, path);
    }

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);
}
