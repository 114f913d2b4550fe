using CastoreFs.Core.Digests;
using Google.Protobuf;
using Snix.Castore.V1;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// A node of the tree as a path-based caller holds it: what it is, without a number or a reference
/// count. Holding one costs nothing in the tree; it stays valid for as long as the filesystem lives,
/// because content never changes.
/// </summary>
public readonly struct TreeNode : IEquatable<TreeNode>
{
    private TreeNode(NodeKind kind, ByteString identity, ulong size, bool executable, bool isStoreRoot)
    {
        Kind = kind;
        Identity = identity;
        Size = size;
        Executable = executable;
        IsStoreRoot = isStoreRoot;
    }

    public NodeKind Kind { get; }

    /// <summary>Bytes of a file, length of a symlink target, the castore size of a directory.</summary>
    public ulong Size { get; }

    public bool Executable { get; }

    /// <summary>The directory of the store's path infos (it has no digest), as opposed to a directory of the store.</summary>
    public bool IsStoreRoot { get; }

    /// <summary>False for <c>default</c>, which names nothing.</summary>
    public bool Exists => Identity is not null;

    /// <summary>A symlink's target bytes as stored; empty for anything else.</summary>
    public ReadOnlyMemory<byte> Target => Kind == NodeKind.Symlink ? Identity.Memory : default;

    /// <summary>The digest of a directory or file, the target of a symlink.</summary>
    internal ByteString Identity { get; }

    /// <summary>The digest of a file or directory of the store; null for a symlink and the store's root.</summary>
    public B3Digest? Digest => Kind == NodeKind.Symlink || IsStoreRoot || Identity is null ? null : new B3Digest(Identity.Span);

    public static bool operator ==(TreeNode left, TreeNode right) => left.Equals(right);

    public static bool operator !=(TreeNode left, TreeNode right) => !left.Equals(right);

    internal static TreeNode StoreRoot() => new(NodeKind.Directory, ByteString.Empty, 0, false, isStoreRoot: true);

    internal static TreeNode ForDirectory(B3Digest digest, ulong size) => new(NodeKind.Directory, digest.ToByteString(), size, false, false);

    internal static TreeNode Of(Node node) => node.NodeCase switch
    {
        Node.NodeOneofCase.Directory => new(NodeKind.Directory, node.Directory.Digest, node.Directory.Size, false, false),
        Node.NodeOneofCase.File => new(NodeKind.File, node.File.Digest, node.File.Size, node.File.Executable, false),
        Node.NodeOneofCase.Symlink => new(NodeKind.Symlink, node.Symlink.Target, (ulong)node.Symlink.Target.Length, false, false),
        _ => throw new ArgumentException("node is not set", nameof(node)),
    };

    public bool Equals(TreeNode other) =>
        Kind == other.Kind && Size == other.Size && Executable == other.Executable && IsStoreRoot == other.IsStoreRoot && Equals(Identity, other.Identity);

    public override bool Equals(object? obj) => obj is TreeNode other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Kind, Size, Executable, Identity);
}
