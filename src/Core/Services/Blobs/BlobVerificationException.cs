using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// What a store sent for a blob contradicts the digest that named it (bytes that hash to another digest,
/// an outboard that does not compose to it, chunks that do not add up): an error, never data.
/// </summary>
public sealed class BlobVerificationException : IOException
{
    public BlobVerificationException(B3Digest expected, B3Digest actual, string what)
        : base($"{what}: expected BLAKE3 {expected.ToHex()}, received data hashing to {actual.ToHex()}") => Expected = expected;

    public BlobVerificationException(B3Digest expected, string message)
        : base(message) => Expected = expected;

    public B3Digest Expected { get; }
}
