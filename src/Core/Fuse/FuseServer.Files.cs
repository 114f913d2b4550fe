using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse.Protocol;

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

        error = _fs.Open(header.NodeId, forWriting, out var handle, out var wholeFile);
        if (error != Errno.None)
        {
            return Fail(error);
        }

        if (wholeFile is not null && _options.BackingFiles!.TryOpen(wholeFile, out int backingId))
        {
            // Not with KEEP_CACHE: the kernel fails such an open with EIO (fuse.md §1.6).
            _backingIds[handle] = backingId;
            return FuseEncoding.Write(payload, new FuseOpenOut { Fh = handle, OpenFlags = FuseOpenOptions.Passthrough | FuseOpenOptions.NoFlush, BackingId = backingId });
        }

        return FuseEncoding.Write(payload, new FuseOpenOut { Fh = handle, OpenFlags = FuseOpenOptions.KeepCache | FuseOpenOptions.NoFlush });
    }

    private int Read(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (!FuseEncoding.TryRead(body, out FuseReadIn read) || read.Offset > long.MaxValue)
        {
            return Fail(Errno.EINVAL);
        }

        var error = _fs.Read(header.NodeId, read.Fh, (long)read.Offset, payload[..(int)Math.Min(read.Size, (uint)payload.Length)], out int count);
        return error != Errno.None ? Fail(error) : count;
    }

    private int Release(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (!FuseEncoding.TryRead(body, out FuseReleaseIn release))
        {
            return Fail(Errno.EINVAL);
        }

        if (_backingIds.TryRemove(release.Fh, out int backingId))
        {
            _options.BackingFiles!.Close(backingId);
        }

        _fs.Release(release.Fh);
        return 0;
    }
}
