using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>A group for a store without a cheaper way: each blob is committed on its own as it is added.</summary>
internal sealed class WriterBlobGroup(IBlobService blobs) : IBlobGroup
{
    public async Task AddAsync(B3Digest digest, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        await using var blob = blobs.OpenWrite();
        await blob.WriteAsync(data, ct).ConfigureAwait(false);
        var stored = await blob.CommitAsync(ct).ConfigureAwait(false);
        if (stored != digest)
        {
            throw new BlobVerificationException(digest, stored, "a blob added to a group");
        }
    }

    public IBlobWriter OpenWrite() => blobs.OpenWrite();

    public Task CommitAsync(CancellationToken ct = default) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
