using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

/// <summary>
/// Checks a closure sent leaves first (spec §1.4): each directory valid; each child sent earlier in the
/// same closure with the size the parent claims; at the end, every directory reachable from the last.
/// </summary>
public sealed class ClosureValidator
{
    private readonly Dictionary<B3Digest, ulong> _sizes = [];
    private readonly HashSet<B3Digest> _unreferenced = [];
    private readonly List<(B3Digest Digest, Directory Directory)> _accepted = [];

    /// <summary>The directories accepted so far, in the order they came, without repeats.</summary>
    public IReadOnlyList<(B3Digest Digest, Directory Directory)> Accepted => _accepted;

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
        if (!_sizes.TryAdd(digest, directory.Size()))
        {
            return (digest, false);
        }

        _unreferenced.Add(digest);
        _accepted.Add((digest, directory));
        return (digest, true);
    }

    /// <summary>The root digest; an error for an empty closure or one with more than one root.</summary>
    public B3Digest Finish()
    {
        if (_accepted.Count == 0)
        {
            throw new CastoreValidationException("no directories received");
        }

        var root = _accepted[^1].Digest;
        if (_unreferenced.Count != 1 || !_unreferenced.Contains(root))
        {
            throw new CastoreValidationException(
                $"closure is not connected: {_unreferenced.Count} directories are not below the last one sent");
        }

        return root;
    }
}
