using System.Globalization;
using CastoreFs.Core.Model;
using Google.Protobuf;
using Snix.Castore.V1;
using Snix.Store.V1;

namespace CastoreFs.Core.Nix;

/// <summary>
/// A binary cache's <c>.narinfo</c> (Nix's format: one <c>Key: value</c> a line): where the NAR is, how it
/// is compressed, and the store path's NAR hash, size, references and signatures. Parsing checks every
/// field it reads; an unknown key is ignored, as Nix does.
/// </summary>
public sealed record NarInfo(
    StorePath StorePath,
    string Url,
    string Compression,
    byte[]? FileSha256,
    ulong? FileSize,
    byte[] NarSha256,
    ulong NarSize,
    IReadOnlyList<StorePath> References,
    StorePath? Deriver,
    IReadOnlyList<string> Signatures,
    string? ContentAddress)
{
    /// <summary>What this narinfo's signatures sign (<see cref="FingerprintOf"/>).</summary>
    public string Fingerprint => FingerprintOf(StorePath.AbsolutePath, NarSha256, NarSize, References.Select(r => r.AbsolutePath));

    /// <summary>
    /// What a signature signs (Nix's fingerprint): <c>1;path;sha256:&lt;nixbase32&gt;;size;ref,ref</c>, the
    /// references as full paths in Nix's order (sorted, as its set of store paths is).
    /// </summary>
    public static string FingerprintOf(string absolutePath, ReadOnlySpan<byte> narSha256, ulong narSize, IEnumerable<string> referencePaths) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"1;{absolutePath};sha256:{NixBase32.Encode(narSha256)};{narSize};{string.Join(',', referencePaths.Order(StringComparer.Ordinal))}");

    /// <summary>
    /// The PathInfo of this store path with <paramref name="root"/> (any name) as its contents: the
    /// references, signatures, deriver and content address carried over. A signature that is not
    /// <c>name:base64</c> of 64 bytes signs nothing and is left out, as verification ignores it.
    /// </summary>
    /// <exception cref="FormatException">The content address is malformed.</exception>
    public PathInfo ToPathInfo(Node root)
    {
        var narinfo = new NARInfo { NarSize = NarSize, NarSha256 = ByteString.CopyFrom(NarSha256) };
        foreach (var signature in Signatures)
        {
            int colon = signature.IndexOf(':', StringComparison.Ordinal);
            var data = new byte[64];
            if (colon > 0 && Convert.TryFromBase64String(signature[(colon + 1)..], data, out int length) && length == data.Length)
            {
                narinfo.Signatures.Add(new NARInfo.Types.Signature { Name = signature[..colon], Data = ByteString.CopyFrom(data) });
            }
        }

        var pathInfo = new PathInfo { Node = NodeRules.WithName(root, ByteString.CopyFromUtf8(StorePath.BaseName)), Narinfo = narinfo };
        foreach (var reference in References)
        {
            pathInfo.References.Add(ByteString.CopyFrom(reference.Digest));
            narinfo.ReferenceNames.Add(reference.BaseName);
        }

        if (Deriver is { } deriver)
        {
            narinfo.Deriver = new Snix.Store.V1.StorePath { Name = deriver.Name, Digest = ByteString.CopyFrom(deriver.Digest) };
        }

        if (ContentAddress is { Length: > 0 } ca)
        {
            narinfo.Ca = Nix.ContentAddress.Parse(ca);
        }

        pathInfo.Validate();
        return pathInfo;
    }

    /// <exception cref="FormatException">The text is not a narinfo, naming the line and the field at fault.</exception>
    public static NarInfo Parse(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var signatures = new List<string>();
        int number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0)
            {
                // "References:" with nothing after it is how Nix writes no references.
                colon = line.EndsWith(':') ? line.Length - 1 : throw new FormatException($"narinfo line {number} is not 'Key: value'");
            }

            var key = line[..colon];
            var value = colon + 2 <= line.Length ? line[(colon + 2)..] : string.Empty;
            if (key == "Sig")
            {
                signatures.Add(value);
            }
            else if (!fields.TryAdd(key, value))
            {
                throw new FormatException($"narinfo line {number}: {key} is given twice");
            }
        }

        string Required(string key) => fields.TryGetValue(key, out var v) && v.Length > 0 ? v : throw new FormatException($"narinfo has no {key}");
        var storePath = StorePath.ParseAbsoluteOrBaseName(Required("StorePath"));
        var references = fields.TryGetValue("References", out var refs)
            ? refs.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(r => StorePath.ParseAbsoluteOrBaseName(r)).ToList()
            : [];
        var deriver = fields.TryGetValue("Deriver", out var d) && d.Length > 0 && d != "unknown-deriver" ? StorePath.ParseAbsoluteOrBaseName(d) : null;
        return new NarInfo(
            storePath,
            Required("URL"),
            fields.TryGetValue("Compression", out var compression) && compression.Length > 0 ? compression : "bzip2",
            fields.TryGetValue("FileHash", out var fileHash) ? Sha256(fileHash, "FileHash") : null,
            fields.TryGetValue("FileSize", out var fileSize) ? Number(fileSize, "FileSize") : null,
            Sha256(Required("NarHash"), "NarHash"),
            Number(Required("NarSize"), "NarSize"),
            references,
            deriver,
            signatures,
            fields.GetValueOrDefault("CA"));
    }

    /// <summary>A SHA-256 as Nix writes it: <c>sha256:</c> and nixbase32 or hex, or SRI <c>sha256-</c> and base64.</summary>
    private static byte[] Sha256(string text, string field)
    {
        try
        {
            byte[] hash = text switch
            {
                _ when text.StartsWith("sha256:", StringComparison.Ordinal) && text.Length == 7 + 52 => NixBase32.Decode(text.AsSpan(7)),
                _ when text.StartsWith("sha256:", StringComparison.Ordinal) && text.Length == 7 + 64 => Convert.FromHexString(text.AsSpan(7)),
                _ when text.StartsWith("sha256-", StringComparison.Ordinal) => Convert.FromBase64String(text[7..]),
                _ => [],
            };
            return hash.Length == 32 ? hash : throw new FormatException($"narinfo {field} '{text}' is not a SHA-256");
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new FormatException($"narinfo {field} '{text}' is not a SHA-256", e);
        }
    }

    private static ulong Number(string text, string field) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw new FormatException($"narinfo {field} '{text}' is not a number");
}
