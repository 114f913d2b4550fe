using CastoreFs.Core.Digests;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Tests.Grpc;

/// <summary>A blob service that serves every blob and chunk with one byte flipped.</summary>
internal sealed class CorruptingBlobService(IBlobService inner) : IBlobService
{
    public Task<BlobStat?> StatAsync(B3Digest digest, BlobDetails details = BlobDetails.None, CancellationToken ct = default) => inner.StatAsync(digest, details, ct);

    public async Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default)
    {
        var data = await inner.ReadAllAsync(digest, ct);
        if (data is null)
        {
            return null;
        }

        data[data.Length / 2] ^= 0x01;
        return new MemoryStream(data);
    }

    public IBlobWriter OpenWrite() => inner.OpenWrite();
}

/// <summary>A directory service that answers every request with one fixed directory.</summary>
internal sealed class LyingDirectoryService(IDirectoryService inner, Directory answer) : IDirectoryService
{
    public Task<Directory?> GetAsync(B3Digest digest, CancellationToken ct = default) => Task.FromResult<Directory?>(answer);

    public IAsyncEnumerable<Directory> GetRecursiveAsync(B3Digest root, CancellationToken ct = default) => new[] { answer }.ToAsyncEnumerable();

    public IDirectoryPutter BeginPut() => inner.BeginPut();
}
