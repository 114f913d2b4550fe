using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

public static class BlobWriterExtensions
{
    /// <summary>Writes a whole blob from memory.</summary>
    public static async Task<B3Digest> PutAsync(this IBlobService blobs, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        await using var writer = blobs.OpenWrite();
        await writer.WriteAsync(data, ct).ConfigureAwait(false);
        return await writer.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Reads a whole blob into memory; null when it is unknown. For small blobs and tests.</summary>
    public static async Task<byte[]?> ReadAllAsync(this IBlobService blobs, B3Digest digest, CancellationToken ct = default)
    {
        await using var stream = await blobs.OpenReadAsync(digest, ct).ConfigureAwait(false);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, ct).ConfigureAwait(false);
        return copy.ToArray();
    }
}
