using CastoreFs.Core.Model;
using CastoreFs.Core.Nix;
using Google.Protobuf;
using Snix.Castore.V1;
using Snix.Store.V1;
using StorePath = CastoreFs.Core.Nix.StorePath;

namespace CastoreFs.Core.Import;

/// <summary>What an import registered: the store path and its PathInfo.</summary>
public sealed record ImportResult(StorePath StorePath, PathInfo PathInfo)
{
    public Node Root => PathInfo.Node;

    public ulong NarSize => PathInfo.Narinfo.NarSize;

    public ReadOnlySpan<byte> NarSha256 => PathInfo.Narinfo.NarSha256.Span;

    /// <summary>Fails with an <see cref="ImportException"/> unless <paramref name="name"/> can name a store path.</summary>
    public static void RequireStorePathName(string name, string source)
    {
        try
        {
            StorePath.ValidateName(name);
        }
        catch (FormatException e)
        {
            throw new ImportException($"{source}: cannot be a store path name: {e.Message}");
        }
    }

    /// <summary>
    /// The PathInfo <c>nix-store --add</c> would describe: named by the NAR hash ("source" path), no
    /// references, content address NAR_SHA256.
    /// </summary>
    public static ImportResult ForNar(Node anonymousRoot, string name, ulong narSize, byte[] narSha256)
    {
        var storePath = StorePathComputation.ForNarHash(narSha256, name);
        var pathInfo = new PathInfo
        {
            Node = NodeRules.WithName(anonymousRoot, ByteString.CopyFromUtf8(storePath.BaseName)),
            Narinfo = new NARInfo
            {
                NarSize = narSize,
                NarSha256 = ByteString.CopyFrom(narSha256),
                Ca = new NARInfo.Types.CA { Type = NARInfo.Types.CA.Types.Hash.NarSha256, Digest = ByteString.CopyFrom(narSha256) },
            },
        };
        return new ImportResult(storePath, pathInfo);
    }
}
