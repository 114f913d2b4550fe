using CastoreFs.Core.Nix;
using Snix.Store.V1;
using StorePath = CastoreFs.Core.Nix.StorePath;

namespace CastoreFs.Core.Model;

/// <summary>What makes a PathInfo valid (upstream castore): its root node names a store path.</summary>
public static class PathInfoRules
{
    public const int NarSha256Length = 32;

    /// <summary>Validates and returns the store path the root node's name spells.</summary>
    public static StorePath Validate(this PathInfo pathInfo)
    {
        if (pathInfo.Node is null)
        {
            throw new CastoreValidationException("path info has no root node");
        }

        var name = NodeRules.Validate(pathInfo.Node);
        StorePath storePath;
        try
        {
            storePath = StorePath.Parse(name.ToStringUtf8());
        }
        catch (FormatException e)
        {
            throw new CastoreValidationException($"root node name is not a store path: {e.Message}");
        }

        foreach (var reference in pathInfo.References)
        {
            if (reference.Length != StorePath.DigestLength)
            {
                throw new CastoreValidationException($"reference digest is {reference.Length} bytes, not {StorePath.DigestLength}");
            }
        }

        if (pathInfo.Narinfo is { } narinfo)
        {
            ValidateNarInfo(pathInfo, narinfo);
        }

        return storePath;
    }

    private static void ValidateNarInfo(PathInfo pathInfo, NARInfo narinfo)
    {
        if (narinfo.NarSha256.Length != NarSha256Length)
        {
            throw new CastoreValidationException($"nar_sha256 is {narinfo.NarSha256.Length} bytes, not {NarSha256Length}");
        }

        if (narinfo.ReferenceNames.Count != pathInfo.References.Count)
        {
            throw new CastoreValidationException(
                $"{pathInfo.References.Count} references but {narinfo.ReferenceNames.Count} reference names");
        }

        for (int i = 0; i < narinfo.ReferenceNames.Count; i++)
        {
            if (!StorePath.TryParse(narinfo.ReferenceNames[i], out var referenced)
                || !referenced!.Digest.SequenceEqual(pathInfo.References[i].Span))
            {
                throw new CastoreValidationException($"reference name '{narinfo.ReferenceNames[i]}' does not match reference {i}");
            }
        }

        if (narinfo.Ca is { } ca && ca.Digest.Length is not (0 or 16 or 20 or 32 or 64))
        {
            throw new CastoreValidationException($"ca digest has an invalid length {ca.Digest.Length}");
        }
    }
}
