namespace CastoreFs.Core.Digests;

public sealed class InvalidDigestLengthException(int actual, int expected, string field = "digest")
    : FormatException($"{field} must be {expected} bytes, got {actual}")
{
    public int Actual { get; } = actual;
}
