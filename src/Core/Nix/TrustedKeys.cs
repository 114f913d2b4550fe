using System.Text;
using NSec.Cryptography;
using Snix.Store.V1;

namespace CastoreFs.Core.Nix;

/// <summary>
/// Ed25519 public keys a binary cache's signatures are checked against, given as in nix.conf's
/// trusted-public-keys: <c>name:base64</c>, space-separated. A narinfo is trusted when one of its
/// <c>Sig: name:base64</c> lines is by a key of that name and verifies over its fingerprint.
/// </summary>
public sealed class TrustedKeys
{
    private readonly Dictionary<string, PublicKey> _keys;

    private TrustedKeys(Dictionary<string, PublicKey> keys) => _keys = keys;

    public int Count => _keys.Count;

    /// <exception cref="FormatException">A key is not <c>name:base64</c> of 32 bytes.</exception>
    public static TrustedKeys Parse(string text)
    {
        var keys = new Dictionary<string, PublicKey>(StringComparer.Ordinal);
        foreach (var entry in text.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, bytes) = Split(entry, "trusted public key");
            if (bytes.Length != 32 || !PublicKey.TryImport(SignatureAlgorithm.Ed25519, bytes, KeyBlobFormat.RawPublicKey, out var key) || key is null)
            {
                throw new FormatException($"trusted public key '{name}' is not an ed25519 key of 32 bytes");
            }

            keys[name] = key;
        }

        return new TrustedKeys(keys);
    }

    /// <summary>Whether a signature of <paramref name="narInfo"/> by one of these keys verifies; malformed signatures verify nothing.</summary>
    public bool Verify(NarInfo narInfo)
    {
        var fingerprint = Encoding.UTF8.GetBytes(narInfo.Fingerprint);
        foreach (var signature in narInfo.Signatures)
        {
            int colon = signature.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !_keys.TryGetValue(signature[..colon], out var key))
            {
                continue;
            }

            var bytes = new byte[64];
            if (Convert.TryFromBase64String(signature[(colon + 1)..], bytes, out int length) && length == 64
                && SignatureAlgorithm.Ed25519.Verify(key, fingerprint, bytes))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether a path info kept from a binary cache still carries a signature by one of these keys over
    /// Nix's fingerprint of it (its name, NAR hash and size, and reference names).
    /// </summary>
    public bool Verify(PathInfo pathInfo)
    {
        if (pathInfo.Narinfo is not { } narinfo || pathInfo.Node is null)
        {
            return false;
        }

        var name = Model.NodeRules.NameOf(pathInfo.Node).ToStringUtf8();
        var fingerprint = Encoding.UTF8.GetBytes(NarInfo.FingerprintOf(
            StorePath.StoreDir + "/" + name, narinfo.NarSha256.Span, narinfo.NarSize, narinfo.ReferenceNames.Select(r => StorePath.StoreDir + "/" + r)));
        return narinfo.Signatures.Any(s => _keys.TryGetValue(s.Name, out var key) && s.Data.Length == 64
            && SignatureAlgorithm.Ed25519.Verify(key, fingerprint, s.Data.Span));
    }

    private static (string Name, byte[] Bytes) Split(string entry, string what)
    {
        int colon = entry.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new FormatException($"{what} '{entry}' is not name:base64");
        }

        try
        {
            return (entry[..colon], Convert.FromBase64String(entry[(colon + 1)..]));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{what} '{entry[..colon]}' is not base64", e);
        }
    }
}
