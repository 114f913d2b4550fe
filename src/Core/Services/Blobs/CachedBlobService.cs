using System.Collections.Concurrent;
using CastoreFs.Core.Digests;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// A remote blob service with an embedded store in front as a cache of at most <paramref name="maxBytes"/>:
/// a blob is fetched whole the first time it is opened, through the remote's own checks and hashed again
/// on its way in, and kept as a file, so later opens are local (and the kernel reads it itself, with
/// passthrough). The least recently used blobs are evicted once the cache is over its bound; a blob larger
/// than a quarter of it is streamed instead and never cached. Writes go to the remote.
/// </summary>
public sealed class CachedBlobService : IBlobService, ILocalBlobFiles
{
    /// <summary>A cached file's time of last use is written back at most this often (it orders evictions after a restart).</summary>
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    private readonly IBlobService _remote;
    private readonly EmbeddedBlobService _local;
    private readonly long _maxBytes;
    private readonly ConcurrentDictionary<B3Digest, Entry> _entries = new();
    private readonly ConcurrentDictionary<B3Digest, Lazy<Task<bool>>> _fetching = new();
    private readonly Lock _evicting = new();
    private long _bytes;

    public CachedBlobService(IBlobService remote, EmbeddedBlobService local, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _remote = remote;
        _local = local;
        _maxBytes = maxBytes;
        foreach (var (digest, size) in local.List())
        {
            var used = File.GetLastWriteTimeUtc(local.PathOf(digest));
            _entries[digest] = new Entry(size, used.Ticks);
            _bytes += size;
        }

        Evict(keep: null);
    }

    /// <summary>Bytes the cache holds now.</summary>
    public long CachedBytes => Interlocked.Read(ref _bytes);

    public async Task<BlobStat?> StatAsync(B3Digest digest, BlobDetails details = BlobDetails.None, CancellationToken ct = default) =>
        _entries.ContainsKey(digest) && await _local.StatAsync(digest, details, ct).ConfigureAwait(false) is { } local
            ? local
            : await _remote.StatAsync(digest, details, ct).ConfigureAwait(false);

    public async Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default)
    {
        if (TryOpenFile(digest) is { } cached)
        {
            return new FileStream(cached, FileAccess.Read, bufferSize: 0);
        }

        var fetch = _fetching.GetOrAdd(digest, d => new Lazy<Task<bool>>(() => FetchAsync(d)));
        bool stored;
        try
        {
            stored = await fetch.Value.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _fetching.TryRemove(KeyValuePair.Create(digest, fetch));
        }

        return stored && TryOpenFile(digest) is { } file
            ? new FileStream(file, FileAccess.Read, bufferSize: 0)
            : await _remote.OpenReadAsync(digest, ct).ConfigureAwait(false);
    }

    public IBlobWriter OpenWrite() => _remote.OpenWrite();

    public IBlobGroup OpenGroup() => _remote.OpenGroup();

    public SafeFileHandle? TryOpenFile(B3Digest digest)
    {
        if (!_entries.TryGetValue(digest, out var entry) || _local.TryOpenFile(digest) is not { } file)
        {
            return null;
        }

        Touch(digest, entry);
        return file;
    }

    /// <summary>
    /// Copies the blob from the remote into the cache; false when the remote lacks it or it is too large to
    /// cache. Not the caller's token: readers waiting for the same blob share one fetch.
    /// </summary>
    private async Task<bool> FetchAsync(B3Digest digest)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = timeout.Token;
        await using var source = await _remote.OpenReadAsync(digest, ct).ConfigureAwait(false);
        if (source is null || source.Length > _maxBytes / 4)
        {
            return false;
        }

        B3Digest stored;
        await using (var writer = _local.OpenWrite())
        {
            var buffer = new byte[1024 * 1024];
            int n;
            while ((n = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                await writer.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            }

            stored = await writer.CommitAsync(ct).ConfigureAwait(false);
        }

        if (stored != digest)
        {
            // The remote's reader checked every byte; two checks disagreeing is a bug, and the copy goes.
            _local.Delete(stored);
            throw new BlobVerificationException(digest, stored, "a blob copied into the cache");
        }

        if (_entries.TryAdd(digest, new Entry(source.Length, DateTime.UtcNow.Ticks)))
        {
            Interlocked.Add(ref _bytes, source.Length);
        }

        Evict(keep: digest);
        return true;
    }

    private void Touch(B3Digest digest, Entry entry)
    {
        long now = DateTime.UtcNow.Ticks;
        if (now - Interlocked.Exchange(ref entry.LastUsed, now) < TouchInterval.Ticks)
        {
            return;
        }

        try
        {
            File.SetLastWriteTimeUtc(_local.PathOf(digest), new DateTime(now, DateTimeKind.Utc));
        }
        catch (IOException)
        {
            // Evicted meanwhile: nothing to order.
        }
    }

    /// <summary>
    /// Once over its bound, drops the least recently used blobs until the cache is a sixteenth below it: the
    /// sort of every entry is paid once per sixteenth of the cache fetched, not on every fetch of a full
    /// cache. An open file stays readable.
    /// </summary>
    private void Evict(B3Digest? keep)
    {
        if (Interlocked.Read(ref _bytes) <= _maxBytes)
        {
            return;
        }

        long target = _maxBytes - (_maxBytes / 16);
        lock (_evicting)
        {
            foreach (var (digest, entry) in _entries.OrderBy(e => Interlocked.Read(ref e.Value.LastUsed)).ToList())
            {
                if (Interlocked.Read(ref _bytes) <= target)
                {
                    return;
                }

                if (digest != keep && _entries.TryRemove(digest, out _))
                {
                    _local.Delete(digest);
                    Interlocked.Add(ref _bytes, -entry.Size);
                }
            }
        }
    }

    private sealed class Entry(long size, long lastUsed)
    {
        public long Size { get; } = size;

#pragma warning disable SA1401 // Read and written with Interlocked.
        public long LastUsed = lastUsed;
#pragma warning restore SA1401
    }
}
