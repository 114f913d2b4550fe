using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse.Protocol;

namespace CastoreFs.Core.Fuse;

public sealed partial class FuseServer
{
    private static readonly int DirentSize = Unsafe.SizeOf<FuseDirent>();
    private static readonly int EntryOutSize = Unsafe.SizeOf<FuseEntryOut>();

    private int Opendir(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        var error = _fs.OpenDirectory(header.NodeId, out var handle);
        if (error != Errno.None)
        {
            return Fail(error);
        }

        // CACHE_DIR needs KEEP_CACHE beside it, or each opendir drops the cached listing, as fs/fuse/readdir.c has it.
        var flags = _fs.IsImmutable(header.NodeId) ? FuseOpenOptions.CacheDir | FuseOpenOptions.KeepCache : FuseOpenOptions.None;
        return FuseEncoding.Write(payload, new FuseOpenOut { Fh = handle, OpenFlags = flags });
    }

    private int Releasedir(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (FuseEncoding.TryRead(body, out FuseReleaseIn release))
        {
            _fs.ReleaseDirectory(release.Fh);
        }

        return 0;
    }

    private int Readdir(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload) => ReadDirectory(header, body, payload, plus: false);

    private int Readdirplus(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload) => ReadDirectory(header, body, payload, plus: true);

    /// <summary>
    /// Entries from the offset on, as many as fit. An entry's offset is the index of the next one, so
    /// offsets stay valid across calls; an empty reply ends the directory. Readdirplus counts each entry
    /// it returns as a lookup, so an entry is only taken once it is sure to fit.
    /// </summary>
    private int ReadDirectory(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload, bool plus)
    {
        if (!FuseEncoding.TryRead(body, out FuseReadIn read))
        {
            return Fail(Errno.EINVAL);
        }

        var error = _fs.ReadDirectory(header.NodeId, read.Fh, out var entries);
        if (error != Errno.None)
        {
            return Fail(error);
        }

        var space = payload[..(int)Math.Min(read.Size, (uint)payload.Length)];
        int used = 0;
        for (ulong i = read.Offset; i < (ulong)entries.Count; i++)
        {
            var entry = entries[(int)i];
            var name = entry.Name.Span;
            int fixedSize = (plus ? EntryOutSize : 0) + DirentSize;
            int record = FuseEncoding.Align8(fixedSize + name.Length);
            if (used + record > space.Length)
            {
                break;
            }

            var target = space.Slice(used, record);
            ulong inode;
            if (plus)
            {
                var attributes = _fs.LookupEntry(header.NodeId, entry);
                FuseEncoding.Write(target, FuseEncoding.Entry(attributes));
                inode = attributes.Inode;
            }
            else
            {
                inode = _fs.InodeOf(header.NodeId, entry);
            }

            FuseEncoding.Write(target[(fixedSize - DirentSize)..], new FuseDirent
            {
                Ino = inode,
                Offset = i + 1,
                NameLength = (uint)name.Length,
                Type = FuseEncoding.DirentType(entry.Kind),
            });
            name.CopyTo(target[fixedSize..]);
            target[(fixedSize + name.Length)..].Clear();
            used += record;
        }

        return used;
    }
}
