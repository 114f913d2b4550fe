using System.Globalization;

namespace CastoreFs.Cli;

/// <summary>Sizes as users write them: <c>10GiB</c>, <c>512MiB</c>, <c>2G</c> (also binary), <c>1.5TiB</c> or plain bytes.</summary>
internal static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10),
        ("T", 1L << 40), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10), ("B", 1),
    ];

    public static long Parse(string text)
    {
        var trimmed = text.Trim();
        foreach (var (suffix, factor) in Units.Append((string.Empty, 1L)))
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(trimmed[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && value * factor is >= 1 and < long.MaxValue)
            {
                return (long)(value * factor);
            }
        }

        throw new ArgumentException($"'{text}' is not a size; write it as 10GiB, 512MiB or a number of bytes");
    }
}
