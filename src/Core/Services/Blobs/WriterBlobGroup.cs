using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>A group for a store without a cheaper way: each blob is committed on its own as it is added.</summary>
internal sealed class WriterBlobGroup(IBlobService blobs) : IBlobGroup
{
    public async Task<B3Digest> AddAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        await using var blob = blobs.OpenWrite();
        await blob.WriteAsync(data, ct).ConfigureAwait(false);
        return await blob.CommitAsync(ct).ConfigureAwait(false);
    }

    public IBlobWriter OpenWrite() => blobs.OpenWrite();

    public Task CommitAsync(CancellationToken ct = default) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
