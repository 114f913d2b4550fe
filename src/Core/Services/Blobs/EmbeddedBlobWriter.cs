using System.Buffers;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.IO;
using CastoreFs.Core.IO.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Hashes the blob while writing it to a temp file; commit fsyncs, renames into place and records the blob,
/// so a crash never leaves a partial file under a digest. The chunk index is left to the first stat
/// (<see cref="EmbeddedBlobService.StatAsync"/>): hashing every chunk again on import cost a quarter of
/// its time, and most blobs are never asked for their chunks.
/// <list type="bullet">
/// <item>A small blob stays in memory until commit, and touches the disk only when the store lacks it.
/// A tree holds many equal small files, and a temp file created and deleted for each copy made every
/// later file creation slower (ext4 without a journal steps over recently deleted inodes).</item>
/// <item>Large block-aligned writes bypass the page cache (O_DIRECT): a new blob is rarely read at once,
/// and on this kind of virtual machine filling fresh page-cache pages and writing them back at the fsync
/// cost more than the disk write itself (1 GiB: 0.5 s direct against 0.6–3.2 s buffered with fsync).</item>
/// </list>
/// </summary>
internal sealed class EmbeddedBlobWriter(EmbeddedBlobService service, EmbeddedBlobGroup? group = null) : IBlobWriter
{
    /// <summary>Below this, writing and hashing on other threads costs more in hand-offs than it gains.</summary>
    private const int ConcurrentBytes = 256 * 1024;

    /// <summary>
    /// Blobs up to this size are held in memory until commit. Larger writes go to the file, around the page
    /// cache when aligned; smaller ones stay in it, where the small files of a tree are soon read back.
    /// </summary>
    private const int InMemoryBytes = 1024 * 1024;

    /// <summary>Names a blob file being written; a finished one is named by its 64 hex digits.</summary>
    private const string TempPrefix = "tmp-";

    /// <summary>A temp file's name is known to no one else; off Windows, FileShare.None would only ask for an exclusive flock.</summary>
    private static readonly FileShare TempShare = OperatingSystem.IsWindows() ? FileShare.None : FileShare.ReadWrite | FileShare.Delete;

    private readonly Blake3Hasher _blobHasher = new();
    private byte[]? _held;
    private int _heldLength;
    private string? _tempPath;
    private SafeFileHandle? _file;
    private SafeFileHandle? _unbuffered;
    private bool _unbufferedRefused;
    private long _length;
    private bool _committed;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        long offset = _length;
        _length += data.Length;
        if (_file is null && _length <= InMemoryBytes)
        {
            _held ??= ArrayPool<byte>.Shared.Rent(InMemoryBytes);
            data.Span.CopyTo(_held.AsSpan(_heldLength));
            _heldLength += data.Length;
            _blobHasher.Update(data.Span);
            return;
        }

        var file = SpillToFile();
        if (data.Length < ConcurrentBytes)
        {
            _blobHasher.Update(data.Span);
            RandomAccess.Write(file, data.Span, offset);
            return;
        }

        // The write and the hash are independent: two threads, joined here. The write stays on this thread
        // so the disk starts at once: this thread sleeps in it and leaves its core to the hash. Written from
        // the pool instead, it waited for a core while the hash and the import's SHA-256 held both, and the
        // disk idled through most of each hash (1 GiB: blob stage 1.1 s for 0.75 s of writes and 0.4 s of hash).
        Task hash = Task.Run(() => _blobHasher.Update(data.Span), ct);
        try
        {
            WriteAt(data, offset);
        }
        catch
        {
            // The hash still reads data, which is the caller's again once this returns.
            await hash.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await hash.ConfigureAwait(false);
    }

    public async Task<B3Digest> CommitAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        _committed = true;
        var digest = _blobHasher.FinalizeDigest();

        var finalPath = service.PathOf(digest);
        string? unplaced = null;
        if (File.Exists(finalPath))
        {
            // Same digest, same bytes: keep the file readers (and the kernel) may already hold open.
            Release();
        }
        else
        {
            // A blob held in memory is written beside its final name: many small blobs committed at once
            // then spread over 256 folders instead of queueing on the lock of one.
            var file = SpillToFile(Path.GetDirectoryName(finalPath)!);
            if (group is null)
            {
                RandomAccess.FlushToDisk(file);
            }

            unplaced = _tempPath!;
            Release(deleteTemp: false);
        }

        if (group is not null)
        {
            // The group makes it durable, names it and records it with its other blobs.
            group.Adopt(digest, _length, unplaced);
            return digest;
        }

        if (unplaced is not null)
        {
            MoveIntoPlace(unplaced, finalPath);
        }

        await service.RecordAsync([(digest, _length)], ct).ConfigureAwait(false);
        return digest;
    }

    public ValueTask DisposeAsync()
    {
        if (!_committed)
        {
            _committed = true;
            Release();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>A spilled blob's folder may not exist yet: it is made on the first blob of its prefix.</summary>
    private static void MoveIntoPlace(string tempPath, string finalPath) => FolderOnDemand.Create(Path.GetDirectoryName(finalPath)!, () =>
    {
        File.Move(tempPath, finalPath, overwrite: true);
        return finalPath;
    });

    /// <summary>
    /// The temp file, created on first need (in <paramref name="folder"/>, made if missing) with whatever
    /// was held in memory written to it.
    /// </summary>
    private SafeFileHandle SpillToFile(string? folder = null)
    {
        if (_file is null)
        {
            _file = CreateTemp(folder ?? service.Database.TempPath, out var tempPath);
            _tempPath = tempPath;
            if (_held is { } held)
            {
                RandomAccess.Write(_file, held.AsSpan(0, _heldLength), 0);
                ArrayPool<byte>.Shared.Return(held);
                _held = null;
            }
        }

        return _file;
    }

    /// <summary>Writes a whole blob to a new temp file beside <paramref name="finalPath"/>, without an fsync; returns its path.</summary>
    internal static string WriteTempBeside(string finalPath, ReadOnlySpan<byte> data)
    {
        using var file = CreateTemp(Path.GetDirectoryName(finalPath)!, out var tempPath);
        RandomAccess.Write(file, data, 0);
        return tempPath;
    }

    /// <summary>A new temp file in <paramref name="folder"/>, which is made if missing.</summary>
    private static SafeFileHandle CreateTemp(string folder, out string path)
    {
        var created = Path.Combine(folder, TempPrefix + Guid.NewGuid().ToString("N"));
        path = created;
        return FolderOnDemand.Create(folder, () => File.OpenHandle(created, FileMode.CreateNew, FileAccess.Write, TempShare));
    }

    private void WriteAt(ReadOnlyMemory<byte> data, long offset)
    {
        using var pin = data.Pin();
        if (data.Length >= InMemoryBytes && UnbufferedIo.IsAligned(offset, data.Span) && Unbuffered() is { } direct)
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

        RandomAccess.Write(_file!, data.Span, offset);
    }

    private SafeFileHandle? Unbuffered()
    {
        if (_unbuffered is null && !_unbufferedRefused)
        {
            _unbuffered = LinuxDirectOpen.TryOpenForWriting(_tempPath!);
            _unbufferedRefused = _unbuffered is null;
        }

        return _unbufferedRefused ? null : _unbuffered;
    }

    private void Release(bool deleteTemp = true)
    {
        if (_held is { } held)
        {
            ArrayPool<byte>.Shared.Return(held);
            _held = null;
        }

        _unbuffered?.Dispose();
        _file?.Dispose();
        if (deleteTemp && _tempPath is { } tempPath)
        {
            File.Delete(tempPath);
        }
    }
}
