using System.Runtime.InteropServices;
using CastoreFs.Platforms.Linux.Interop;

namespace CastoreFs.Platforms.Linux;

/// <summary>Turns a started child into a daemon once it is ready: its own session, no terminal, stdio on /dev/null.</summary>
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
    }
}
