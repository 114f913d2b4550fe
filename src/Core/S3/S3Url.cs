namespace CastoreFs.Core.S3;

/// <summary>
/// <c>s3://bucket[/prefix][?endpoint=http://host:port][&amp;region=…][&amp;timeout=seconds]</c>: the bucket, a
/// key prefix (ending in '/' when given), for a service other than AWS (Ceph RGW, MinIO) its endpoint, and
/// how long one request may take before it fails (30 s unless given; each is tried twice more).
/// </summary>
public sealed record S3Url(string Bucket, string Prefix, string? Endpoint, string? Region, TimeSpan Timeout)
{
    public static bool IsS3Url(string url) => url.StartsWith("s3://", StringComparison.Ordinal);

    /// <summary>The URL without its query, for messages.</summary>
    public string Display => $"s3://{Bucket}/{Prefix}";

    public static S3Url Parse(string url)
    {
        if (!IsS3Url(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"{url}: not an S3 URL; give s3://bucket/prefix?endpoint=http://host:port&region=…");
        }

        string? endpoint = null, region = null;
        var timeout = TimeSpan.FromSeconds(30);
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = pair.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0
                ? (pair[..eq], Uri.UnescapeDataString(pair[(eq + 1)..]))
                : (pair, string.Empty);
            switch (name)
            {
                case "endpoint" when Uri.TryCreate(value, UriKind.Absolute, out var e) && e.Scheme is "http" or "https":
                    endpoint = value;
                    break;
                case "region" when value.Length > 0:
                    region = value;
                    break;
                case "timeout" when double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= 3600:
                    timeout = TimeSpan.FromSeconds(seconds);
                    break;
                default:
                    throw new ArgumentException($"{url}: unknown or malformed parameter '{pair}'; S3 URLs take endpoint=http(s)://host:port, region=… and timeout=seconds");
            }
        }

        var prefix = Uri.UnescapeDataString(uri.AbsolutePath).Trim('/');
        return new S3Url(uri.Host, prefix.Length == 0 ? string.Empty : prefix + "/", endpoint, region, timeout);
    }
}
