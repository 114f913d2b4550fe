using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.IO.Interop;

/// <summary>open(2) with O_DIRECT, which .NET's FileOptions cannot ask for.</summary>
internal static partial class LinuxDirectOpen
{
    private const int WriteOnly = 1;
    private const int CloseOnExec = 0x80000;

    /// <summary>O_DIRECT differs between architectures (asm-generic and x86 against arm).</summary>
    private static int? Direct => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x4000,
        Architecture.Arm64 or Architecture.Arm => 0x10000,
        _ => null,
    };

    /// <summary>
    /// An existing file opened for writes that bypass the page cache, or null where that is not offered
    /// (another platform, or a filesystem that refuses O_DIRECT).
    /// </summary>
    public static SafeFileHandle? TryOpenForWriting(string path)
    {
        if (!OperatingSystem.IsLinux() || Direct is not { } direct)
        {
            return null;
        }

        int fd = Open(path, WriteOnly | CloseOnExec | direct);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
