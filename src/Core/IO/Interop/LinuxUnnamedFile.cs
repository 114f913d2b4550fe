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
    private const int EmptyPath = 0x1000; // AT_EMPTY_PATH: the descriptor itself is the file to link
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
    /// Set once linkat(2) has refused AT_EMPTY_PATH (ENOENT) where the /proc link worked. Older kernels let
    /// only callers with CAP_DAC_READ_SEARCH link a descriptor itself; newer ones also the credentials that
    /// opened it (6.18 did, for an unprivileged user). Each /proc link costs a walk of four names through procfs.
    /// </summary>
    private static bool s_emptyPathRefused;

    /// <summary>
    /// The soft limit on open files (.NET raises it to the hard limit as it starts), or 1024 when unknown:
    /// unnamed files stay open until they are named.
    /// </summary>
    public static long OpenFileLimit { get; } = ReadOpenFileLimit();

    /// <summary>
    /// A new unnamed file in <paramref name="folder"/>, open for writing, to be named <paramref name="path"/>
    /// (which errors name); null where that is not offered (another platform, no /proc, or a filesystem
    /// without O_TMPFILE).
    /// </summary>
    /// <exception cref="IOException">The folder is gone, or another failure (EMFILE, ENOSPC, EACCES).</exception>
    public static SafeFileHandle? TryCreate(SafeFileHandle folder, string path)
    {
        if (!s_procFds || UnnamedFlags is not { } unnamed)
        {
            return null;
        }

        int fd;
        bool added = false;
        try
        {
            folder.DangerousAddRef(ref added);
            fd = OpenAt((int)folder.DangerousGetHandle(), ".", unnamed | WriteOnly | CloseOnExec, CreateMode);
        }
        finally
        {
            if (added)
            {
                folder.DangerousRelease();
            }
        }

        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            // The kernel or the filesystem has no O_TMPFILE.
            IsFolder or NotSupported or Invalid => null,
            _ => throw new IOException($"an unnamed file for {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno),
        };
    }

    /// <summary>
    /// Names <paramref name="file"/> <paramref name="name"/> in <paramref name="folder"/> (the folder it was
    /// made in; <paramref name="path"/> is that name in full, for errors). A file there already holds the
    /// same bytes (it is named by them), and readers may have it open: it is kept.
    /// </summary>
    /// <exception cref="IOException">The link failed (ENOSPC, EIO).</exception>
    public static void Name(SafeFileHandle file, SafeFileHandle folder, string name, string path)
    {
        bool fileAdded = false, folderAdded = false;
        try
        {
            file.DangerousAddRef(ref fileAdded);
            folder.DangerousAddRef(ref folderAdded);
            int fd = (int)file.DangerousGetHandle(), dirfd = (int)folder.DangerousGetHandle();
            int errno = Volatile.Read(ref s_emptyPathRefused) ? NoEntry : LinkError(fd, string.Empty, dirfd, name, EmptyPath);
            if (errno == NoEntry)
            {
                errno = LinkError(CurrentDirectory, $"/proc/self/fd/{fd}", dirfd, name, SymlinkFollow);
                if (errno is 0 or Exists)
                {
                    Volatile.Write(ref s_emptyPathRefused, true);
                }
            }

            if (errno is not (0 or Exists))
            {
                throw new IOException($"naming {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
        }
        finally
        {
            if (folderAdded)
            {
                folder.DangerousRelease();
            }

            if (fileAdded)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>linkat(2), and 0 or the errno it failed with.</summary>
    private static int LinkError(int oldFolder, string oldPath, int newFolder, string newPath, int flags) =>
        Link(oldFolder, oldPath, newFolder, newPath, flags) == 0 ? 0 : Marshal.GetLastPInvokeError();

    private static long ReadOpenFileLimit()
    {
        const long unknown = 1024;
        if (!OperatingSystem.IsLinux())
        {
            return unknown;
        }

        return GetLimit(OpenFilesLimit, out var limit) == 0 ? (long)Math.Min(limit.Soft, (nuint)int.MaxValue) : unknown;
    }

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAt(int folder, string path, int flags, int mode);

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
