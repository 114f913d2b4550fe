using System.Globalization;
using CastoreFs.Core.Nix;

namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>
/// A Nix binary cache as a path-info store URL: <c>nix+https://host/prefix</c>, <c>nix+http://…</c> or
/// <c>nix+file:///dir</c>, with <c>?trusted-public-keys=name:base64 …</c> (space-separated as in nix.conf;
/// snix's <c>trusted_public_keys</c> too), or <c>?require-sigs=false</c> to take unsigned paths, and
/// <c>?timeout=SECONDS</c> (30): how long the server may take to answer or to send more of a file.
/// </summary>
public sealed record BinaryCacheUrl(Uri Location, TrustedKeys? TrustedKeys, TimeSpan Timeout)
{
    public const string Scheme = "nix+";

    public static bool IsBinaryCacheUrl(string url) => url.StartsWith(Scheme, StringComparison.Ordinal);

    /// <summary>The cache's address without its options, as logs and errors show it.</summary>
    public string Display => Location.GetLeftPart(UriPartial.Path).TrimEnd('/');

    /// <exception cref="ArgumentException">Not such a URL, an unknown option, or neither keys nor <c>require-sigs=false</c>.</exception>
    public static BinaryCacheUrl Parse(string url)
    {
        if (!IsBinaryCacheUrl(url) || !Uri.TryCreate(url[Scheme.Length..], UriKind.Absolute, out var location)
            || location.Scheme is not ("http" or "https" or "file") || !string.IsNullOrEmpty(location.Fragment))
        {
            throw new ArgumentException($"'{url}' is not a binary cache URL (nix+https://host/prefix, nix+http://…, nix+file:///dir)");
        }

        TrustedKeys? keys = null;
        bool requireSignatures = true;
        var timeout = TimeSpan.FromSeconds(30);
        foreach (var (option, value) in Options(location.Query))
        {
            switch (option)
            {
                case "trusted-public-keys" or "trusted_public_keys":
                    try
                    {
                        keys = TrustedKeys.Parse(value);
                    }
                    catch (FormatException e)
                    {
                        throw new ArgumentException($"{url}: {e.Message}", e);
                    }

                    break;
                case "require-sigs":
                    requireSignatures = value switch
                    {
                        "true" => true,
                        "false" => false,
                        _ => throw new ArgumentException($"{url}: require-sigs is true or false, not '{value}'"),
                    };
                    break;
                case "timeout":
                    timeout = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && seconds < int.MaxValue / 1000
                        ? TimeSpan.FromSeconds(seconds)
                        : throw new ArgumentException($"{url}: timeout '{value}' is not a number of seconds");
                    break;
                default:
                    throw new ArgumentException($"{url}: unknown option '{option}' (trusted-public-keys, require-sigs, timeout)");
            }
        }

        if (requireSignatures && (keys is null || keys.Count == 0))
        {
            throw new ArgumentException($"{url}: give the cache's keys (?trusted-public-keys=name:base64) or take unsigned paths with ?require-sigs=false");
        }

        var bare = new UriBuilder(location) { Query = string.Empty }.Uri;
        return new BinaryCacheUrl(bare, requireSignatures ? keys : null, timeout);
    }

    /// <summary>
    /// The query's options, unescaped without taking <c>+</c> for a space (it is a base64 character of
    /// the keys, written as they are in nix.conf).
    /// </summary>
    private static IEnumerable<(string Option, string Value)> Options(string query)
    {
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            yield return equals < 0
                ? (Uri.UnescapeDataString(pair), string.Empty)
                : (Uri.UnescapeDataString(pair[..equals]), Uri.UnescapeDataString(pair[(equals + 1)..]));
        }
    }

    /// <summary>Where a file the cache names (a narinfo, a NAR's <c>URL</c>) is: relative to the cache, never above it.</summary>
    /// <exception cref="FormatException">The name climbs out of the cache, or is absolute where that is not allowed.</exception>
    public Uri Resolve(string relative)
    {
        if (Location.Scheme != "file" && Uri.TryCreate(relative, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
        {
            return absolute;
        }

        if (relative.Length == 0 || relative.StartsWith('/') || relative.IndexOfAny(['\\', '%', '#']) >= 0
            || relative.Contains("://", StringComparison.Ordinal) || relative.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new FormatException($"{Display}: '{relative}' does not name a file in the cache");
        }

        return new Uri(Location.AbsoluteUri.TrimEnd('/') + "/" + relative);
    }
}
