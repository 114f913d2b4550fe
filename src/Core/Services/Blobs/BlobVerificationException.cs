using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>Bytes from a store did not hash to the digest they were asked for: an error, never data.</summary>
public sealed class BlobVerificationException(B3Digest expected, B3Digest actual, string what)
    : IOException($"{what}: expected BLAKE3 {expected.ToHex()}, received data hashing to {actual.ToHex()}")
{
    public B3Digest Expected { get; } = expected;
}
