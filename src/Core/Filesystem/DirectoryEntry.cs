using Snix.Castore.V1;

namespace CastoreFs.Core.Filesystem;

/// <summary>One name in a directory listing and the node it names.</summary>
public readonly record struct DirectoryEntry(Google.Protobuf.ByteString Name, Node Node)
{
    public NodeKind Kind => Node.NodeCase switch
    {
        Node.NodeOneofCase.Directory => NodeKind.Directory,
        Node.NodeOneofCase.Symlink => NodeKind.Symlink,
        _ => NodeKind.File,
    };

    /// <summary>The entry's node as path-based callers hold it.</summary>
    public TreeNode TreeNode => TreeNode.Of(Node);
}
