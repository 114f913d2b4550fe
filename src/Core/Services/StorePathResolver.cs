using System.Text;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using Snix.Castore.V1;
using StorePath = CastoreFs.Core.Nix.StorePath;

namespace CastoreFs.Core.Services;

/// <summary>Finds the node at <c>[/nix/store/]&lt;hash&gt;-&lt;name&gt;[/sub/path]</c> in a store, without mounting it.</summary>
public sealed class StorePathResolver(CastoreStore store)
{
    /// <summary>The node (named as its last path component), or a <see cref="FileNotFoundException"/> naming what is missing.</summary>
    public async Task<Node> ResolveAsync(string path, CancellationToken ct = default)
    {
        const string prefix = StorePath.StoreDir + "/";
        var relative = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path;
        var parts = relative.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new FormatException($"'{path}' names no store path");
        }

        var storePath = StorePath.Parse(parts[0]);
        var pathInfo = await store.PathInfos.GetAsync(storePath.Digest.ToArray(), ct).ConfigureAwait(false);
        if (pathInfo is null || NodeRules.NameOf(pathInfo.Node).ToStringUtf8() != storePath.BaseName)
        {
            throw new FileNotFoundException($"{storePath.AbsolutePath} is not in the store");
        }

        var node = pathInfo.Node;
        for (int i = 1; i < parts.Length; i++)
        {
            if (node.NodeCase != Node.NodeOneofCase.Directory)
            {
                throw new FileNotFoundException($"{string.Join('/', parts[..i])} is not a directory");
            }

            var digest = B3Digest.FromProto(node.Directory.Digest);
            var directory = await store.Directories.GetAsync(digest, ct).ConfigureAwait(false)
                ?? throw new DirectoryNotFoundException($"directory {digest.ToHex()} of {string.Join('/', parts[..i])} is missing from the store");
            node = directory.Find(Encoding.UTF8.GetBytes(parts[i]))
                ?? throw new FileNotFoundException($"{string.Join('/', parts[..(i + 1)])}: no such file or directory");
        }

        return node;
    }
}
