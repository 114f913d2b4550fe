using System.Security.Cryptography;
using Google.Protobuf;

namespace CastoreFs.Core.Digests;

/// <summary>A 32-byte BLAKE3 digest: of a blob's bytes, or of a Directory's canonical encoding.</summary>
public readonly struct B3Digest : IEquatable<B3Digest>
{
    public const int Length = 32;

    /// <summary>The upstream display prefix (since 2025-02; the seed printed "b3:").</summary>
    public const string DisplayPrefix = "blake3-";

    private readonly byte[]? _bytes;

    public B3Digest(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new InvalidDigestLengthException(bytes.Length, Length);
        }

        _bytes = bytes.ToArray();
    }

    /// <summary>The digest of the empty blob, and of the empty Directory (which encodes to zero bytes).</summary>
    public static B3Digest Empty { get; } = FromHex("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");

    public ReadOnlySpan<byte> Span => _bytes ?? throw new InvalidOperationException("default B3Digest");

    public static B3Digest FromHex(string hex) => new(Convert.FromHexString(hex));

    /// <summary>Parses a protobuf bytes field; any length but 32 is an error.</summary>
    public static B3Digest FromProto(ByteString bytes, string field = "digest")
    {
        if (bytes.Length != Length)
        {
            throw new InvalidDigestLengthException(bytes.Length, Length, field);
        }

        return new B3Digest(bytes.Span);
    }

    public static bool TryParse(string text, out B3Digest digest)
    {
        digest = default;
        try
        {
            if (text.StartsWith(DisplayPrefix, StringComparison.Ordinal))
            {
                var bytes = Convert.FromBase64String(text[DisplayPrefix.Length..]);
                if (bytes.Length == Length)
                {
                    digest = new B3Digest(bytes);
                    return true;
                }
            }
            else if (text.Length == 2 * Length)
            {
                digest = FromHex(text);
                return true;
            }
        }
        catch (FormatException)
        {
        }

        return false;
    }

    public ByteString ToByteString() => ByteString.CopyFrom(Span);

    public string ToHex() => Convert.ToHexStringLower(Span);

    /// <summary>The upstream display form, <c>blake3-</c> + padded standard base64 (also the xattr value).</summary>
    public override string ToString() => DisplayPrefix + Convert.ToBase64String(Span);

    public bool Equals(B3Digest other) => Span.SequenceEqual(other.Span);

    public override bool Equals(object? obj) => obj is B3Digest other && Equals(other);

    public override int GetHashCode() => BitConverter.ToInt32(Span);

    public static bool operator ==(B3Digest left, B3Digest right) => left.Equals(right);

    public static bool operator !=(B3Digest left, B3Digest right) => !left.Equals(right);

    /// <summary>Compares in constant time, for checking data against an expected digest.</summary>
    public bool FixedTimeEquals(ReadOnlySpan<byte> other) => CryptographicOperations.FixedTimeEquals(Span, other);
}
