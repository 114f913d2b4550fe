using System.Diagnostics;
using System.Runtime.InteropServices;
using CastoreFs.Platforms.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Platforms.Linux;

/// <summary>
/// A mounted FUSE connection: the /dev/fuse fd and the mount point. Mounts with mount(2) as root, and
/// through the setuid fusermount3 otherwise (it mounts and passes the fd back over a socket).
/// </summary>
public sealed class FuseConnection : IDisposable
{
    private int _unmounted;

    private FuseConnection(SafeFileHandle device, string mountPoint, bool privileged)
    {
        Device = device;
        MountPoint = mountPoint;
        Privileged = privileged;
    }

    public SafeFileHandle Device { get; }

    public string MountPoint { get; }

    /// <summary>Mounted by mount(2) as root: passthrough and readahead tuning are possible.</summary>
    public bool Privileged { get; }

    public static bool IsRoot => Libc.GetEffectiveUserId() == 0;

    /// <summary>Mounts read-only, nosuid, nodev. INIT is queued on the returned fd; serve it before touching the mount point.</summary>
    public static FuseConnection Mount(string mountPoint, LinuxMountOptions options)
    {
        mountPoint = Path.GetFullPath(mountPoint);
        if (!Directory.Exists(mountPoint))
        {
            throw new IOException($"{mountPoint}: the mount point is not a directory (or is a dead mount: try 'umount -l {mountPoint}')");
        }

        return IsRoot ? MountAsRoot(mountPoint, options) : MountWithFusermount(mountPoint, options);
    }

    /// <summary>Detaches the mount; the workers' next read gets ENODEV and they finish. Safe to call twice.</summary>
    public void Unmount()
    {
        if (Interlocked.Exchange(ref _unmounted, 1) != 0)
        {
            return;
        }

        if (Privileged)
        {
            if (Libc.Umount2(MountPoint, Libc.MNT_DETACH) != 0 && Marshal.GetLastPInvokeError() is not (Libc.EINVAL or Libc.ENOENT))
            {
                throw new IOException($"umount {MountPoint}: {Libc.Describe(Marshal.GetLastPInvokeError())}");
            }

            return;
        }

        using var fusermount = Process.Start(new ProcessStartInfo("fusermount3", ["-u", "-z", "--", MountPoint]) { RedirectStandardError = true })!;
        fusermount.StandardError.ReadToEnd();
        fusermount.WaitForExit();
    }

    public void Dispose()
    {
        Unmount();
        Device.Dispose();
    }

    private static FuseConnection MountAsRoot(string mountPoint, LinuxMountOptions options)
    {
        int fd = Libc.Open("/dev/fuse", Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"/dev/fuse: {Libc.Describe(Marshal.GetLastPInvokeError())}");
        }

        var device = new SafeFileHandle(fd, ownsHandle: true);
        var data = $"fd={fd},rootmode=40000,user_id={Libc.GetEffectiveUserId()},group_id={Libc.GetEffectiveGroupId()},default_permissions"
            + (options.AllowOther ? ",allow_other" : string.Empty);
        if (Libc.Mount(options.FileSystemName, mountPoint, "fuse." + options.FileSystemName, Libc.MS_RDONLY | Libc.MS_NOSUID | Libc.MS_NODEV, data) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            device.Dispose();
            throw new IOException($"mount {mountPoint}: {Libc.Describe(errno)}");
        }

        return new FuseConnection(device, mountPoint, privileged: true);
    }

    private static unsafe FuseConnection MountWithFusermount(string mountPoint, LinuxMountOptions options)
    {
        int* pair = stackalloc int[2];
        if (Libc.SocketPair(Libc.AF_UNIX, Libc.SOCK_STREAM, 0, pair) != 0)
        {
            throw new IOException($"socketpair: {Libc.Describe(Marshal.GetLastPInvokeError())}");
        }

        using var ours = new SafeFileHandle(pair[0], ownsHandle: true);
        using (new SafeFileHandle(pair[1], ownsHandle: true))
        {
            var start = new ProcessStartInfo("fusermount3")
            {
                ArgumentList =
                {
                    "-o", $"ro,nosuid,nodev,fsname={options.FileSystemName},subtype={options.FileSystemName},default_permissions"
                        + (options.AllowOther ? ",allow_other" : string.Empty),
                    "--", mountPoint,
                },
                RedirectStandardError = true,
            };

            // fusermount3 inherits the socket's other end (no CLOEXEC) and sends the /dev/fuse fd over it.
            start.Environment["_FUSE_COMMFD"] = pair[1].ToString(System.Globalization.CultureInfo.InvariantCulture);
            Process fusermount;
            try
            {
                fusermount = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new IOException($"mounting {mountPoint} as a user needs fusermount3 (apt install fuse3): {e.Message}", e);
            }

            using (fusermount)
            {
                var error = fusermount.StandardError.ReadToEnd();
                fusermount.WaitForExit();
                if (fusermount.ExitCode != 0)
                {
                    throw new IOException($"fusermount3 could not mount {mountPoint}: {error.Trim()}");
                }
            }
        }

        int fd = ReceiveFd(ours);
        return new FuseConnection(new SafeFileHandle(fd, ownsHandle: true), mountPoint, privileged: false);
    }

    private static unsafe int ReceiveFd(SafeFileHandle socket)
    {
        byte data;
        var control = stackalloc byte[64];
        var iov = new Libc.IoVector { Base = &data, Length = 1 };
        var message = new Libc.MessageHeader { Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
        nint n;
        do
        {
            n = Libc.RecvMsg((int)socket.DangerousGetHandle(), &message, 0);
        }
        while (n < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);

        // struct cmsghdr { size_t len; int level; int type; } then the fd.
        if (n <= 0 || message.ControlLength < 20 || *(int*)(control + 8) != Libc.SOL_SOCKET || *(int*)(control + 12) != Libc.SCM_RIGHTS)
        {
            throw new IOException("fusermount3 mounted but passed no /dev/fuse descriptor back");
        }

        // Like every descriptor we open, not inherited by programs we start.
        int fd = *(int*)(control + 16);
        _ = Libc.Fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC);
        return fd;
    }
}
