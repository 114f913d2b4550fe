using Google.Protobuf;
using Snix.Store.V1;

namespace CastoreFs.Core.Nix;

/// <summary>
/// Nix's content address of a store path as a narinfo's <c>CA</c> writes it: <c>text:sha256:&lt;h&gt;</c>,
/// <c>fixed:r:&lt;algo&gt;:&lt;h&gt;</c> (of the NAR) or <c>fixed:&lt;algo&gt;:&lt;h&gt;</c> (of the flat file), the hash in nixbase32.
/// </summary>
public static class ContentAddress
{
    /// <summary>The proto's hash type for each recursive (<c>r:</c>) and flat form of <c>fixed:</c>.</summary>
    private static readonly Dictionary<string, NARInfo.Types.CA.Types.Hash> Fixed = new(StringComparer.Ordinal)
    {
        ["r:sha256"] = NARInfo.Types.CA.Types.Hash.NarSha256,
        ["r:sha1"] = NARInfo.Types.CA.Types.Hash.NarSha1,
        ["r:sha512"] = NARInfo.Types.CA.Types.Hash.NarSha512,
        ["r:md5"] = NARInfo.Types.CA.Types.Hash.NarMd5,
        ["sha256"] = NARInfo.Types.CA.Types.Hash.FlatSha256,
        ["sha1"] = NARInfo.Types.CA.Types.Hash.FlatSha1,
        ["sha512"] = NARInfo.Types.CA.Types.Hash.FlatSha512,
        ["md5"] = NARInfo.Types.CA.Types.Hash.FlatMd5,
    };

    /// <exception cref="FormatException">Not one of those forms, or a hash of the wrong length.</exception>
    public static NARInfo.Types.CA Parse(string text)
    {
        var parts = text.Split(':');
        var (type, algorithm, hash) = parts switch
        {
            ["text", "sha256", var h] => (NARInfo.Types.CA.Types.Hash.TextSha256, "sha256", h),
            ["fixed", "r", var a, var h] => (FixedType("r:" + a, text), a, h),
            ["fixed", var a, var h] => (FixedType(a, text), a, h),
            _ => throw new FormatException($"content address '{text}' is not text:sha256:…, fixed:r:<algo>:… or fixed:<algo>:…"),
        };
        int length = algorithm switch { "md5" => 16, "sha1" => 20, "sha256" => 32, _ => 64 };
        byte[] digest;
        try
        {
            digest = NixBase32.Decode(hash);
        }
        catch (FormatException e)
        {
            throw new FormatException($"content address '{text}': {e.Message}", e);
        }

        return digest.Length == length
            ? new NARInfo.Types.CA { Type = type, Digest = ByteString.CopyFrom(digest) }
            : throw new FormatException($"content address '{text}' has a {digest.Length}-byte hash, not the {length} bytes of {algorithm}");
    }

    private static NARInfo.Types.CA.Types.Hash FixedType(string form, string text) =>
        Fixed.TryGetValue(form, out var type) ? type : throw new FormatException($"content address '{text}' names an unknown hash");
}
