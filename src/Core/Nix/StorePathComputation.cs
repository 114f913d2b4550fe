using System.Security.Cryptography;
using System.Text;

namespace CastoreFs.Core.Nix;

/// <summary>How Nix names content-addressed store paths (Nix's libstore, store-api.cc).</summary>
public static class StorePathComputation
{
    /// <summary>The path <c>nix-store --add</c> gives: recursive ingestion, no references.</summary>
    public static StorePath ForNarHash(ReadOnlySpan<byte> narSha256, string name) =>
        Make("source", Convert.ToHexStringLower(narSha256), name);

    /// <summary>The path <c>nix-store --add-fixed sha256 FILE</c> gives (flat, fixed output).</summary>
    public static StorePath ForFlatSha256(ReadOnlySpan<byte> fileSha256, string name)
    {
        var inner = SHA256.HashData(Encoding.ASCII.GetBytes($"fixed:out:sha256:{Convert.ToHexStringLower(fileSha256)}:"));
        return Make("output:out", Convert.ToHexStringLower(inner), name);
    }

    private static StorePath Make(string type, string hexHash, string name)
    {
        StorePath.ValidateName(name);
        var fingerprint = SHA256.HashData(Encoding.ASCII.GetBytes($"{type}:sha256:{hexHash}:{StorePath.StoreDir}:{name}"));
        return new StorePath(Compress20(fingerprint), name);
    }

    /// <summary>Folds a hash to 20 bytes: byte i is XORed into byte i mod 20.</summary>
    private static byte[] Compress20(ReadOnlySpan<byte> hash)
    {
        var output = new byte[StorePath.DigestLength];
        for (int i = 0; i < hash.Length; i++)
        {
            output[i % StorePath.DigestLength] ^= hash[i];
        }

        return output;
    }
}
