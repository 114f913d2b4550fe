using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Whole blobs written together and made durable together, as an import writes a tree's small files: a
/// store may then flush once for all of them rather than once each. The store knows a blob of the group
/// (<see cref="IBlobService.StatAsync"/>) only once the group is committed, and never before its bytes are
/// durable; a group disposed uncommitted adds nothing the store would answer for.
/// </summary>
public interface IBlobGroup : IAsyncDisposable
{
    /// <summary>
    /// Adds a whole blob that hashes to <paramref name="digest"/>, as its caller has just computed:
    /// a store that hashes what it is sent anyway refuses a mismatch (<see cref="BlobVerificationException"/>),
    /// and the embedded store takes the digest as given. <paramref name="data"/> may be reused once this returns.
    /// </summary>
    Task AddAsync(B3Digest digest, ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>
    /// A blob written in parts, as a large file is. Its <see cref="IBlobWriter.CommitAsync"/> returns the
    /// digest; the blob is durable and known with the rest of the group, once the group is committed.
    /// </summary>
    IBlobWriter OpenWrite();

    /// <summary>Makes every blob added durable and known to the store.</summary>
    Task CommitAsync(CancellationToken ct = default);
}
