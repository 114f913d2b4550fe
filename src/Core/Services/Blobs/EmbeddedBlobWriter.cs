using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Writes to a temp file while hashing the blob and its 1 MiB chunks; commit fsyncs, renames into place
/// and indexes, so a crash never leaves a partial file under a digest.
/// </summary>
internal sealed class EmbeddedBlobWriter : IBlobWriter
{
    /// <summary>Below this, writing and hashing on other threads costs more in hand-offs than it gains.</summary>
    private const int ConcurrentBytes = 256 * 1024;

    private readonly EmbeddedBlobService _service;
    private readonly string _tempPath;
    private readonly SafeFileHandle _file;
    private readonly Blake3Hasher _blobHasher = new();
    private readonly List<ChunkMeta> _chunks = [];
    private Blake3Hasher _chunkHasher = new();
    private long _length;
    private long _chunkLength;
    private bool _committed;

    public EmbeddedBlobWriter(EmbeddedBlobService service)
    {
        _service = service;
        _tempPath = Path.Combine(service.Database.TempPath, Guid.NewGuid().ToString("N"));
        _file = File.OpenHandle(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None);
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        long offset = _length;
        _length += data.Length;
        if (data.Length < ConcurrentBytes)
        {
            _blobHasher.Update(data.Span);
            HashChunks(data.Span);
            RandomAccess.Write(_file, data.Span, offset);
            return;
        }

        // The write, the blob hash and the chunk hashes are independent: three threads, joined here.
        var write = Task.Run(() => RandomAccess.Write(_file, data.Span, offset), ct);
        var chunks = Task.Run(() => HashChunks(data.Span), ct);
        _blobHasher.Update(data.Span);
        await write.ConfigureAwait(false);
        await chunks.ConfigureAwait(false);
    }

    public async Task<B3Digest> CommitAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        _committed = true;
        var digest = _blobHasher.FinalizeDigest();
        if (_chunkLength > 0)
        {
            _chunks.Add(new ChunkMeta(_chunkHasher.FinalizeDigest(), (ulong)_chunkLength));
        }

        var finalPath = _service.PathOf(digest);
        if (File.Exists(finalPath))
        {
            // Same digest, same bytes: keep the file readers (and the kernel) may already hold open.
            _file.Dispose();
            File.Delete(_tempPath);
        }
        else
        {
            RandomAccess.FlushToDisk(_file);
            _file.Dispose();
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
            File.Move(_tempPath, finalPath, overwrite: true);
        }

        await IndexAsync(digest, ct).ConfigureAwait(false);
        return digest;
    }

    public ValueTask DisposeAsync()
    {
        if (!_committed)
        {
            _committed = true;
            _file.Dispose();
            File.Delete(_tempPath);
        }

        return ValueTask.CompletedTask;
    }

    private void HashChunks(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int take = (int)Math.Min(EmbeddedBlobService.ChunkSize - _chunkLength, data.Length);
            _chunkHasher.Update(data[..take]);
            _chunkLength += take;
            data = data[take..];
            if (_chunkLength == EmbeddedBlobService.ChunkSize)
            {
                _chunks.Add(new ChunkMeta(_chunkHasher.FinalizeDigest(), (ulong)_chunkLength));
                _chunkHasher = new Blake3Hasher();
                _chunkLength = 0;
            }
        }
    }

    private async Task IndexAsync(B3Digest digest, CancellationToken ct)
    {
        var db = _service.Database;
        using var connection = db.Connect();
        using var transaction = connection.BeginTransaction();
        using (var blob = EmbeddedDatabase.Command(connection, "INSERT OR IGNORE INTO blobs (digest, size) VALUES ($d, $s)", ("$d", digest.Span.ToArray()), ("$s", _length)))
        {
            blob.Transaction = transaction;
            await blob.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        // A blob of one chunk is its own chunk: upstream reports no finer chunking for it.
        if (_chunks.Count > 1)
        {
            long offset = 0;
            for (int i = 0; i < _chunks.Count; i++)
            {
                using var chunk = EmbeddedDatabase.Command(
                    connection,
                    "INSERT OR IGNORE INTO chunks (blob, idx, digest, offset, size) VALUES ($b, $i, $d, $o, $s)",
                    ("$b", digest.Span.ToArray()), ("$i", i), ("$d", _chunks[i].Digest.Span.ToArray()), ("$o", offset), ("$s", (long)_chunks[i].Size));
                chunk.Transaction = transaction;
                await chunk.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                offset += (long)_chunks[i].Size;
            }
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }
}
