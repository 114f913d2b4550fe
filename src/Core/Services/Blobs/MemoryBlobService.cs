using System.Collections.Concurrent;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>Blobs in memory, each whole (no finer chunks). For tests and <c>memory://</c>.</summary>
public sealed class MemoryBlobService : IBlobService
{
    private readonly ConcurrentDictionary<B3Digest, byte[]> _blobs = new();

    public Task<BlobStat?> StatAsync(B3Digest digest, BlobDetails details = BlobDetails.None, CancellationToken ct = default) =>
        Task.FromResult(_blobs.TryGetValue(digest, out var data) ? BlobStat.Whole(data.LongLength) : null);

    public Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default) =>
        Task.FromResult<Stream?>(_blobs.TryGetValue(digest, out var data) ? new MemoryStream(data, writable: false) : null);

    public IBlobWriter OpenWrite() => new Writer(this);

    private sealed class Writer(MemoryBlobService owner) : IBlobWriter
    {
        private readonly MemoryStream _buffer = new();
        private readonly Blake3Hasher _hasher = new();

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
        {
            _hasher.Update(data.Span);
            _buffer.Write(data.Span);
            return ValueTask.CompletedTask;
        }

        public Task<B3Digest> CommitAsync(CancellationToken ct = default)
        {
            var digest = _hasher.FinalizeDigest();
            owner._blobs.TryAdd(digest, _buffer.ToArray());
            return Task.FromResult(digest);
        }

        public ValueTask DisposeAsync() => _buffer.DisposeAsync();
    }
}
