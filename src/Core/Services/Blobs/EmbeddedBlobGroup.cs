using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.IO.Interop;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Small blobs of one import written to temp files beside their final names without an fsync each; every
/// few thousand, one syncfs makes their bytes durable and they are renamed into place; the commit syncs
/// once more, for the renames, and records them all in one transaction. A tree of small files so costs a
/// few flushes of the disk instead of one per file, and a crash still never leaves a partial file under a
/// digest: no file is renamed before its bytes are durable.
/// </summary>
internal sealed class EmbeddedBlobGroup(EmbeddedBlobService service, int flushFiles = EmbeddedBlobGroup.FlushFiles) : IBlobGroup
{
    /// <summary>
    /// A flush is due after this many files or bytes: it bounds the temp files a crash leaves behind, while
    /// each flush costs the disk's flush latency whatever it holds.
    /// </summary>
    public const int FlushFiles = 8192;
    private const long FlushBytes = 512L * 1024 * 1024;

    private readonly Lock _lock = new();
    private readonly HashSet<B3Digest> _added = [];
    private readonly List<(B3Digest Digest, long Size)> _rows = [];
    private List<(string Temp, string Final)> _pending = [];
    private long _pendingBytes;
    private string? _lastRenamed;
    private bool _committed;

    public Task<B3Digest> AddAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        var digest = Blake3Hasher.Hash(data.Span);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_committed, this);
            if (!_added.Add(digest))
            {
                return Task.FromResult(digest);
            }

            _rows.Add((digest, data.Length));
        }

        var finalPath = service.PathOf(digest);
        if (File.Exists(finalPath))
        {
            // Same digest, same bytes: keep the file readers (and the kernel) may already hold open.
            return Task.FromResult(digest);
        }

        var tempPath = EmbeddedBlobWriter.WriteTempBeside(finalPath, data.Span);
        List<(string Temp, string Final)>? due = null;
        lock (_lock)
        {
            _pending.Add((tempPath, finalPath));
            _pendingBytes += data.Length;
            if (_pending.Count >= flushFiles || _pendingBytes >= FlushBytes)
            {
                due = TakePending();
            }
        }

        if (due is not null)
        {
            RenameDurably(due);
        }

        return Task.FromResult(digest);
    }

    public async Task CommitAsync(CancellationToken ct = default)
    {
        List<(string Temp, string Final)> rest;
        List<(B3Digest Digest, long Size)> rows;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_committed, this);
            _committed = true;
            rest = TakePending();
            rows = [.. _rows];
        }

        RenameDurably(rest);
        if (_lastRenamed is { } renamed)
        {
            // The renames themselves: a blob must be found under its name before anything refers to it.
            Sync(renamed);
        }

        await service.RecordAsync(rows, ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        List<(string Temp, string Final)> abandoned;
        lock (_lock)
        {
            _committed = true;
            abandoned = TakePending();
        }

        foreach (var (temp, _) in abandoned)
        {
            File.Delete(temp);
        }

        return ValueTask.CompletedTask;
    }

    private List<(string Temp, string Final)> TakePending()
    {
        var taken = _pending;
        _pending = [];
        _pendingBytes = 0;
        return taken;
    }

    /// <summary>One syncfs for the bytes of every file in <paramref name="files"/>, then their renames.</summary>
    private void RenameDurably(List<(string Temp, string Final)> files)
    {
        if (files.Count == 0)
        {
            return;
        }

        int renamed = 0;
        try
        {
            Sync(files[0].Temp);
            for (; renamed < files.Count; renamed++)
            {
                File.Move(files[renamed].Temp, files[renamed].Final, overwrite: true);
            }
        }
        catch
        {
            // The group fails; what it has not renamed yet is not left behind.
            foreach (var (temp, _) in files.Skip(renamed))
            {
                File.Delete(temp);
            }

            throw;
        }

        lock (_lock)
        {
            _lastRenamed = files[^1].Final;
        }
    }

    private static void Sync(string pathOnFileSystem)
    {
        using var file = File.OpenHandle(pathOnFileSystem, FileMode.Open, FileAccess.Read);
        FileSystemSync.Flush(file, pathOnFileSystem);
    }
}
