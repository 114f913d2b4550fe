using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using CastoreFs.Core.S3;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

/// <summary>
/// Directories as S3 objects, <c>directories/&lt;64 hex&gt;</c>, each its canonical encoding, checked against
/// its digest and validated on every read. A closure is validated whole before anything is written, then
/// the root last, so a root found has all it names. A recursive get fetches many at once.
/// </summary>
public sealed class S3DirectoryService(S3Bucket bucket) : IDirectoryService
{
    /// <summary>Objects fetched or written at once.</summary>
    private const int Concurrency = 16;

    public async Task<Directory?> GetAsync(B3Digest digest, CancellationToken ct = default)
    {
        if (await bucket.GetAsync(Key(digest), ct).ConfigureAwait(false) is not { } encoded)
        {
            return null;
        }

        var actual = Blake3Hasher.Hash(encoded);
        if (actual != digest)
        {
            throw new CastoreValidationException($"{bucket.Display}: directory {digest.ToHex()} holds one hashing to {actual.ToHex()}");
        }

        var directory = DirectoryRules.Parser.ParseFrom(encoded);
        directory.Validate();
        return directory;
    }

    /// <summary>Breadth-first, <see cref="Concurrency"/> gets at once: each is a round trip to the bucket.</summary>
    public IAsyncEnumerable<Directory> GetRecursiveAsync(B3Digest root, CancellationToken ct = default) =>
        DirectoryTraversal.BreadthFirstAsync(this, root, Concurrency, ct);

    public IDirectoryPutter BeginPut() => new BufferedDirectoryPutter(StoreAsync, Path.GetTempPath());

    private static string Key(B3Digest digest) => "directories/" + digest.ToHex();

    /// <summary>
    /// Writes an accepted closure (leaves first, the root last) many at once, a directory the bucket has
    /// already skipped; the root alone at the end, once everything below it is written.
    /// </summary>
    private async Task StoreAsync(IEnumerable<(B3Digest Digest, byte[] Encoded)> closure)
    {
        (B3Digest Digest, byte[] Encoded)? root = null;
        foreach (var batch in closure.Chunk(Concurrency * 4))
        {
            var below = root is { } previous ? batch.Prepend(previous).ToArray() : batch;
            root = below[^1];
            await Parallel.ForEachAsync(below[..^1], new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, PutUnlessPresentAsync).ConfigureAwait(false);
        }

        if (root is { } last)
        {
            await PutUnlessPresentAsync(last, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async ValueTask PutUnlessPresentAsync((B3Digest Digest, byte[] Encoded) entry, CancellationToken ct)
    {
        if (await bucket.LengthAsync(Key(entry.Digest), ct).ConfigureAwait(false) is null)
        {
            await bucket.PutAsync(Key(entry.Digest), entry.Encoded, ct).ConfigureAwait(false);
        }
    }
}
