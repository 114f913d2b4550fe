using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using CastoreFs.Core.Model;
using Google.Protobuf;
using Snix.Store.V1;

namespace CastoreFs.Core.Services.PathInfos;

/// <summary>Path infos in memory. For tests and <c>memory://</c>.</summary>
public sealed class MemoryPathInfoService : IPathInfoService
{
    private readonly ConcurrentDictionary<ByteString, PathInfo> _pathInfos = new();

    public Task<PathInfo?> GetAsync(ReadOnlyMemory<byte> storePathDigest, CancellationToken ct = default) =>
        Task.FromResult(_pathInfos.TryGetValue(ByteString.CopyFrom(storePathDigest.Span), out var p) ? p.Clone() : null);

    public Task<PathInfo> PutAsync(PathInfo pathInfo, CancellationToken ct = default)
    {
        var storePath = pathInfo.Validate();
        var stored = pathInfo.Clone();
        _pathInfos.AddOrUpdate(ByteString.CopyFrom(storePath.Digest), stored, (_, existing) =>
        {
            PathInfoConflictException.ThrowIfAnotherRoot(storePath, existing, stored);
            return stored;
        });
        return Task.FromResult(pathInfo);
    }

    public async IAsyncEnumerable<PathInfo> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var pathInfo in _pathInfos.Values.OrderBy(p => NodeRules.NameOf(p.Node).ToStringUtf8(), StringComparer.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            yield return pathInfo.Clone();
        }
    }
}
