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
        Errno error;
        int count;
        if (!payload.IsSegmented)
        {
            var destination = payload.Span[..size];
            if (payload.FileReply is { } fileReply && fileReply.Fits(offset, size))
            {
                error = _fs.ReadOrRange(header.NodeId, read.Fh, offset, destination, out var range, out count);
                if (!range.IsEmpty)
                {
                    fileReply.Set(range);
                }
            }
            else
            {
                error = _fs.Read(header.NodeId, read.Fh, offset, destination, out count);
            }

            return error != Errno.None ? Fail(error) : count;
        }

        // Usually the guest gives exactly the pages it asks for, and the segments are taken as they are;
        // a read that ends inside a segment takes a copy of the list with that one cut.
        int whole = WholeSegments(payload.Segments, size, out int rest);
        scoped var segments = payload.Segments[..whole];
        if (rest > 0)
        {
            Span<BufferSegment> cut = stackalloc BufferSegment[whole + 1];
            segments.CopyTo(cut);
            cut[whole] = payload.Segments[whole].Slice(0, rest);
            segments = cut;
        }

        error = _fs.Read(header.NodeId, read.Fh, offset, segments, out count);
        return error != Errno.None ? Fail(error) : count;
    }

    /// <summary>How many segments the first <paramref name="size"/> bytes fill whole, and what is left for the next one.</summary>
    private static int WholeSegments(ReadOnlySpan<BufferSegment> segments, int size, out int rest)
    {
        int whole = 0;
        while (whole < segments.Length && segments[whole].Length <= size)
        {
            size -= segments[whole].Length;
            whole++;
        }

        rest = whole < segments.Length ? size : 0;
        return whole;
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
