using CastoreFs.Core.Digests;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

/// <summary>Directories: protobuf Directory messages addressed by the BLAKE3 of their canonical encoding.</summary>
public interface IDirectoryService
{
    Task<Directory?> GetAsync(B3Digest digest, CancellationToken ct = default);

    /// <summary>
    /// The directory and everything below it, breadth-first, parents before children, each digest once.
    /// Empty when the root is unknown; an error when something below it is missing.
    /// </summary>
    IAsyncEnumerable<Directory> GetRecursiveAsync(B3Digest root, CancellationToken ct = default);

    /// <summary>Starts putting a closure: leaves first, the root last.</summary>
    IDirectoryPutter BeginPut();
}

/// <summary>Receives a closure leaves first; validates each directory and the whole graph.</summary>
public interface IDirectoryPutter : IAsyncDisposable
{
    ValueTask PutAsync(Directory directory, CancellationToken ct = default);

    /// <summary>Checks the closure has one root, the last directory sent, stores it, and returns its digest.</summary>
    Task<B3Digest> CloseAsync(CancellationToken ct = default);
}
