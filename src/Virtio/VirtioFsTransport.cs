using System.Runtime.InteropServices;
using System.Text;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.Hosting;
using CastoreFs.Virtio.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CastoreFs.Virtio;

/// <summary>
/// The tree served to a guest through vhost-user-fs: listens on a Unix socket, where QEMU connects as the
/// front-end, and serves one front-end at a time. Live once it listens (QEMU must find the socket when it
/// starts). When the front-end disconnects it ends, as virtiofsd does, or with
/// <see cref="VirtioFsOptions.KeepListening"/> waits for the next one.
/// </summary>
public sealed partial class VirtioFsTransport : IMountTransport
{
    private readonly string _socketPath;
    private readonly VirtioFsOptions _options;
    private readonly ILogger _logger;
    private readonly int _listener;
    private readonly int _stop = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
    private readonly Thread _thread;
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private VhostUserChannel? _channel;
    private VhostUserFsDevice? _device;
    private volatile bool _stopping;
    private long _malformed;

    private VirtioFsTransport(string socketPath, int listener, FuseServer server, VirtioFsOptions options, ILogger logger)
    {
        _socketPath = socketPath;
        _listener = listener;
        Server = server;
        _options = options;
        _logger = logger;
        _thread = new Thread(Serve) { IsBackground = true, Name = "vhost-user" };
        _thread.Start();
    }

    public FuseServer Server { get; }

    public string SocketPath => _socketPath;

    /// <summary>Chains refused as malformed, over every connection.</summary>
    public long Malformed => Interlocked.Read(ref _malformed) + (Volatile.Read(ref _device)?.Malformed ?? 0);

    public Task Live => Task.CompletedTask;

    public Task Completion => _completed.Task;

    public string Report =>
        $"castorefs: serving virtiofs on {_socketPath}; start QEMU with -chardev socket,id=castorefs,path={_socketPath} "
        + "-device vhost-user-fs-pci,chardev=castorefs,tag=store (and shared memory); stop with Ctrl-C";

    /// <summary>Listens on <paramref name="socketPath"/> (a stale socket file there is replaced).</summary>
    public static VirtioFsTransport Start(CastoreFileSystem fs, string socketPath, VirtioFsOptions? options = null, ILoggerFactory? logging = null)
    {
        logging ??= NullLoggerFactory.Instance;
        options ??= new VirtioFsOptions();
        socketPath = Path.GetFullPath(socketPath);
        var server = new FuseServer(fs, new FuseServerOptions(), logging.CreateLogger("castorefs.fuse"));
        int listener = Listen(socketPath);
        return new VirtioFsTransport(socketPath, listener, server, options, logging.CreateLogger("castorefs.virtio"));
    }

    private static unsafe int Listen(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= 108)
        {
            throw new IOException($"{path}: a socket path must be shorter than 108 bytes");
        }

        var address = new Libc.SockAddrUnix { Family = Libc.AF_UNIX };
        bytes.CopyTo(new Span<byte>(address.Path, 108));
        uint length = (uint)(2 + bytes.Length + 1);
        int fd = NewSocket();
        if (Libc.Bind(fd, &address, length) != 0 && Marshal.GetLastPInvokeError() == Libc.EADDRINUSE)
        {
            // A socket file is there: an earlier run's (nobody accepts on it) is replaced, a live one is not.
            int probe = NewSocket();
            bool live = Libc.Connect(probe, &address, length) == 0;
            int errno = Marshal.GetLastPInvokeError();
            Libc.Close(probe);
            if (live || errno != Libc.ECONNREFUSED)
            {
                Libc.Close(fd);
                throw new IOException($"{path}: in use{(live ? " by a running back-end" : string.Empty)}");
            }

            File.Delete(path);
            Libc.Bind(fd, &address, length);
        }

        if (Libc.Listen(fd, 1) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Libc.Close(fd);
            throw new IOException($"{path}: cannot listen: {Libc.Describe(errno)}");
        }

        return fd;
    }

    private static int NewSocket()
    {
        int fd = Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        return fd >= 0 ? fd : throw new IOException($"socket: {Libc.Describe(Marshal.GetLastPInvokeError())}");
    }

    private unsafe void Serve()
    {
        var fds = stackalloc Libc.PollFd[2];
        try
        {
            while (!_stopping)
            {
                fds[0] = new Libc.PollFd { Fd = _listener, Events = Libc.POLLIN };
                fds[1] = new Libc.PollFd { Fd = _stop, Events = Libc.POLLIN };
                if (Libc.Poll(fds, 2, -1) < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Libc.EINTR)
                    {
                        continue;
                    }

                    throw new IOException($"poll: {Libc.Describe(Marshal.GetLastPInvokeError())}");
                }

                if (_stopping || (fds[0].Revents & Libc.POLLIN) == 0)
                {
                    continue;
                }

                int socket = Libc.Accept4(_listener, null, null, Libc.SOCK_CLOEXEC);
                if (socket < 0)
                {
                    continue;
                }

                LogConnected(_socketPath);
                using (var channel = new VhostUserChannel(socket))
                {
                    lock (_lock)
                    {
                        _channel = channel;
                    }

                    using (var device = new VhostUserFsDevice(channel, Server, _options.Threads, _logger))
                    {
                        Volatile.Write(ref _device, device);
                        if (!_stopping)
                        {
                            device.Run();
                        }

                        device.Dispose();
                        Interlocked.Add(ref _malformed, device.Malformed);
                        Volatile.Write(ref _device, null);
                    }

                    lock (_lock)
                    {
                        _channel = null;
                    }
                }

                // The guest that held the session is gone with its front-end.
                Server.EndSession();
                if (!_options.KeepListening)
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            LogFailed(e);
            _completed.TrySetException(e);
        }
        finally
        {
            _completed.TrySetResult();
        }
    }

    /// <summary>Disconnects the front-end, stops every worker, and removes the socket.</summary>
    public void Dispose()
    {
        _stopping = true;
        Libc.Signal(_stop);
        lock (_lock)
        {
            _channel?.Shutdown();
        }

        _thread.Join();
        Libc.Close(_listener);
        Libc.Close(_stop);
        try
        {
            File.Delete(_socketPath);
        }
        catch (IOException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user front-end connected on {Path}")]
    private partial void LogConnected(string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "the vhost-user listener failed")]
    private partial void LogFailed(Exception exception);
}
