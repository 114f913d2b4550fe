using CastoreFs.Core.Digests;
using Google.Protobuf;
using Snix.Castore.V1;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// A node the kernel may hold references to: a file or symlink shared by every name with the same
/// content, a directory at one place (<see cref="InodeKey"/>).
/// </summary>
internal sealed class Inode
{
    private DirectoryEntry[]? _listing;
    private int _prefetched;

    private Inode(ulong number, NodeKind kind, ByteString identity, ulong size, bool executable, InodeKey key)
    {
        Number = number;
        Kind = kind;
        Identity = identity;
        Size = size;
        Executable = executable;
        Key = key;
    }

    public ulong Number { get; }

    public NodeKind Kind { get; }

    /// <summary>The digest of a directory or file, the target of a symlink.</summary>
    public ByteString Identity { get; }

    public ulong Size { get; }

    public bool Executable { get; }

    /// <summary>The kernel's references (lookups minus forgets); guarded by the tracker's lock.</summary>
    public ulong LookupCount { get; set; }

    public InodeKey Key { get; }

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
    public static Inode ForStoreRoot(ulong number) =>
        new(number, NodeKind.Directory, ByteString.Empty, 0, executable: false, new InodeKey(NodeKind.Directory, false, ByteString.Empty, 0, ByteString.Empty));

    public static Inode ForDirectory(ulong number, B3Digest digest, ulong size)
    {
        var identity = digest.ToByteString();
        return new(number, NodeKind.Directory, identity, size, executable: false, new InodeKey(NodeKind.Directory, false, identity, 0, ByteString.Empty));
    }

    /// <summary>The inode for <paramref name="node"/>, named in the directory numbered <paramref name="parent"/>.</summary>
    public static Inode For(ulong number, Node node, ulong parent) => node.NodeCase switch
    {
        Node.NodeOneofCase.Directory => new(number, NodeKind.Directory, node.Directory.Digest, node.Directory.Size, false, KeyOf(node, parent)),
        Node.NodeOneofCase.File => new(number, NodeKind.File, node.File.Digest, node.File.Size, node.File.Executable, KeyOf(node, parent)),
        Node.NodeOneofCase.Symlink => new(number, NodeKind.Symlink, node.Symlink.Target, (ulong)node.Symlink.Target.Length, false, KeyOf(node, parent)),
        _ => throw new ArgumentException("node is not set", nameof(node)),
    };

    public static InodeKey KeyOf(Node node, ulong parent) => node.NodeCase switch
    {
        Node.NodeOneofCase.Directory => new(NodeKind.Directory, false, node.Directory.Digest, parent, node.Directory.Name),
        Node.NodeOneofCase.File => new(NodeKind.File, node.File.Executable, node.File.Digest, 0, ByteString.Empty),
        Node.NodeOneofCase.Symlink => new(NodeKind.Symlink, false, node.Symlink.Target, 0, ByteString.Empty),
        _ => throw new ArgumentException("node is not set", nameof(node)),
    };
}

/// <summary>
/// What makes two nodes one inode. A file or symlink is its content: the same symlink target, or the same
/// file digest <em>and</em> executable bit (upstream ignores the bit, so the first copy seen decided the
/// mode of both), as hard links are. A directory is also its place, the directory it is named in and its
/// name there: Linux gives a directory inode one dentry, so one inode at two places would have its dentry
/// moved to wherever it was looked up last, and a process inside it would find itself elsewhere.
/// </summary>
internal readonly record struct InodeKey(NodeKind Kind, bool Executable, ByteString Identity, ulong Parent, ByteString Name);
