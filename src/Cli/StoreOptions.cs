using System.CommandLine;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.PathInfos.NixBinaryCache;

namespace CastoreFs.Cli;

/// <summary>tvix-store's address flags, plus one <c>--store</c> that sets all three.</summary>
internal sealed class StoreOptions
{
    public Option<string?> Store { get; } = new("--store")
    {
        Description = "Store URL for all three services: memory://, a folder or file:///folder (embedded), grpc+unix:///path.sock, grpc+http(s)://host:port; s3://bucket/prefix?endpoint=… for blobs and directories and postgresql://… for path infos, each with its own flag. Default: the embedded store in " + CastoreStore.DefaultPath,
        Recursive = true,
    };

    public Option<string?> BlobServiceAddr { get; } = new("--blob-service-addr") { Description = "Blob service URL (overrides --store)", Recursive = true };

    public Option<string?> DirectoryServiceAddr { get; } = new("--directory-service-addr") { Description = "Directory service URL (overrides --store)", Recursive = true };

    public Option<string?> PathInfoServiceAddr { get; } = new("--path-info-service-addr")
    {
        Description = "Path info service URL (overrides --store); also a Nix binary cache: nix+https://host/prefix?trusted-public-keys=name:base64 or nix+file:///dir?…, fetched into the blob and directory services",
        Recursive = true,
    };

    public Option<string?> CacheSize { get; } = new("--cache-size")
    {
        Description = "Keep blobs of a remote blob service (s3://, grpc+…) in a local cache of at most this size (10GiB, 512MiB), least recently used evicted first",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(CacheSize);
        command.Options.Add(Store);
        command.Options.Add(BlobServiceAddr);
        command.Options.Add(DirectoryServiceAddr);
        command.Options.Add(PathInfoServiceAddr);
    }

    /// <param name="binaryCache">How a binary cache given as the path info service logs, shows progress and prefetches.</param>
    public CastoreStore Open(ParseResult parse, BinaryCacheOptions? binaryCache = null)
    {
        var store = parse.GetValue(Store) ?? CastoreStore.DefaultPath;
        return CastoreStore.Open(
            parse.GetValue(BlobServiceAddr) ?? store,
            parse.GetValue(DirectoryServiceAddr) ?? store,
            parse.GetValue(PathInfoServiceAddr) ?? store,
            binaryCache: binaryCache,
            blobCacheBytes: parse.GetValue(CacheSize) is { } size ? ByteSize.Parse(size) : null);
    }
}
