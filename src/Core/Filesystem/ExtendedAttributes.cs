using System.Text;

namespace CastoreFs.Core.Filesystem;

/// <summary>The xattrs that show a node's castore digest, as snix names them (tvix used <c>user.tvix.…</c>).</summary>
public static class ExtendedAttributes
{
    public const string BlobDigest = "user.snix.castore.blob.digest";
    public const string DirectoryDigest = "user.snix.castore.directory.digest";

    internal static ReadOnlySpan<byte> BlobDigestName => "user.snix.castore.blob.digest"u8;

    internal static ReadOnlySpan<byte> DirectoryDigestName => "user.snix.castore.directory.digest"u8;

    /// <summary>The name of the one digest xattr a node of this kind has, or empty.</summary>
    internal static ReadOnlySpan<byte> NameFor(NodeKind kind) => kind switch
    {
        NodeKind.File => BlobDigestName,
        NodeKind.Directory => DirectoryDigestName,
        _ => [],
    };

    internal static byte[] Value(Inode inode) => Encoding.ASCII.GetBytes(inode.Digest.ToString());
}
