using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CastoreFs.Platforms.Linux;

/// <summary>The tree mounted through /dev/fuse: a connection, its FUSE server and the workers that serve it.</summary>
public sealed class FuseMount : IMountTransport
{
    private readonly FuseConnection _connection;
    private readonly FuseSession _session;

    private FuseMount(FuseConnection connection, FuseSession session, FuseServer server, LinuxMountOptions options)
    {
        _connection = connection;
        _session = session;
        Server = server;
        Live = server.Initialized.ContinueWith(_ => session.TuneReadAhead(options.ReadAheadKiB), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    public FuseServer Server { get; }

    public string MountPoint => _connection.MountPoint;

    public Task Live { get; }

    public Task Completion => _session.Completion;

    /// <summary>READ replies spliced from blob files rather than copied (see <see cref="FuseSession.SplicedReplies"/>).</summary>
    public long SplicedReplies => _session.SplicedReplies;

    public string Report
    {
        get
        {
            var how = _connection.Privileged ? $"umount {MountPoint}" : $"fusermount3 -u {MountPoint}";
            return $"castorefs: mounted at {MountPoint}{(Server.Passthrough ? " (passthrough)" : string.Empty)}; unmount with '{how}' or Ctrl-C";
        }
    }

    /// <summary>Mounts <paramref name="fs"/> on <paramref name="mountPoint"/> and starts serving it; live once the kernel's INIT is answered.</summary>
    public static FuseMount Start(CastoreFileSystem fs, string mountPoint, LinuxMountOptions options, ILoggerFactory? logging = null)
    {
        logging ??= NullLoggerFactory.Instance;
        var connection = FuseConnection.Mount(mountPoint, options);
        FuseServer? server = null;
        var session = FuseSession.Start(
            connection,
            serverOptions => server = new FuseServer(fs, serverOptions, logging.CreateLogger("castorefs.fuse")),
            options.Threads,
            options.Passthrough,
            logging.CreateLogger("castorefs.linux"));
        return new FuseMount(connection, session, server!, options);
    }

    /// <summary>Unmounts and waits for the workers.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _connection.Dispose();
    }
}
