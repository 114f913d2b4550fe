using System.Runtime.InteropServices;
using CastoreFs.Platforms.Linux.Interop;

namespace CastoreFs.Platforms.Linux;

/// <summary>
/// Turns a started child into a daemon once it is ready: its own session, no terminal, stdio on
/// /dev/null, and none of the descriptors it inherited (a caller waiting for the end of a pipe would
/// otherwise wait for the daemon).
/// </summary>
public static class DaemonProcess
{
    public static void Detach()
    {
        // Fails only for a process group leader, which a freshly started child is not.
        _ = Libc.SetSid();
        using var devNull = File.Open("/dev/null", FileMode.Open, FileAccess.ReadWrite);
        int fd = (int)devNull.SafeFileHandle.DangerousGetHandle();
        for (int std = 0; std <= 2; std++)
        {
            if (Libc.Dup2(fd, std) < 0)
            {
                throw new IOException($"dup2: {Libc.Describe(Marshal.GetLastPInvokeError())}");
            }
        }

        CloseInherited();
    }

    /// <summary>Closes descriptors above stdio not marked close-on-exec: those were inherited, as everything this process opens is.</summary>
    private static void CloseInherited()
    {
        var inherited = new List<int>();
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), out int fd) && fd > 2)
            {
                int flags = Libc.Fcntl(fd, Libc.F_GETFD, 0);
                if (flags >= 0 && (flags & Libc.FD_CLOEXEC) == 0)
                {
                    inherited.Add(fd);
                }
            }
        }

        inherited.ForEach(fd => Libc.Close(fd));
    }
}
