using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

/// <summary>
/// Checks a closure sent leaves first: each directory valid; each child sent earlier in the same closure
/// with the size the parent claims; at the end, every directory reachable from the last. It keeps each
/// directory's digest and size (about 150 bytes), not the directory, and takes at most
/// <see cref="MaxDirectories"/>.
/// </summary>
public sealed class ClosureValidator
{
    /// <summary>Directories one closure may hold: far beyond any store path's, and a bound on what a put holds.</summary>
    public const int MaxDirectories = 1_000_000;

    private readonly Dictionary<B3Digest, ulong> _sizes = [];
    private readonly HashSet<B3Digest> _unreferenced = [];
    private B3Digest? _last;

    /// <summary>Validates one directory; returns its digest and whether it was new to this closure.</summary>
    public (B3Digest Digest, bool IsNew) Add(Directory directory)
    {
        directory.Validate();
        foreach (var child in directory.Directories)
        {
            var childDigest = new B3Digest(child.Digest.Span);
            if (!_sizes.TryGetValue(childDigest, out var childSize))
            {
                throw new CastoreValidationException(
                    $"'{NodeRules.Display(child.Name.Span)}' refers to directory {childDigest.ToHex()}, not sent before its parent");
            }

            if (childSize != child.Size)
            {
                throw new CastoreValidationException(
                    $"'{NodeRules.Display(child.Name.Span)}' has size {child.Size}, but its directory has size {childSize}");
            }

            _unreferenced.Remove(childDigest);
        }

        var digest = directory.Digest();
        if (_sizes.ContainsKey(digest))
        {
            return (digest, false);
        }

        if (_sizes.Count == MaxDirectories)
        {
            throw new CastoreValidationException($"a closure may hold at most {MaxDirectories} directories");
        }

        _sizes.Add(digest, directory.Size());
        _unreferenced.Add(digest);
        _last = digest;
        return (digest, true);
    }

    /// <summary>The root digest (the last new directory); an error for an empty closure or one with more than one root.</summary>
    public B3Digest Finish()
    {
        if (_last is not { } root)
        {
            throw new CastoreValidationException("no directories received");
        }

        if (_unreferenced.Count != 1 || !_unreferenced.Contains(root))
        {
            throw new CastoreValidationException(
                $"closure is not connected: {_unreferenced.Count} directories are not below the last one sent");
        }

        return root;
    }
}
