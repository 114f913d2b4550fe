using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse.Protocol;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Core.Fuse;

public sealed partial class FuseServer
{
    /// <summary>
    /// What a read-only, content-addressed tree asks for: parallel and asynchronous reads and lookups,
    /// 1 MiB requests, readdirplus, cached symlinks, and no page-cache invalidation on attribute checks
    /// (content never changes). Never WRITEBACK_CACHE (it turns passthrough off) or EXPORT_SUPPORT.
    /// </summary>
    private const FuseCapabilities Wanted =
        FuseCapabilities.AsyncRead | FuseCapabilities.ParallelDirops | FuseCapabilities.MaxPages | FuseCapabilities.CacheSymlinks
        | FuseCapabilities.DoReaddirplus | FuseCapabilities.ReaddirplusAuto | FuseCapabilities.ExplicitInvalData | FuseCapabilities.InitExt;

    private int Init(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        // Kernels before 7.36 send only the first four fields.
        if (body.Length < 16)
        {
            return Fail(Errno.EINVAL);
        }

        var init = FuseEncoding.TryRead(body, out FuseInitIn full) ? full : new FuseInitIn
        {
            Major = BitConverter.ToUInt32(body),
            Minor = BitConverter.ToUInt32(body[4..]),
            MaxReadahead = BitConverter.ToUInt32(body[8..]),
            Flags = BitConverter.ToUInt32(body[12..]),
        };
        if (init.Major < 7)
        {
            return Fail(Errno.EPROTO);
        }

        if (init.Major > 7)
        {
            // Answer with our major only; the kernel then sends INIT again for 7.x.
            return FuseEncoding.Write(payload, new FuseInitOut { Major = 7, Minor = ProtocolMinor });
        }

        var offered = (FuseCapabilities)init.Flags;
        if (offered.HasFlag(FuseCapabilities.InitExt))
        {
            offered |= (FuseCapabilities)((ulong)init.Flags2 << 32);
        }

        if (Interlocked.Exchange(ref _sessionLive, 0) != 0)
        {
            // INIT with a session live: the kernel on the other side was reset (a guest rebooted) and holds nothing of it.
            LogRestarted();
            ForgetSession();
        }

        var wanted = Wanted | (_options.BackingFiles is null ? FuseCapabilities.None : FuseCapabilities.Passthrough);
        var granted = offered & wanted;
        bool passthrough = granted.HasFlag(FuseCapabilities.Passthrough);
        var reply = new FuseInitOut
        {
            Major = 7,
            Minor = Math.Min(init.Minor, ProtocolMinor),
            MaxReadahead = init.MaxReadahead,
            Flags = (uint)granted,
            Flags2 = (uint)((ulong)granted >> 32),
            MaxBackground = 64,
            CongestionThreshold = 48,
            MaxWrite = FuseServerOptions.MaxWrite,
            TimeGranularity = 1,
            MaxPages = (ushort)_options.MaxReadPages,
            MaxStackDepth = passthrough ? 1u : 0u,
        };
        Volatile.Write(ref _passthrough, passthrough);
        Interlocked.Increment(ref _sessions);
        Volatile.Write(ref _sessionLive, 1);
        LogInit(init.Major, init.Minor, init.Flags, init.Flags2, reply.Minor, (ulong)granted);
        _initialized.TrySetResult(reply);

        // Before 7.23 the kernel takes the 24-byte reply.
        int length = FuseEncoding.Write(payload, reply);
        return reply.Minor < 23 ? 24 : length;
    }

    private int Destroy(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        EndSession();
        return 0;
    }

    /// <summary>
    /// Ends the live session, as DESTROY does: every node, handle and backing file the kernel held is
    /// dropped. For a transport whose peer went away without DESTROY (a front-end that disconnected).
    /// </summary>
    public void EndSession()
    {
        if (Interlocked.Exchange(ref _sessionLive, 0) != 0)
        {
            LogEnded();
            ForgetSession();
        }
    }

    private void ForgetSession()
    {
        _backingFiles?.ForgetAll();
        _fs.ForgetAll();
        Volatile.Write(ref _passthrough, false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "FUSE session ended: every node and handle of it dropped")]
    private partial void LogEnded();

    [LoggerMessage(Level = LogLevel.Warning, Message = "FUSE INIT while a session was live (the kernel was reset): the old session's nodes and handles are dropped")]
    private partial void LogRestarted();

    [LoggerMessage(Level = LogLevel.Information, Message = "FUSE INIT: kernel {Major}.{Minor} flags 0x{Flags:x} flags2 0x{Flags2:x}; agreed 7.{Agreed}, flags 0x{Granted:x}")]
    private partial void LogInit(uint major, uint minor, uint flags, uint flags2, uint agreed, ulong granted);
}
