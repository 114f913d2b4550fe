using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>Blobs: file contents addressed by their BLAKE3 digest.</summary>
public interface IBlobService
{
    /// <summary>
    /// The blob's chunks, or null when it is unknown. An empty list means the blob exists and is not split
    /// further (upstream's <c>Some([])</c>).
    /// </summary>
    Task<IReadOnlyList<ChunkMeta>?> StatAsync(B3Digest digest, CancellationToken ct = default);

    /// <summary>A seekable, read-only stream over the blob, or null when it is unknown.</summary>
    Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default);

    /// <summary>Starts a blob; its digest is known when the writer is committed.</summary>
    IBlobWriter OpenWrite();
}

/// <summary>A chunk of a blob: the BLAKE3 digest of its bytes and its length.</summary>
public readonly record struct ChunkMeta(B3Digest Digest, ulong Size);
