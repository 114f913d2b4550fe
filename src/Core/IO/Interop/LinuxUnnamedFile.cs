using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.IO.Interop;

/// <summary>
/// open(2) with O_TMPFILE and linkat(2): a file written with no name in its folder and given one later, so
/// making it costs no directory entry and naming it no rename (open(2): "O_TMPFILE ... can be made
/// visible with linkat(2)").
/// </summary>
internal static partial class LinuxUnnamedFile
{
    private const int WriteOnly = 1;
    private const int CloseOnExec = 0x80000;
    private const int CreateMode = 0x1B6; // 0666, less the umask, as .NET creates files
    private const int CurrentDirectory = -100; // AT_FDCWD
    private const int SymlinkFollow = 0x400; // AT_SYMLINK_FOLLOW: the /proc link names the open file itself
    private const int NoEntry = 2; // ENOENT
    private const int Exists = 17; // EEXIST
    private const int IsFolder = 21; // EISDIR
    private const int Invalid = 22; // EINVAL
    private const int NotSupported = 95; // EOPNOTSUPP
    private const int OpenFilesLimit = 7; // RLIMIT_NOFILE

    /// <summary>O_TMPFILE (with O_DIRECTORY, as the kernel's headers define it) differs between x86 and arm.</summary>
    private static int? UnnamedFlags => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x410000,
        Architecture.Arm64 or Architecture.Arm => 0x404000,
        _ => null,
    };

    /// <summary>Linking an open file by its descriptor without CAP_DAC_READ_SEARCH goes through /proc.</summary>
    private static readonly bool s_procFds = OperatingSystem.IsLinux() && System.IO.Directory.Exists("/proc/self/fd");

    /// <summary>
    /// The soft limit on open files (.NET raises it to the hard limit as it starts), or 1024 when unknown:
    /// unnamed files stay open until they are named.
    /// </summary>
    public static long OpenFileLimit { get; } = ReadOpenFileLimit();

    /// <summary>
    /// A new unnamed file in <paramref name="folder"/>, open for writing; null where that is not offered
    /// (another platform, no /proc, or a filesystem without O_TMPFILE).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="IOException">Another failure (EMFILE, ENOSPC, EACCES).</exception>
    public static SafeFileHandle? TryCreate(string folder)
    {
        if (!s_procFds || UnnamedFlags is not { } unnamed)
        {
            return null;
        }

        int fd = Open(folder, unnamed | WriteOnly | CloseOnExec, CreateMode);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            NoEntry => throw new DirectoryNotFoundException($"{folder}: no such folder"),

            // The kernel or the filesystem has no O_TMPFILE.
            IsFolder or NotSupported or Invalid => null,
            _ => throw new IOException($"an unnamed file in {folder}: {Marshal.GetPInvokeErrorMessage(errno)}", errno),
        };
    }

    /// <summary>
    /// Names <paramref name="file"/> <paramref name="path"/>, in the folder it was made in. A file there
    /// already holds the same bytes (it is named by them), and readers may have it open: it is kept.
    /// </summary>
    /// <exception cref="IOException">The link failed (ENOSPC, EIO).</exception>
    public static void Name(SafeFileHandle file, string path)
    {
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            var self = $"/proc/self/fd/{file.DangerousGetHandle()}";
            if (Link(CurrentDirectory, self, CurrentDirectory, path, SymlinkFollow) != 0 && Marshal.GetLastPInvokeError() is var errno and not Exists)
            {
                throw new IOException($"naming {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
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

    private static long ReadOpenFileLimit()
    {
        const long unknown = 1024;
        if (!OperatingSystem.IsLinux())
        {
            return unknown;
        }

        return GetLimit(OpenFilesLimit, out var limit) == 0 ? (long)Math.Min(limit.Soft, (nuint)int.MaxValue) : unknown;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(int oldFolder, string oldPath, int newFolder, string newPath, int flags);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetLimit(int resource, out ResourceLimit limit);

    /// <summary>struct rlimit: two rlim_t, an unsigned long.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public nuint Soft;
        public nuint Hard;
    }
}
