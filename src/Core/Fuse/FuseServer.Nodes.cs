using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse.Protocol;

namespace CastoreFs.Core.Fuse;

public sealed partial class FuseServer
{
    private int Lookup(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        var error = _fs.Lookup(header.NodeId, FuseEncoding.Name(body), out var attributes);
        if (error == Errno.ENOENT && _fs.IsImmutable(header.NodeId))
        {
            // A name missing from an immutable directory stays missing: a negative entry lets the kernel cache that.
            return FuseEncoding.Write(payload, new FuseEntryOut { EntryValid = FuseEncoding.ValidSeconds });
        }

        return error != Errno.None ? Fail(error) : FuseEncoding.Write(payload, FuseEncoding.Entry(attributes));
    }

    private int Forget(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (FuseEncoding.TryRead(body, out FuseForgetIn forget))
        {
            Forget(header.NodeId, forget.Nlookup);
        }

        return NoReply;
    }

    private int BatchForget(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (!FuseEncoding.TryRead(body, out FuseBatchForgetIn batch))
        {
            return NoReply;
        }

        const int one = 16;
        var items = body[8..];
        int count = (int)Math.Min(batch.Count, (uint)(items.Length / one));
        for (int i = 0; i < count; i++)
        {
            FuseEncoding.TryRead(items[(i * one)..], out FuseForgetOne forget);
            Forget(forget.NodeId, forget.Nlookup);
        }

        return NoReply;
    }

    /// <summary>What the tree drops, the kernel no longer reads from either.</summary>
    private void Forget(ulong node, ulong lookups)
    {
        if (_fs.Forget(node, lookups))
        {
            _backingFiles?.Forget(node);
        }
    }

    private int Getattr(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        var error = _fs.GetAttributes(header.NodeId, out var attributes);
        return error != Errno.None
            ? Fail(error)
            : FuseEncoding.Write(payload, new FuseAttrOut { AttrValid = FuseEncoding.ValidSeconds, Attr = FuseEncoding.Attr(attributes) });
    }

    private int Readlink(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        var error = _fs.ReadLink(header.NodeId, out var target);
        if (error != Errno.None)
        {
            return Fail(error);
        }

        target.Span.CopyTo(payload);
        return target.Length;
    }

    private int Statfs(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        var stats = _fs.GetStatistics();
        return FuseEncoding.Write(payload, new FuseKstatfs
        {
            Files = stats.Inodes,
            BlockSize = stats.BlockSize,
            FragmentSize = stats.BlockSize,
            NameLength = stats.MaxNameLength,
        });
    }

    private int Getxattr(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (!FuseEncoding.TryRead(body, out FuseGetxattrIn request))
        {
            return Fail(Errno.EINVAL);
        }

        var error = _fs.GetExtendedAttribute(header.NodeId, FuseEncoding.Name(body[8..]), out var value);
        return error != Errno.None ? Fail(error) : XattrReply(request.Size, value, payload);
    }

    private int Listxattr(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (!FuseEncoding.TryRead(body, out FuseGetxattrIn request))
        {
            return Fail(Errno.EINVAL);
        }

        var error = _fs.ListExtendedAttributes(header.NodeId, out var names);
        return error != Errno.None ? Fail(error) : XattrReply(request.Size, names, payload);
    }

    /// <summary>Size 0 asks how long the value is; a buffer too short for it is ERANGE.</summary>
    private static int XattrReply(uint size, byte[] value, Span<byte> payload)
    {
        if (size == 0)
        {
            return FuseEncoding.Write(payload, new FuseGetxattrOut { Size = (uint)value.Length });
        }

        if (size < value.Length || payload.Length < value.Length)
        {
            return Fail(Errno.ERANGE);
        }

        value.CopyTo(payload);
        return value.Length;
    }

    private int Access(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        const uint writeOk = 2;
        if (!FuseEncoding.TryRead(body, out FuseAccessIn access))
        {
            return Fail(Errno.EINVAL);
        }

        var error = _fs.GetAttributes(header.NodeId, out _);
        return error != Errno.None ? Fail(error) : (access.Mask & writeOk) != 0 ? Fail(Errno.EROFS) : 0;
    }
}
