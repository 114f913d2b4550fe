using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Writes to a temp file while hashing the blob; commit fsyncs, renames into place and records the blob,
/// so a crash never leaves a partial file under a digest. The chunk index is left to the first stat
/// (<see cref="EmbeddedBlobService.StatAsync"/>): hashing every chunk again on import cost a quarter of
/// its time, and most blobs are never asked for their chunks.
/// </summary>
internal sealed class EmbeddedBlobWriter : IBlobWriter
{
    /// <summary>Below this, writing and hashing on other threads costs more in hand-offs than it gains.</summary>
    private const int ConcurrentBytes = 256 * 1024;

    private readonly EmbeddedBlobService _service;
    private readonly string _tempPath;
    private readonly SafeFileHandle _file;
    private readonly Blake3Hasher _blobHasher = new();
    private long _length;
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
            RandomAccess.Write(_file, data.Span, offset);
            return;
        }

        // The write and the hash are independent: two threads, joined here.
        var write = Task.Run(() => RandomAccess.Write(_file, data.Span, offset), ct);
        _blobHasher.Update(data.Span);
        await write.ConfigureAwait(false);
    }

    public async Task<B3Digest> CommitAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        _committed = true;
        var digest = _blobHasher.FinalizeDigest();

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

        await RecordAsync(digest, ct).ConfigureAwait(false);
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

    private async Task RecordAsync(B3Digest digest, CancellationToken ct)
    {
        using var connection = _service.Database.Connect();
        using var blob = EmbeddedDatabase.Command(connection, "INSERT OR IGNORE INTO blobs (digest, size) VALUES ($d, $s)", ("$d", digest.Span.ToArray()), ("$s", _length));
        await blob.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
