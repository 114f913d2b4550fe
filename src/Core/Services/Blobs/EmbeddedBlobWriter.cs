using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.IO;
using CastoreFs.Core.IO.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Writes to a temp file while hashing the blob; commit fsyncs, renames into place and records the blob,
/// so a crash never leaves a partial file under a digest. The chunk index is left to the first stat
/// (<see cref="EmbeddedBlobService.StatAsync"/>): hashing every chunk again on import cost a quarter of
/// its time, and most blobs are never asked for their chunks.
/// Large block-aligned writes bypass the page cache (O_DIRECT): a new blob is rarely read right away, and on
/// this kind of virtual machine filling fresh page-cache pages and writing them back at the fsync cost more
/// than the disk write itself (1 GiB: 0.5 s direct against 0.6–3.2 s buffered with fsync).
/// </summary>
internal sealed class EmbeddedBlobWriter : IBlobWriter
{
    /// <summary>Below this, writing and hashing on other threads costs more in hand-offs than it gains.</summary>
    private const int ConcurrentBytes = 256 * 1024;

    /// <summary>Smaller writes stay in the page cache, where the small files of a tree are soon read back.</summary>
    private const int UnbufferedBytes = 1024 * 1024;

    private readonly EmbeddedBlobService _service;
    private readonly string _tempPath;
    private readonly SafeFileHandle _file;
    private SafeFileHandle? _unbuffered;
    private bool _unbufferedRefused;
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
        var write = Task.Run(() => WriteAt(data, offset), ct);
        _blobHasher.Update(data.Span);
        await write.ConfigureAwait(false);
    }

    private void WriteAt(ReadOnlyMemory<byte> data, long offset)
    {
        using var pin = data.Pin();
        if (data.Length >= UnbufferedBytes && UnbufferedIo.IsAligned(offset, data.Span) && Unbuffered() is { } direct)
        {
            try
            {
                RandomAccess.Write(direct, data.Span, offset);
                return;
            }
            catch (IOException)
            {
                // A filesystem that refuses O_DIRECT (EINVAL): this write and the rest go through the page cache.
                // A real failure (ENOSPC, EIO) comes back from the buffered write below.
                _unbufferedRefused = true;
            }
        }

        RandomAccess.Write(_file, data.Span, offset);
    }

    private SafeFileHandle? Unbuffered()
    {
        if (_unbuffered is null && !_unbufferedRefused)
        {
            _unbuffered = LinuxDirectOpen.TryOpen(_tempPath, FileAccess.Write);
            _unbufferedRefused = _unbuffered is null;
        }

        return _unbufferedRefused ? null : _unbuffered;
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
            CloseFiles();
            File.Delete(_tempPath);
        }
        else
        {
            RandomAccess.FlushToDisk(_file);
            CloseFiles();
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
            CloseFiles();
            File.Delete(_tempPath);
        }

        return ValueTask.CompletedTask;
    }

    private void CloseFiles()
    {
        _unbuffered?.Dispose();
        _file.Dispose();
    }

    private async Task RecordAsync(B3Digest digest, CancellationToken ct)
    {
        using var connection = _service.Database.Connect();
        using var blob = EmbeddedDatabase.Command(connection, "INSERT OR IGNORE INTO blobs (digest, size) VALUES ($d, $s)", ("$d", digest.Span.ToArray()), ("$s", _length));
        await blob.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
