using CastoreFs.Core.Digests;
using Google.Protobuf;
using Snix.Castore.V1;

namespace CastoreFs.Core.Filesystem;

/// <summary>A node the kernel may hold references to, shared by every name with the same content.</summary>
internal sealed class Inode
{
    private DirectoryEntry[]? _listing;
    private int _prefetched;

    private Inode(ulong number, NodeKind kind, ByteString identity, ulong size, bool executable)
    {
        Number = number;
        Kind = kind;
        Identity = identity;
        Size = size;
        Executable = executable;
    }

    public ulong Number { get; }

    public NodeKind Kind { get; }

    /// <summary>The digest of a directory or file, the target of a symlink.</summary>
    public ByteString Identity { get; }

    public ulong Size { get; }

    public bool Executable { get; }

    /// <summary>The kernel's references (lookups minus forgets); guarded by the tracker's lock.</summary>
    public ulong LookupCount { get; set; }

    public InodeKey Key => new(Kind, Executable, Identity);

    public B3Digest Digest => new(Identity.Span);

    public NodeAttributes Attributes => new(Number, Kind, Size, NodeAttributes.ModeOf(Kind, Executable));

    /// <summary>A directory's entries in name order, once fetched. Content never changes, so a racing fetch is harmless.</summary>
    public DirectoryEntry[]? Listing
    {
        get => Volatile.Read(ref _listing);
        set => Volatile.Write(ref _listing, value);
    }

    /// <summary>The directory a file was last listed or looked up in: where the next reads will likely go.</summary>
    public Inode? Parent { get; set; }

    /// <summary>True the first time only: a directory's files are prefetched once.</summary>
    public bool StartPrefetch() => Interlocked.Exchange(ref _prefetched, 1) == 0;

    /// <summary>The root of a store: the directory of its path infos, which has no digest.</summary>
    public static Inode ForStoreRoot(ulong number) => new(number, NodeKind.Directory, ByteString.Empty, 0, executable: false);

    public static Inode ForDirectory(ulong number, B3Digest digest, ulong size) =>
        new(number, NodeKind.Directory, digest.ToByteString(), size, executable: false);

    public static Inode For(ulong number, Node node) => node.NodeCase switch
    {
        Node.NodeOneofCase.Directory => new(number, NodeKind.Directory, node.Directory.Digest, node.Directory.Size, false),
        Node.NodeOneofCase.File => new(number, NodeKind.File, node.File.Digest, node.File.Size, node.File.Executable),
        Node.NodeOneofCase.Symlink => new(number, NodeKind.Symlink, node.Symlink.Target, (ulong)node.Symlink.Target.Length, false),
        _ => throw new ArgumentException("node is not set", nameof(node)),
    };

    public static InodeKey KeyOf(Node node) => node.NodeCase switch
    {
        Node.NodeOneofCase.Directory => new(NodeKind.Directory, false, node.Directory.Digest),
        Node.NodeOneofCase.File => new(NodeKind.File, node.File.Executable, node.File.Digest),
        Node.NodeOneofCase.Symlink => new(NodeKind.Symlink, false, node.Symlink.Target),
        _ => throw new ArgumentException("node is not set", nameof(node)),
    };
}

/// <summary>
/// What makes two nodes one inode: the same directory digest, the same symlink target, or the same file
/// digest <em>and</em> executable bit (upstream ignores the bit, so the first copy seen decided the mode of both).
/// </summary>
internal readonly record struct InodeKey(NodeKind Kind, bool Executable, ByteString Identity);
