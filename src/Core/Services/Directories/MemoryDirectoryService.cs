using System.Collections.Concurrent;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

/// <summary>Directories in memory. For tests and <c>memory://</c>.</summary>
public sealed class MemoryDirectoryService : IDirectoryService
{
    private readonly ConcurrentDictionary<B3Digest, Directory> _directories = new();

    public Task<Directory?> GetAsync(B3Digest digest, CancellationToken ct = default) =>
        Task.FromResult(_directories.TryGetValue(digest, out var d) ? d.Clone() : null);

    public IAsyncEnumerable<Directory> GetRecursiveAsync(B3Digest root, CancellationToken ct = default) =>
        DirectoryTraversal.BreadthFirstAsync(this, root, ct);

    public IDirectoryPutter BeginPut() => new BufferedDirectoryPutter(closure =>
    {
        foreach (var (digest, encoded) in closure)
        {
            _directories.TryAdd(digest, DirectoryRules.Parser.ParseFrom(encoded));
        }

        return Task.CompletedTask;
    });
}
