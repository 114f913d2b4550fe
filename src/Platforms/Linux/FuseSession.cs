using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Platforms.Linux.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Platforms.Linux;

/// <summary>
/// Serves a mounted connection: N worker threads, each blocking in read() on its own cloned /dev/fuse fd
/// and replying on the fd the request came from. Ends when the mount goes away (ENODEV).
/// </summary>
public sealed partial class FuseSession : IDisposable
{
    private readonly FuseConnection _connection;
    private readonly ILogger _logger;
    private readonly List<SafeFileHandle> _clones = [];
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private long _splicedReplies;

    private FuseSession(FuseConnection connection, ILogger logger)
    {
        _connection = connection;
        _logger = logger;
    }

    /// <summary>READ replies whose data went from a blob file to the kernel by splice(2), not through our buffers.</summary>
    public long SplicedReplies => Interlocked.Read(ref _splicedReplies);

    /// <summary>Completes when every worker has stopped: the mount was unmounted (here or from outside).</summary>
    public Task Completion => _completed.Task;

    /// <summary>
    /// Starts <paramref name="threads"/> workers serving <paramref name="serverFactory"/>'s server, which
    /// takes the options this transport needs: the backing files for passthrough, and the READ size its
    /// splice pipes hold.
    /// </summary>
    public static FuseSession Start(FuseConnection connection, Func<FuseServerOptions, FuseServer> serverFactory, int threads, bool passthrough, ILogger? logger = null)
    {
        var session = new FuseSession(connection, logger ?? NullLogger.Instance);
        var devices = new List<SafeFileHandle> { connection.Device };
        for (int i = 1; i < Math.Max(1, threads); i++)
        {
            devices.Add(session.Clone() ?? connection.Device);
        }

        var pipes = devices.Select(_ => FuseSplicePipe.TryCreate()).ToArray();
        var server = serverFactory(new FuseServerOptions
        {
            BackingFiles = passthrough && connection.Privileged ? new BackingFiles(connection.Device) : null,
            MaxReadPages = ReadPagesFor(pipes),
        });
        session._running = devices.Count;
        for (int i = 0; i < devices.Count; i++)
        {
            var (device, pipe) = (devices[i], pipes[i]);
            new Thread(() => session.Serve(server, device, pipe)) { IsBackground = true, Name = $"fuse-{i}" }.Start();
        }

        return session;
    }

    /// <summary>Raises the mount's readahead (root only) so that READs grow from 128 KiB to 1 MiB.</summary>
    public void TuneReadAhead(int kib)
    {
        if (!_connection.Privileged || BdiOf(_connection.MountPoint) is not { } bdi)
        {
            return;
        }

        try
        {
            File.WriteAllText($"/sys/class/bdi/{bdi}/read_ahead_kb", kib.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogReadAhead(bdi, e.Message);
        }
    }

    public void Dispose()
    {
        _connection.Unmount();
        if (!Completion.Wait(TimeSpan.FromSeconds(10)))
        {
            LogStuck(_connection.MountPoint);
        }

        _clones.ForEach(c => c.Dispose());
    }

    /// <summary>The mount's device numbers from mountinfo, read without touching the mount itself.</summary>
    private static string? BdiOf(string mountPoint)
    {
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4 && fields[4].Replace("\\040", " ", StringComparison.Ordinal) == mountPoint)
            {
                return fields[2];
            }
        }

        return null;
    }

    private unsafe SafeFileHandle? Clone()
    {
        int fd = Libc.Open("/dev/fuse", Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            // A user mount cannot open /dev/fuse (0600 root); its workers share the one fd.
            return null;
        }

        var clone = new SafeFileHandle(fd, ownsHandle: true);
        uint master = (uint)_connection.Device.DangerousGetHandle();
        if (Libc.Ioctl(fd, Libc.FUSE_DEV_IOC_CLONE, &master) != 0)
        {
            LogCloneFailed(Libc.Describe(Marshal.GetLastPInvokeError()));
            clone.Dispose();
            return null;
        }

        _clones.Add(clone);
        return clone;
    }

    /// <summary>
    /// The READ size to ask for: whole 1 MiB READs, unless the pipes hold only pipe-max-size (1 MiB, 256
    /// buffers; raising it takes CAP_SYS_RESOURCE), where 255 pages and a header fit. Pipes smaller still
    /// splice only the small reads, and leave the size alone.
    /// </summary>
    private static int ReadPagesFor(FuseSplicePipe?[] pipes)
    {
        const int full = FuseServerOptions.MaxRead / 4096;
        int fits = pipes.Min(p => p?.Slots ?? 0) - 1;
        return fits == full - 1 ? fits : full;
    }

    private unsafe void Serve(FuseServer server, SafeFileHandle device, FuseSplicePipe? pipe)
    {
        var request = GC.AllocateUninitializedArray<byte>(FuseServerOptions.RequestBufferSize, pinned: true);
        var reply = FuseServerOptions.AllocateReplyBuffer();
        int fd = (int)device.DangerousGetHandle();
        using var ownedPipe = pipe;
        var fileReply = pipe is { Slots: > 1 } ? new FuseFileReply(pipe.Slots - 1) : null;
        try
        {
            while (true)
            {
                nint n;
                fixed (byte* p = request)
                {
                    n = Libc.Read(fd, p, (nuint)request.Length);
                }

                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno is Libc.EINTR or Libc.ENOENT or Libc.EAGAIN)
                    {
                        // Interrupted, or the request was withdrawn before we read it: read the next one.
                        continue;
                    }

                    if (errno != Libc.ENODEV)
                    {
                        LogReadFailed(Libc.Describe(errno));
                    }

                    return;
                }

                var span = reply.Span;
                var header = span[..FuseServerOptions.OutHeaderSize];
                var payload = span[FuseServerOptions.OutHeaderSize..];
                int length = server.HandleRequest(request.AsSpan(0, (int)n), header, new FuseReplyPayload(payload, fileReply));
                if (fileReply is { IsSet: true })
                {
                    if (SendSpliced(fd, pipe!, header, fileReply.Take(), payload))
                    {
                        continue;
                    }

                    // The file gave fewer bytes than its node says, or a read failed: the copying read
                    // serves the request and reports what went wrong.
                    length = server.HandleRequest(request.AsSpan(0, (int)n), header, new FuseReplyPayload(payload));
                }

                if (length > 0)
                {
                    Send(fd, span[..length]);
                }
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _running) == 0)
            {
                _completed.TrySetResult();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not raise read_ahead_kb of bdi {Bdi}: {Reason}")]
    private partial void LogReadAhead(string bdi, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "FUSE_DEV_IOC_CLONE failed ({Reason}); workers share one fd")]
    private partial void LogCloneFailed(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "reading /dev/fuse failed: {Reason}; this worker stops")]
    private partial void LogReadFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "writing a FUSE reply failed: {Reason}")]
    private partial void LogWriteFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workers of {MountPoint} did not stop within 10 s of unmounting")]
    private partial void LogStuck(string mountPoint);

    /// <summary>Writes a reply on the fd its request came from (a clone's queue knows only its own requests).</summary>
    private unsafe void Send(int fd, ReadOnlySpan<byte> reply)
    {
        fixed (byte* p = reply)
        {
            if (Libc.Write(fd, p, (nuint)reply.Length) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();

                // ENOENT: the request was interrupted and is gone; ENODEV: unmounted meanwhile.
                if (errno is not (Libc.ENOENT or Libc.ENODEV))
                {
                    LogWriteFailed(Libc.Describe(errno));
                }
            }
        }
    }

    /// <summary>Sends a READ reply by splicing; false when it must be served by copying. Completes the range either way.</summary>
    private bool SendSpliced(int fd, FuseSplicePipe pipe, ReadOnlySpan<byte> header, BlobFileRange range, Span<byte> scratch)
    {
        bool sent = false;
        int error = 0;
        try
        {
            sent = pipe.TrySend(fd, header, range.File, range.Offset, range.Count, scratch, out error);
        }
        finally
        {
            range.Complete(sent && error == 0 ? range.Count : 0);
        }

        if (error is not (0 or Libc.ENOENT or Libc.ENODEV))
        {
            LogWriteFailed(Libc.Describe(error));
        }

        if (sent && error == 0)
        {
            Interlocked.Increment(ref _splicedReplies);
        }

        return sent;
    }

    /// <summary>FUSE passthrough backing files, registered on the connection's fd (needs CAP_SYS_ADMIN).</summary>
    private sealed class BackingFiles(SafeFileHandle device) : IFuseBackingFiles
    {
        public unsafe int Open(SafeFileHandle file)
        {
            var map = new Libc.FuseBackingMap { Fd = (int)file.DangerousGetHandle() };
            int id = Libc.Ioctl((int)device.DangerousGetHandle(), Libc.FUSE_DEV_IOC_BACKING_OPEN, &map);
            return id > 0 ? id : -Marshal.GetLastPInvokeError();
        }

        public unsafe int Close(int backingId)
        {
            uint id = (uint)backingId;
            return Libc.Ioctl((int)device.DangerousGetHandle(), Libc.FUSE_DEV_IOC_BACKING_CLOSE, &id) == 0 ? 0 : -Marshal.GetLastPInvokeError();
        }
    }
}
