using CastoreFs.Core.Grpc;
using CastoreFs.Core.S3;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos;
using CastoreFs.Core.Services.PathInfos.NixBinaryCache;

namespace CastoreFs.Core.Services;

/// <summary>The three services of one store, opened from tvix-store style URLs.</summary>
public sealed class CastoreStore : IDisposable
{
    private readonly List<IDisposable> _owned;

    /// <summary>A store of given services; for composing wrappers and in-process use.</summary>
    public CastoreStore(IBlobService blobs, IDirectoryService directories, IPathInfoService pathInfos)
        : this(blobs, directories, pathInfos, [])
    {
    }

    private CastoreStore(IBlobService blobs, IDirectoryService directories, IPathInfoService pathInfos, List<IDisposable> owned)
    {
        Blobs = blobs;
        Directories = directories;
        PathInfos = pathInfos;
        _owned = owned;
    }

    public IBlobService Blobs { get; }

    public IDirectoryService Directories { get; }

    public IPathInfoService PathInfos { get; }

    /// <summary>
    /// The embedded store users get with no flags: <c>$XDG_DATA_HOME/castorefs</c> (else
    /// <c>~/.local/share/castorefs</c>), or <c>%LOCALAPPDATA%\castorefs</c> on Windows.
    /// </summary>
    public static string DefaultPath
    {
        get
        {
            if (OperatingSystem.IsWindows())
            {
                return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "castorefs");
            }

            var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            return string.IsNullOrEmpty(dataHome)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "castorefs")
                : Path.Combine(dataHome, "castorefs");
        }
    }

    /// <summary>Where blobs fetched from remote stores are kept once verified.</summary>
    public static string DefaultCachePath
    {
        get
        {
            if (OperatingSystem.IsWindows())
            {
                return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "castorefs", "cache");
            }

            var cacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            return Path.Combine(
                string.IsNullOrEmpty(cacheHome) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : cacheHome,
                "castorefs");
        }
    }

    public static CastoreStore Open(string url, string? cachePath = null) => Open(url, url, url, cachePath);

    /// <summary>
    /// Opens each service from its URL: <c>memory://</c>, a folder or <c>file:///folder</c> (the embedded
    /// store), <c>grpc+unix:///path.sock</c>, <c>grpc+http(s)://host:port</c>, <c>s3://bucket/prefix?endpoint=…</c>
    /// for blobs and directories (<see cref="S3Url"/>), and for path infos <c>postgresql://…</c>
    /// (<see cref="PostgresUrl"/>) or a Nix binary cache (<see cref="BinaryCacheUrl"/>), whose NARs go into
    /// the blob and directory services.
    /// URLs naming the same folder or server share one database or connection.
    /// </summary>
    /// <param name="blobCacheBytes">
    /// When given, a remote blob service (S3 or gRPC) gets a local cache of at most this many bytes in front
    /// (<see cref="CachedBlobService"/>), under <paramref name="cachePath"/>, one per blob URL.
    /// </param>
    public static CastoreStore Open(
        string blobUrl, string directoryUrl, string pathInfoUrl, string? cachePath = null, BinaryCacheOptions? binaryCache = null, long? blobCacheBytes = null)
    {
        foreach (var url in new[] { blobUrl, directoryUrl })
        {
            if (BinaryCacheUrl.IsBinaryCacheUrl(url))
            {
                throw new ArgumentException($"{url}: a Nix binary cache serves path infos; give it as the path info service (--path-info-service-addr) and keep blobs and directories in a store");
            }
        }

        var owned = new List<IDisposable>();
        var databases = new Dictionary<string, EmbeddedDatabase>(StringComparer.Ordinal);
        var connections = new Dictionary<string, GrpcConnection>(StringComparer.Ordinal);
        var buckets = new Dictionary<string, S3Bucket>(StringComparer.Ordinal);
        try
        {
            IBlobService blobs = S3Url.IsS3Url(blobUrl)
                ? new S3BlobService(Bucket(blobUrl, buckets, owned))
                : Resolve<IBlobService>(
                    blobUrl, static () => new MemoryBlobService(), db => new EmbeddedBlobService(db),
                    c => new GrpcBlobService(c, Path.Combine(cachePath ?? DefaultCachePath, "blobs")), databases, connections, owned);
            if (blobCacheBytes is { } bound)
            {
                blobs = Cached(blobUrl, blobs, bound, cachePath ?? DefaultCachePath);
            }

            var directories = S3Url.IsS3Url(directoryUrl)
                ? new S3DirectoryService(Bucket(directoryUrl, buckets, owned))
                : Resolve<IDirectoryService>(
                    directoryUrl, static () => new MemoryDirectoryService(), db => new EmbeddedDirectoryService(db),
                    c => new GrpcDirectoryService(c), databases, connections, owned);
            var pathInfos = OpenPathInfos(pathInfoUrl, blobs, directories, cachePath, binaryCache, databases, connections, owned);
            return new CastoreStore(blobs, directories, pathInfos, owned);
        }
        catch
        {
            owned.ForEach(o => o.Dispose());
            throw;
        }
    }

    public void Dispose() => _owned.ForEach(o => o.Dispose());

    private static IPathInfoService OpenPathInfos(
        string url, IBlobService blobs, IDirectoryService directories, string? cachePath, BinaryCacheOptions? binaryCache,
        Dictionary<string, EmbeddedDatabase> databases, Dictionary<string, GrpcConnection> connections, List<IDisposable> owned)
    {
        if (BinaryCacheUrl.IsBinaryCacheUrl(url))
        {
            return OpenBinaryCache(BinaryCacheUrl.Parse(url), blobs, directories, cachePath ?? DefaultCachePath, binaryCache, owned);
        }

        if (PostgresUrl.IsPostgresUrl(url))
        {
            var postgres = new PostgresPathInfoService(url);
            owned.Add(postgres);
            return postgres;
        }

        if (S3Url.IsS3Url(url))
        {
            throw new ArgumentException($"{url}: path infos are the store's one mutable index and are not kept in S3; give postgresql://… (--path-info-service-addr) beside s3:// blobs and directories");
        }

        return Resolve<IPathInfoService>(
            url, static () => new MemoryPathInfoService(), db => new EmbeddedPathInfoService(db),
            c => new GrpcPathInfoService(c), databases, connections, owned);
    }

    private static CachedBlobService Cached(string url, IBlobService remote, long maxBytes, string cachePath)
    {
        if (remote is not (S3BlobService or GrpcBlobService))
        {
            throw new ArgumentException($"{url}: a blob cache sits in front of a remote blob service (s3://…, grpc+…), not a local one");
        }

        return new CachedBlobService(remote, new EmbeddedBlobService(EmbeddedDatabase.Open(Path.Combine(cachePath, "blob-cache", CacheName(url)))), maxBytes);
    }

    /// <summary>A cache folder's name for what it caches: a name for any URL, and the same one every time.</summary>
    private static string CacheName(string url) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(url)))[..32];

    /// <summary>Blobs and directories given the same S3 URL share one client.</summary>
    private static S3Bucket Bucket(string url, Dictionary<string, S3Bucket> buckets, List<IDisposable> owned)
    {
        if (!buckets.TryGetValue(url, out var bucket))
        {
            bucket = S3Bucket.Open(url);
            buckets[url] = bucket;
            owned.Add(bucket);
        }

        return bucket;
    }

    /// <summary>
    /// The binary cache's verified path infos are kept in an embedded database of their own under the cache
    /// folder, one per cache, so they never mix with a store's own path infos.
    /// </summary>
    private static NixBinaryCachePathInfoService OpenBinaryCache(
        BinaryCacheUrl cache, IBlobService blobs, IDirectoryService directories, string cachePath, BinaryCacheOptions? options, List<IDisposable> owned)
    {
        var verified = new EmbeddedPathInfoService(EmbeddedDatabase.Open(Path.Combine(cachePath, "nix", CacheName(cache.Display))));
        var service = new NixBinaryCachePathInfoService(cache, blobs, directories, verified, options);
        owned.Insert(0, service);
        return service;
    }

    private static T Resolve<T>(
        string url, Func<T> memory, Func<EmbeddedDatabase, T> embedded, Func<GrpcConnection, T> grpc,
        Dictionary<string, EmbeddedDatabase> databases, Dictionary<string, GrpcConnection> connections, List<IDisposable> owned)
    {
        if (url.StartsWith("memory:", StringComparison.Ordinal))
        {
            if (url is not ("memory://" or "memory:"))
            {
                throw new ArgumentException($"{url}: memory:// takes no path");
            }

            return memory();
        }

        if (GrpcConnection.IsGrpcUrl(url))
        {
            if (!connections.TryGetValue(url, out var connection))
            {
                connection = GrpcConnection.Open(url);
                connections[url] = connection;
                owned.Add(connection);
            }

            return grpc(connection);
        }

        string folder = url.StartsWith("file://", StringComparison.Ordinal) ? new Uri(url).LocalPath : url;
        if (folder.Contains("://", StringComparison.Ordinal))
        {
            throw new ArgumentException($"unsupported store URL '{url}' (memory://, a folder, file:///folder, grpc+unix:///socket, grpc+http(s)://host:port, s3://bucket/prefix for blobs and directories, postgresql://… for path infos)");
        }

        folder = Path.GetFullPath(folder);
        if (!databases.TryGetValue(folder, out var db))
        {
            db = EmbeddedDatabase.Open(folder);
            databases[folder] = db;
        }

        return embedded(db);
    }
}
