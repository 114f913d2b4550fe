using System.Text;
using CastoreFs.Core.Digests;
using Google.Protobuf;
using Snix.Castore.V1;

namespace CastoreFs.Core.Model;

/// <summary>What makes a node valid, as upstream castore checks it.</summary>
public static class NodeRules
{
    public const int MaxNameBytes = 255;
    public const int MaxSymlinkTargetBytes = 4095;

    public static void ValidateName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            throw new CastoreValidationException("invalid name: empty");
        }

        if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
        {
            throw new CastoreValidationException($"invalid name '{Display(name)}'");
        }

        if (name.Length > MaxNameBytes)
        {
            throw new CastoreValidationException($"invalid name '{Display(name)}': longer than {MaxNameBytes} bytes");
        }

        if (name.IndexOfAny((byte)'/', (byte)0) >= 0)
        {
            throw new CastoreValidationException($"invalid name '{Display(name)}': contains '/' or NUL");
        }
    }

    public static void ValidateSymlinkTarget(ReadOnlySpan<byte> target)
    {
        if (target.IsEmpty)
        {
            throw new CastoreValidationException("invalid symlink target: empty");
        }

        if (target.Length > MaxSymlinkTargetBytes)
        {
            throw new CastoreValidationException($"invalid symlink target: longer than {MaxSymlinkTargetBytes} bytes");
        }

        if (target.Contains((byte)0))
        {
            throw new CastoreValidationException("invalid symlink target: contains NUL");
        }
    }

    public static void Validate(DirectoryNode node)
    {
        ValidateName(node.Name.Span);
        ValidateDigest(node.Digest, node.Name);
    }

    public static void Validate(FileNode node)
    {
        ValidateName(node.Name.Span);
        ValidateDigest(node.Digest, node.Name);
    }

    public static void Validate(SymlinkNode node)
    {
        ValidateName(node.Name.Span);
        ValidateSymlinkTarget(node.Target.Span);
    }

    /// <summary>Validates the node in a <see cref="Node"/> and returns its name; an unset node is an error.</summary>
    public static ByteString Validate(Node node)
    {
        switch (node.NodeCase)
        {
            case Node.NodeOneofCase.Directory: Validate(node.Directory); return node.Directory.Name;
            case Node.NodeOneofCase.File: Validate(node.File); return node.File.Name;
            case Node.NodeOneofCase.Symlink: Validate(node.Symlink); return node.Symlink.Name;
            default: throw new CastoreValidationException("node is not set");
        }
    }

    public static ByteString NameOf(Node node) => node.NodeCase switch
    {
        Node.NodeOneofCase.Directory => node.Directory.Name,
        Node.NodeOneofCase.File => node.File.Name,
        Node.NodeOneofCase.Symlink => node.Symlink.Name,
        _ => ByteString.Empty,
    };

    /// <summary>The same node under another name (for root nodes, whose name is the store path).</summary>
    public static Node WithName(Node node, ByteString name)
    {
        var renamed = node.Clone();
        switch (renamed.NodeCase)
        {
            case Node.NodeOneofCase.Directory: renamed.Directory.Name = name; break;
            case Node.NodeOneofCase.File: renamed.File.Name = name; break;
            case Node.NodeOneofCase.Symlink: renamed.Symlink.Name = name; break;
            default: throw new CastoreValidationException("node is not set");
        }

        return renamed;
    }

    public static string Display(ReadOnlySpan<byte> name) => Encoding.UTF8.GetString(name);

    private static void ValidateDigest(ByteString digest, ByteString name)
    {
        if (digest.Length != B3Digest.Length)
        {
            throw new CastoreValidationException(
                $"invalid digest length {digest.Length} for '{Display(name.Span)}' (expected {B3Digest.Length})");
        }
    }
}
