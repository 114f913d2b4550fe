using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse.Protocol;
using CastoreFs.Core.IO;

namespace CastoreFs.Core.Fuse;

public sealed partial class FuseServer
{
    private const uint AccessModeMask = 3; // O_ACCMODE
    private const uint Truncate = 0x200; // O_TRUNC

    private int Open(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (!FuseEncoding.TryRead(body, out FuseOpenIn open))
        {
            return Fail(Errno.EINVAL);
        }

        bool forWriting = (open.Flags & AccessModeMask) != 0 || (open.Flags & Truncate) != 0;
        var error = _fs.CanOpen(header.NodeId, forWriting);
        if (error != Errno.None)
        {
            return Fail(error);
        }

        if (!Passthrough)
        {
            // Without a file to hand to the kernel an open buys nothing but two round trips per file (OPEN,
            // RELEASE). ENOSYS makes the kernel skip both from now on (no_open): READs come with fh 0 and
            // the filesystem opens blobs by inode, and the page cache is kept as with KEEP_CACHE.
            return Fail(Errno.ENOSYS);
        }

        if (PassthroughId(header.NodeId, out error) is int backingId and > 0)
        {
            // The kernel reads the backing file itself and sends no READ; nothing of ours stays open (fh 0).
            // Not with KEEP_CACHE: the kernel fails such an open with EIO.
            return FuseEncoding.Write(payload, new FuseOpenOut { OpenFlags = FuseOpenOptions.Passthrough | FuseOpenOptions.NoFlush, BackingId = backingId });
        }

        if (error != Errno.None)
        {
            return Fail(error);
        }

        // No local file, or the kernel refused it: this open's reads are served here.
        error = _fs.Open(header.NodeId, forWriting, out var handle);
        return error != Errno.None
            ? Fail(error)
            : FuseEncoding.Write(payload, new FuseOpenOut { Fh = handle, OpenFlags = FuseOpenOptions.KeepCache | FuseOpenOptions.NoFlush });
    }

    /// <summary>The node's backing id, registering its local file on first use; 0 when it has none.</summary>
    private int PassthroughId(ulong node, out Errno error)
    {
        error = Errno.None;
        if (_backingFiles!.TryGet(node, out int id))
        {
            return id;
        }

        error = _fs.OpenLocalFile(node, out var file);
        if (file is null)
        {
            return 0;
        }

        using (file)
        {
            id = _backingFiles.Register(node, file);
        }

        if (id > 0 && _fs.GetAttributes(node, out _) == Errno.ENOENT)
        {
            // A FORGET dropped the node meanwhile, before or after the id was kept: it must not outlive the node.
            _backingFiles.Forget(node);
            error = Errno.ENOENT;
            return 0;
        }

        return id;
    }

    private int Read(in FuseInHeader header, ReadOnlySpan<byte> body, scoped in FuseReplyPayload payload)
    {
        if (!FuseEncoding.TryRead(body, out FuseReadIn read))
        {
            return Fail(Errno.EINVAL);
        }

        // An offset past 2^63 is past the end of every file: the read is empty, like any other there.
        long offset = (long)Math.Min(read.Offset, long.MaxValue);
        int size = (int)Math.Min(read.Size, (uint)Math.Min(payload.Capacity, FuseServerOptions.MaxRead));
        int count;
        var error = payload.IsSegmented
            ? _fs.Read(header.NodeId, read.Fh, offset, SegmentsFor(payload.Segments, size, stackalloc BufferSegment[Math.Min(payload.Segments.Length, 1024)]), out count)
            : _fs.Read(header.NodeId, read.Fh, offset, payload.Span[..size], out count);
        return error != Errno.None ? Fail(error) : count;
    }

    /// <summary>The first <paramref name="size"/> bytes of <paramref name="segments"/>, in <paramref name="space"/> when they must be cut.</summary>
    private static ReadOnlySpan<BufferSegment> SegmentsFor(ReadOnlySpan<BufferSegment> segments, int size, Span<BufferSegment> space)
    {
        int count = 0;
        while (size > 0 && count < segments.Length && count < space.Length)
        {
            space[count] = segments[count].Slice(0, size);
            size -= space[count].Length;
            count++;
        }

        return space[..count];
    }

    private int Release(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (!FuseEncoding.TryRead(body, out FuseReleaseIn release))
        {
            return Fail(Errno.EINVAL);
        }

        _fs.Release(release.Fh);
        return 0;
    }
}
