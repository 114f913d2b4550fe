namespace CastoreFs.Core.Filesystem;

/// <summary>What a stat shows of a node. Everything not here is the same for every node (see <see cref="NodeAttributes"/> constants).</summary>
/// <param name="Inode">The node's number, stable while the kernel holds a reference to it.</param>
/// <param name="Size">Bytes of a file, length of a symlink target, the castore size of a directory.</param>
/// <param name="Mode">POSIX <c>st_mode</c>: type bits and permissions.</param>
public readonly record struct NodeAttributes(ulong Inode, NodeKind Kind, ulong Size, uint Mode)
{
    public const uint TypeDirectory = 0x4000; // S_IFDIR
    public const uint TypeFile = 0x8000; // S_IFREG
    public const uint TypeSymlink = 0xA000; // S_IFLNK

    /// <summary>
    /// Modification time of every node, in seconds after the epoch. The seed used 0; its successors moved
    /// to 1 because that is what /nix/store holds and builds embed it (libpsl did).
    /// </summary>
    public const long Time = 1;

    /// <summary>Every node has one link: 0 broke lndir upstream, and a content-addressed tree has no hard links to count.</summary>
    public const uint LinkCount = 1;

    public static uint ModeOf(NodeKind kind, bool executable) => kind switch
    {
        NodeKind.Directory => TypeDirectory | 0x16D, // 0555
        NodeKind.Symlink => TypeSymlink | 0x124, // 0444
        _ => TypeFile | (executable ? 0x16Du : 0x124u), // 0555 : 0444
    };
}
