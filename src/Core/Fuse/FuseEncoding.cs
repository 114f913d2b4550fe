using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse.Protocol;

namespace CastoreFs.Core.Fuse;

/// <summary>
/// Reading request bodies and writing reply payloads, without allocation. Struct sizes are
/// <see cref="Unsafe.SizeOf{T}"/>, a constant to the JIT: the structs are blittable and sequential, so it
/// equals the marshalled size without a runtime lookup on every request.
/// </summary>
internal static class FuseEncoding
{
    /// <summary>
    /// How long the kernel may trust a name or attributes: content never changes for a node number, so a
    /// year (the kernel converts to jiffies; anything below 2^31 s is safe).
    /// </summary>
    public const ulong ValidSeconds = 365UL * 24 * 3600;

    public static bool TryRead<T>(ReadOnlySpan<byte> body, out T value)
        where T : unmanaged
    {
        if (body.Length < Unsafe.SizeOf<T>())
        {
            value = default;
            return false;
        }

        value = MemoryMarshal.Read<T>(body);
        return true;
    }

    public static int Write<T>(Span<byte> payload, in T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(payload, in value);
        return Unsafe.SizeOf<T>();
    }

    /// <summary>A NUL-terminated name at the start of a body (without its NUL), or empty when there is no NUL.</summary>
    public static ReadOnlySpan<byte> Name(ReadOnlySpan<byte> body)
    {
        int end = body.IndexOf((byte)0);
        return end < 0 ? [] : body[..end];
    }

    public static FuseAttr Attr(in NodeAttributes a) => new()
    {
        Ino = a.Inode,
        Size = a.Size,
        Blocks = (a.Size + 511) / 512,
        Atime = NodeAttributes.Time,
        Mtime = NodeAttributes.Time,
        Ctime = NodeAttributes.Time,
        Mode = a.Mode,
        Nlink = NodeAttributes.LinkCount,
        BlockSize = 4096,
    };

    public static FuseEntryOut Entry(in NodeAttributes a) => new()
    {
        NodeId = a.Inode,
        EntryValid = ValidSeconds,
        AttrValid = ValidSeconds,
        Attr = Attr(a),
    };

    /// <summary>The DT_* type of a directory entry.</summary>
    public static uint DirentType(NodeKind kind) => kind switch
    {
        NodeKind.Directory => 4,
        NodeKind.Symlink => 10,
        _ => 8,
    };

    public static int Align8(int length) => (length + 7) & ~7;
}
