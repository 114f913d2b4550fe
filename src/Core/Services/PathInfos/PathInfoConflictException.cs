using Snix.Store.V1;
using StorePath = CastoreFs.Core.Nix.StorePath;

namespace CastoreFs.Core.Services.PathInfos;

/// <summary>A store path already has a root, and another one was put for it: a store path names one tree forever.</summary>
public sealed class PathInfoConflictException(string message) : InvalidOperationException(message)
{
    /// <summary>Throws unless <paramref name="put"/> has the root <paramref name="existing"/> has (its other fields may change).</summary>
    public static void ThrowIfAnotherRoot(StorePath storePath, PathInfo existing, PathInfo put)
    {
        if (!existing.Node.Equals(put.Node))
        {
            throw new PathInfoConflictException($"{storePath.AbsolutePath} is already in the store with another root; a store path's root never changes");
        }
    }
}
