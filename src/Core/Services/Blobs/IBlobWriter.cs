using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>Writes one blob. Nothing is visible under a digest until <see cref="CommitAsync"/> returns.</summary>
public interface IBlobWriter : IAsyncDisposable
{
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>Makes the blob durable and readable; returns its digest.</summary>
    Task<B3Digest> CommitAsync(CancellationToken ct = default);
}
