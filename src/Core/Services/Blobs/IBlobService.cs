using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>Blobs: file contents addressed by their BLAKE3 digest.</summary>
public interface IBlobService
{
    /// <summary>
    /// What the store knows of a blob, or null when it is unknown. <paramref name="details"/> asks for the
    /// chunk list and the outboard, which a store may have to compute on first use; without them a stat
    /// only says whether the blob exists.
    /// </summary>
    Task<BlobStat?> StatAsync(B3Digest digest, BlobDetails details = BlobDetails.None, CancellationToken ct = default);

    /// <summary>A seekable, read-only stream over the blob, or null when it is unknown.</summary>
    Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default);

    /// <summary>Starts a blob; its digest is known when the writer is committed.</summary>
    IBlobWriter OpenWrite();

    /// <summary>Starts a group of whole blobs made durable together; by default each is committed on its own.</summary>
    IBlobGroup OpenGroup() => new WriterBlobGroup(this);
}

/// <summary>What a stat asks for beyond the blob's existence.</summary>
[Flags]
public enum BlobDetails
{
    None = 0,

    /// <summary>The chunks the blob is stored in, each readable by its own digest.</summary>
    Chunks = 1,

    /// <summary>The BLAKE3 tree above the blob's 1 MiB groups (<see cref="Blake3.Outboard"/>).</summary>
    Outboard = 2,
}

/// <summary>
/// A blob's size when the store knows it; its chunks (empty when it is not split further, as upstream's
/// <c>Some([])</c>); and its outboard (empty for blobs of 1 MiB or less, or when the store has none).
/// Only the digest that named the blob is to be trusted: a remote store's chunks and outboard are claims.
/// </summary>
public sealed record BlobStat(long? Size, IReadOnlyList<ChunkMeta> Chunks, ReadOnlyMemory<byte> Outboard)
{
    public static BlobStat Whole(long? size) => new(size, [], ReadOnlyMemory<byte>.Empty);
}

/// <summary>A chunk of a blob: the BLAKE3 digest of its bytes and its length.</summary>
public readonly record struct ChunkMeta(B3Digest Digest, ulong Size);
