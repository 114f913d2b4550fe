using System.Collections.Concurrent;
using CastoreFs.Core.Caching;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos.NixBinaryCache;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Snix.Castore.V1;
using Snix.Store.V1;

namespace CastoreFs.Core.Services.PathInfos;

/// <summary>
/// Path infos from a Nix binary cache (<see cref="BinaryCacheUrl"/>), fetched on first lookup with their
/// NARs ingested into the given blob and directory services. What verified is kept in
/// <c>verified</c>, so a second lookup (in this process or the next) asks the cache nothing, as long as
/// its root is still in the store and, where signatures are required, a trusted key still signs it; a
/// path the cache lacks is remembered for an hour, as Nix's narinfo-cache-negative-ttl. One fetch per
/// path at a time however many callers wait; a caller that gives up does not stop the fetch.
/// </summary>
public sealed class NixBinaryCachePathInfoService : IPathInfoService, IDisposable
{
    private static readonly TimeSpan MissingFor = TimeSpan.FromHours(1);
    private const int MaxMissingRemembered = 65536;
    private const int KnownCapacity = 4096;

    private readonly BinaryCacheUrl _cache;
    private readonly IBlobService _blobs;
    private readonly IDirectoryService _directories;
    private readonly IPathInfoService _verified;
    private readonly IBinaryCacheFiles _files;
    private readonly NarInfoFetcher _fetcher;
    private readonly ReferencePrefetcher? _prefetcher;
    private readonly ConcurrentDictionary<string, Lazy<Task<PathInfo?>>> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _missingUntil = new(StringComparer.Ordinal);

    /// <summary>Path infos this process has checked: a lookup the kernel repeats reads no database and checks no signature again.</summary>
    private readonly GenerationalCache<string, PathInfo> _known = new(KnownCapacity, StringComparer.Ordinal);
    private readonly CancellationTokenSource _lifetime = new();

    public NixBinaryCachePathInfoService(
        BinaryCacheUrl cache, IBlobService blobs, IDirectoryService directories, IPathInfoService verified, BinaryCacheOptions? options = null)
    {
        options ??= new BinaryCacheOptions();
        var logging = options.Logging ?? NullLoggerFactory.Instance;
        _cache = cache;
        _blobs = blobs;
        _directories = directories;
        _verified = verified;
        _files = IBinaryCacheFiles.For(cache);
        _fetcher = new NarInfoFetcher(cache, _files, blobs, directories, logging.CreateLogger("castorefs.nix"), options.Progress);
        if (options.PrefetchConcurrency > 0)
        {
            _prefetcher = new ReferencePrefetcher(options.PrefetchConcurrency, (digest, ct) => GetAsync(digest, ct), logging.CreateLogger("castorefs.nix"));
        }
    }

    public string Display => _cache.Display;

    public async Task<PathInfo?> GetAsync(ReadOnlyMemory<byte> storePathDigest, CancellationToken ct = default)
    {
        if (storePathDigest.Length != Nix.StorePath.DigestLength)
        {
            return null;
        }

        var key = Convert.ToHexString(storePathDigest.Span);
        if (_known.TryGet(key, out var known))
        {
            return known;
        }

        if (_missingUntil.TryGetValue(key, out long until) && Environment.TickCount64 < until)
        {
            return null;
        }

        var digest = storePathDigest.ToArray();
        var lookup = _inFlight.GetOrAdd(key, k => new Lazy<Task<PathInfo?>>(() => StartLookup(k, digest)));
        return await lookup.Value.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>A binary cache is read here, never written.</summary>
    public Task<PathInfo> PutAsync(PathInfo pathInfo, CancellationToken ct = default) =>
        throw new NotSupportedException($"{_cache.Display} is a Nix binary cache: its path infos are read, never put");

    /// <summary>The paths fetched so far (a binary cache cannot be listed).</summary>
    public IAsyncEnumerable<PathInfo> ListAsync(CancellationToken ct = default) => _verified.ListAsync(ct);

    public void Dispose()
    {
        _lifetime.Cancel();
        _prefetcher?.Dispose();
        _files.Dispose();
        _lifetime.Dispose();
    }

    private async Task<PathInfo?> StartLookup(string key, byte[] digest)
    {
        try
        {
            return await Task.Run(() => LookupAsync(key, digest, _lifetime.Token)).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    private async Task<PathInfo?> LookupAsync(string key, byte[] digest, CancellationToken ct)
    {
        var pathInfo = await _verified.GetAsync(digest, ct).ConfigureAwait(false);
        if (pathInfo is null || !(_cache.TrustedKeys?.Verify(pathInfo) ?? true) || !await RootIsInStoreAsync(pathInfo.Node, ct).ConfigureAwait(false))
        {
            pathInfo = await _fetcher.FetchAsync(digest, ct).ConfigureAwait(false);
            if (pathInfo is null)
            {
                if (_missingUntil.Count >= MaxMissingRemembered)
                {
                    _missingUntil.Clear();
                }

                _missingUntil[key] = Environment.TickCount64 + (long)MissingFor.TotalMilliseconds;
                return null;
            }

            await _verified.PutAsync(pathInfo, ct).ConfigureAwait(false);
        }

        _known.Add(key, pathInfo);
        _prefetcher?.Expand(pathInfo);
        return pathInfo;
    }

    private async Task<bool> RootIsInStoreAsync(Node root, CancellationToken ct) => root.NodeCase switch
    {
        Node.NodeOneofCase.Directory => await _directories.GetAsync(B3Digest.FromProto(root.Directory.Digest), ct).ConfigureAwait(false) is not null,
        Node.NodeOneofCase.File => await _blobs.StatAsync(B3Digest.FromProto(root.File.Digest), ct: ct).ConfigureAwait(false) is not null,
        _ => true,
    };
}
