using CastoreFs.Core.Digests;
using CastoreFs.Core.IO.Interop;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Small blobs of one import written beside their final names (<see cref="UnplacedBlob"/>) without an
/// fsync each; one syncfs at a time makes the bytes of those written so far durable and they are put into
/// place, while the import writes on; the commit flushes the last of them, syncs once more for the names,
/// and records them all in one transaction. A tree of small files so costs a flush of the disk per batch
/// instead of one per file, mostly while it is still being read, and a crash still never leaves a partial
/// file under a digest: no file is named before its bytes are durable.
/// </summary>
internal sealed class EmbeddedBlobGroup(EmbeddedBlobService service, int flushFiles = EmbeddedBlobGroup.FlushFiles, bool unnamedFiles = true, int? heldFiles = null) : IBlobGroup
{
    /// <summary>
    /// A flush is due after this many files or bytes: it bounds the unplaced files a crash leaves behind, while
    /// each flush costs the disk's flush latency whatever it holds.
    /// </summary>
    public const int FlushFiles = 8192;
    private const long FlushBytes = 512L * 1024 * 1024;

    /// <summary>
    /// With no flush running, one starts once this many files or bytes wait: the flushes then overlap the
    /// import, and its commit waits for the last batch alone. Left to the commit, the syncfs and the naming
    /// of /usr/share/doc's 5,561 files (under either bound above) took a fifth of its import.
    /// </summary>
    private const int BatchFiles = 512;
    private const long BatchBytes = 32L * 1024 * 1024;

    /// <summary>Unnamed files are open until placed: at most half the process's descriptors wait at once.</summary>
    private static readonly int s_heldFilesLimit = (int)Math.Max(1, LinuxUnnamedFile.OpenFileLimit / 2);

    /// <summary>
    /// One for each unnamed file held, whichever flush will place it: flushes that overlap each hold up to
    /// their bound. With the commit threads slowed (an experiment), an import of 100,000 files ran out of
    /// descriptors (EMFILE) under a limit of 20,000.
    /// </summary>
    private readonly int _heldFiles = heldFiles ?? s_heldFilesLimit;
    private readonly SemaphoreSlim _descriptors = new(heldFiles ?? s_heldFilesLimit);

    private readonly Lock _lock = new();
    private readonly EmbeddedBlobFolders _folders = new(service.Database.BlobsPath);
    private readonly HashSet<B3Digest> _added = [];
    private readonly List<(B3Digest Digest, long Size)> _rows = [];
    private List<UnplacedBlob> _pending = [];
    private long _pendingBytes;
    private int _flushesRunning;
    private string? _lastPlaced;
    private bool _unnamedRefused = !unnamedFiles;
    private bool _committed;

    /// <summary>
    /// Stores <paramref name="data"/> under the digest its caller computed: the store is the caller's own,
    /// and hashing every small blob twice cost an import of 100,000 files a few hundredths of its CPU.
    /// </summary>
    public Task AddAsync(B3Digest digest, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_committed, this);
            if (!_added.Add(digest))
            {
                return Task.CompletedTask;
            }

            _rows.Add((digest, data.Length));
        }

        // A racy read: a thread that misses a refusal meets it again itself.
        bool unnamedRefused = Volatile.Read(ref _unnamedRefused);
        bool permit = !unnamedRefused;
        if (permit)
        {
            _descriptors.Wait(ct);
        }

        UnplacedBlob? unplaced = null;
        try
        {
            // A file already there is kept: readers (and the kernel) may hold it open.
            unplaced = UnplacedBlob.Write(_folders, digest, service.PathOf(digest), data.Span, ref unnamedRefused);
        }
        finally
        {
            if (permit && unplaced is not { HoldsDescriptor: true })
            {
                _descriptors.Release();
            }
        }

        if (unnamedRefused)
        {
            Volatile.Write(ref _unnamedRefused, true);
        }

        if (unplaced is not null)
        {
            Pend(unplaced, data.Length);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// A large blob written to a temp file and placed with the group: its bytes are made durable by the
    /// group's next syncfs, not by an fsync and a transaction of its own (two flushes of the disk each).
    /// </summary>
    public IBlobWriter OpenWrite() => new EmbeddedBlobWriter(service, this);

    /// <summary>
    /// Takes a blob a writer of this group wrote to <paramref name="tempPath"/>, not yet durable, to be
    /// renamed into place at the group's next flush; null when the store has the file already.
    /// </summary>
    internal void Adopt(B3Digest digest, long size, string? tempPath)
    {
        bool committed, known = false;
        lock (_lock)
        {
            committed = _committed;
            if (!committed && !(known = !_added.Add(digest)))
            {
                _rows.Add((digest, size));
            }
        }

        if (tempPath is not null && (committed || known))
        {
            File.Delete(tempPath);
        }

        ObjectDisposedException.ThrowIf(committed, this);
        if (tempPath is null || known)
        {
            return;
        }

        Pend(UnplacedBlob.Renamed(service.PathOf(digest), tempPath), size);
    }

    /// <summary>
    /// Adds a written blob to those the next flush places, and flushes when a batch waits and no flush is
    /// running, or when the bound on waiting files is reached even while one is.
    /// </summary>
    private void Pend(UnplacedBlob unplaced, long size)
    {
        List<UnplacedBlob>? due = null;
        lock (_lock)
        {
            _pending.Add(unplaced);
            _pendingBytes += size;
            int bound = unplaced.HoldsDescriptor ? Math.Min(flushFiles, _heldFiles) : flushFiles;
            bool batchWaits = _pending.Count >= Math.Min(BatchFiles, bound) || _pendingBytes >= BatchBytes;
            if ((batchWaits && _flushesRunning == 0) || _pending.Count >= bound || _pendingBytes >= FlushBytes)
            {
                due = TakePending();
                _flushesRunning++;
            }
        }

        if (due is null)
        {
            return;
        }

        try
        {
            PlaceDurably(due);
        }
        finally
        {
            lock (_lock)
            {
                _flushesRunning--;
            }
        }
    }

    public async Task CommitAsync(CancellationToken ct = default)
    {
        List<UnplacedBlob> rest;
        List<(B3Digest Digest, long Size)> rows;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_committed, this);
            _committed = true;
            rest = TakePending();
            rows = [.. _rows];
        }

        PlaceDurably(rest);
        if (_lastPlaced is { } placed)
        {
            // The names themselves: a blob must be found under its name before anything refers to it.
            FileSystemSync.Flush(placed);
        }

        await service.RecordAsync(rows, ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        List<UnplacedBlob> abandoned;
        lock (_lock)
        {
            _committed = true;
            abandoned = TakePending();
        }

        foreach (var blob in abandoned)
        {
            Let(blob);
        }

        _folders.Dispose();
        _descriptors.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Lets go of a blob, and of the descriptor it may hold.</summary>
    private void Let(UnplacedBlob blob)
    {
        blob.Dispose();
        if (blob.HoldsDescriptor)
        {
            _descriptors.Release();
        }
    }

    private List<UnplacedBlob> TakePending()
    {
        var taken = _pending;
        _pending = [];
        _pendingBytes = 0;
        return taken;
    }

    /// <summary>One syncfs for the bytes of every blob in <paramref name="blobs"/>, then their names.</summary>
    private void PlaceDurably(List<UnplacedBlob> blobs)
    {
        if (blobs.Count == 0)
        {
            return;
        }

        try
        {
            blobs[0].FlushFileSystem();
            foreach (var blob in blobs)
            {
                blob.Place();
            }
        }
        finally
        {
            // Placed, a blob's file stays; on a failure, what was not placed yet is not left behind.
            foreach (var blob in blobs)
            {
                Let(blob);
            }
        }

        lock (_lock)
        {
            _lastPlaced = blobs[^1].FinalPath;
        }
    }
}
