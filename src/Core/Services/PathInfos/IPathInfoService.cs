using Snix.Store.V1;

namespace CastoreFs.Core.Services.PathInfos;

/// <summary>Path infos: the roots of the store, found by the 20-byte digest of their store path.</summary>
public interface IPathInfoService
{
    Task<PathInfo?> GetAsync(ReadOnlyMemory<byte> storePathDigest, CancellationToken ct = default);

    /// <summary>Validates and stores; returns what was stored.</summary>
    Task<PathInfo> PutAsync(PathInfo pathInfo, CancellationToken ct = default);

    IAsyncEnumerable<PathInfo> ListAsync(CancellationToken ct = default);
}
