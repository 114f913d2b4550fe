using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CastoreFs.Core.Fuse;

/// <summary>
/// The FUSE protocol over a <see cref="CastoreFileSystem"/>: takes one request's bytes and writes its
/// reply into the transport's buffers. It knows nothing of where the bytes come from, so /dev/fuse and
/// virtqueues share it. Safe to call from many threads at once.
/// </summary>
public sealed partial class FuseServer
{
    /// <summary>The newest protocol this server speaks (7.45: kernel 6.18).</summary>
    public const uint ProtocolMinor = 45;

    /// <summary>A handler's answer when the request takes no reply (FORGET, BATCH_FORGET).</summary>
    private const int NoReply = int.MinValue;

    private static readonly int InHeaderSize = Unsafe.SizeOf<FuseInHeader>();

    private readonly CastoreFileSystem _fs;
    private readonly FuseServerOptions _options;
    private readonly ILogger _logger;
    private readonly Handler?[] _handlers;
    private readonly BackingFileTable? _backingFiles;
    private readonly long[] _requestCounts = new long[(int)FuseOpcode.Statx + 1];
    private readonly TaskCompletionSource<FuseInitOut> _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _passthrough;
    private int _sessionLive;
    private int _sessions;

    public FuseServer(CastoreFileSystem fs, FuseServerOptions? options = null, ILogger? logger = null)
    {
        _fs = fs;
        _options = options ?? new FuseServerOptions();
        _logger = logger ?? NullLogger.Instance;
        _backingFiles = _options.BackingFiles is { } kernel ? new BackingFileTable(kernel, _logger) : null;
        _handlers = BuildDispatchTable();
    }

    /// <summary>Returns a handler's payload length, or a negative errno.</summary>
    private delegate int Handler(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload);

    /// <summary>Completes with the first INIT reply, once the kernel and this server agree on a protocol.</summary>
    public Task<FuseInitOut> Initialized => _initialized.Task;

    /// <summary>Sessions started (one per INIT agreed): a guest that mounts again, or reboots, starts another.</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>Whether a session is live: from an agreed INIT to DESTROY, or to <see cref="EndSession"/>.</summary>
    public bool SessionLive => Volatile.Read(ref _sessionLive) != 0;

    /// <summary>Whether open hands whole files to the kernel (negotiated at INIT).</summary>
    public bool Passthrough => Volatile.Read(ref _passthrough);

    /// <summary>Nodes whose file the kernel holds for passthrough reads.</summary>
    public int BackingFiles => _backingFiles?.Count ?? 0;

    /// <summary>How many requests with this opcode arrived: shows what the kernel caches and what it asks.</summary>
    public long RequestCount(FuseOpcode opcode) =>
        (uint)opcode < (uint)_requestCounts.Length ? Interlocked.Read(ref _requestCounts[(int)opcode]) : 0;

    /// <summary>Whether the request takes no reply (FORGET, BATCH_FORGET): a transport may give it no room for one.</summary>
    public static bool TakesNoReply(ReadOnlySpan<byte> request) =>
        FuseEncoding.TryRead(request, out FuseInHeader header) && header.Opcode is FuseOpcode.Forget or FuseOpcode.BatchForget;

    /// <summary>
    /// Serves one request. The out header goes to <paramref name="header"/> (16 bytes) and the payload to
    /// <paramref name="payload"/>; returns the reply's length, header included (what a virtqueue's used
    /// element reports), or 0 when the request takes no reply.
    /// </summary>
    public int HandleRequest(ReadOnlySpan<byte> request, Span<byte> header, scoped in FuseReplyPayload payload)
    {
        if (!FuseEncoding.TryRead(request, out FuseInHeader inHeader))
        {
            LogMalformed(request.Length, 0);
            return 0;
        }

        int extensions = inHeader.TotalExtensionLength * 8;
        if (inHeader.Length != request.Length || inHeader.Length < InHeaderSize + extensions)
        {
            LogMalformed(request.Length, inHeader.Unique);
            return Reply(inHeader, -(int)Errno.EINVAL, header);
        }

        var body = request[InHeaderSize..(request.Length - extensions)];
        Handler? handler = null;
        if ((uint)inHeader.Opcode < (uint)_handlers.Length)
        {
            handler = _handlers[(uint)inHeader.Opcode];
            Interlocked.Increment(ref _requestCounts[(uint)inHeader.Opcode]);
        }

        int result;
        try
        {
            // READ is the one reply whose payload is file data: it goes straight into the destination's segments.
            result = inHeader.Opcode == FuseOpcode.Read ? Read(inHeader, body, payload)
                : handler is null ? -(int)Errno.ENOSYS
                : handler(inHeader, body, payload.Span);
            if (result > 0 && payload.IsSegmented && inHeader.Opcode != FuseOpcode.Read)
            {
                payload.Scatter(result);
            }
        }
        catch (Exception e)
        {
            // A bug must not leave the kernel waiting on this request forever: answer EIO and serve on.
            LogCrashed(inHeader.Opcode, inHeader.NodeId, e);
            result = inHeader.Opcode is FuseOpcode.Forget or FuseOpcode.BatchForget ? NoReply : -(int)Errno.EIO;
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            LogRequest(inHeader.Opcode, inHeader.NodeId, inHeader.Unique, result);
        }

        if (result == NoReply)
        {
            return 0;
        }

        if (result < 0 && IsFailure(inHeader.Opcode, (Errno)(-result)))
        {
            LogFailed(inHeader.Opcode, inHeader.NodeId, (Errno)(-result));
        }

        return Reply(inHeader, result, header);
    }

    private static int Reply(in FuseInHeader request, int result, Span<byte> header)
    {
        int length = FuseServerOptions.OutHeaderSize + Math.Max(result, 0);
        var reply = new FuseOutHeader { Length = (uint)length, Error = Math.Min(result, 0), Unique = request.Unique };
        MemoryMarshal.Write(header, in reply);
        return length;
    }

    /// <summary>Answers that are part of normal work, not failures: a missing name, a missing xattr, an operation we don't offer.</summary>
    private static bool IsFailure(FuseOpcode opcode, Errno error) => error switch
    {
        Errno.ENOENT => opcode != FuseOpcode.Lookup,
        Errno.ENODATA or Errno.ENOSYS => false,
        Errno.EROFS => false,
        _ => true,
    };

    /// <summary>Every opcode but READ, whose reply is file data and not built in one piece (see <see cref="HandleRequest"/>).</summary>
    private Handler?[] BuildDispatchTable()
    {
        var table = new Handler?[(int)FuseOpcode.Statx + 1];
        table[(int)FuseOpcode.Init] = Init;
        table[(int)FuseOpcode.Destroy] = Destroy;
        table[(int)FuseOpcode.Lookup] = Lookup;
        table[(int)FuseOpcode.Forget] = Forget;
        table[(int)FuseOpcode.BatchForget] = BatchForget;
        table[(int)FuseOpcode.Getattr] = Getattr;
        table[(int)FuseOpcode.Readlink] = Readlink;
        table[(int)FuseOpcode.Statfs] = Statfs;
        table[(int)FuseOpcode.Getxattr] = Getxattr;
        table[(int)FuseOpcode.Listxattr] = Listxattr;
        table[(int)FuseOpcode.Access] = Access;
        table[(int)FuseOpcode.Open] = Open;
        table[(int)FuseOpcode.Release] = Release;
        table[(int)FuseOpcode.Opendir] = Opendir;
        table[(int)FuseOpcode.Readdir] = Readdir;
        table[(int)FuseOpcode.Readdirplus] = Readdirplus;
        table[(int)FuseOpcode.Releasedir] = Releasedir;
        foreach (var write in (ReadOnlySpan<FuseOpcode>)[
            FuseOpcode.Setattr, FuseOpcode.Symlink, FuseOpcode.Mknod, FuseOpcode.Mkdir, FuseOpcode.Unlink,
            FuseOpcode.Rmdir, FuseOpcode.Rename, FuseOpcode.Link, FuseOpcode.Write, FuseOpcode.Setxattr,
            FuseOpcode.Removexattr, FuseOpcode.Create, FuseOpcode.Fallocate, FuseOpcode.Rename2,
            FuseOpcode.CopyFileRange, FuseOpcode.Tmpfile, FuseOpcode.Setlk, FuseOpcode.Setlkw])
        {
            table[(int)write] = ReadOnly;
        }

        // Everything else (FLUSH, INTERRUPT, STATX, LSEEK, POLL, IOCTL, ...) gets ENOSYS, which the kernel remembers and works around
        // (for FLUSH: no_flush, nothing to flush on a read-only mount).
        return table;
    }

    private static int ReadOnly(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload) => -(int)Errno.EROFS;

    private static int Fail(Errno error) => -(int)error;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Opcode} on node {Node} failed: {Error}")]
    private partial void LogFailed(FuseOpcode opcode, ulong node, Errno error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Opcode} on node {Node} threw; answered EIO")]
    private partial void LogCrashed(FuseOpcode opcode, ulong node, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Opcode} node {Node} unique {Unique} -> {Result}")]
    private partial void LogRequest(FuseOpcode opcode, ulong node, ulong unique, int result);

    [LoggerMessage(Level = LogLevel.Warning, Message = "malformed FUSE request of {Length} bytes (unique {Unique}) refused")]
    private partial void LogMalformed(int length, ulong unique);
}
