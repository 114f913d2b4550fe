using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.IO.Interop;

/// <summary>posix_fadvise(2), which .NET offers only as hints at open (FileOptions.SequentialScan).</summary>
internal static partial class FileAdvice
{
    /// <summary>POSIX_FADV_DONTNEED: 4 in Linux's generic and x86 headers, 6 only on 64-bit s390.</summary>
    private const int DontNeed = 4;

    public static bool IsAvailable => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture != Architecture.S390x;

    /// <summary>
    /// Asks the kernel to drop the clean, unused page-cache pages of a range (a page still being read or
    /// written stays); false when the call was refused (ESPIPE, EINVAL), in which case nothing changed.
    /// </summary>
    public static bool DropCached(SafeFileHandle file, long offset, long length)
    {
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);

            // posix_fadvise returns the error number itself, not -1 and errno.
            return Fadvise((int)file.DangerousGetHandle(), offset, length, DontNeed) == 0;
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int Fadvise(int fd, long offset, long length, int advice);
}
