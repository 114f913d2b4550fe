using System.Globalization;

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
    /// <summary>What a signature signs (Nix's fingerprint): <c>1;path;sha256:&lt;nixbase32&gt;;size;ref,ref</c>, references as full paths.</summary>
    public string Fingerprint =>
        string.Create(CultureInfo.InvariantCulture, $"1;{StorePath.AbsolutePath};sha256:{NixBase32.Encode(NarSha256)};{NarSize};{string.Join(',', References.Select(r => r.AbsolutePath))}");

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
