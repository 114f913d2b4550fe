using System.Runtime.CompilerServices;
using CastoreFs.Core.Digests;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

public static class DirectoryTraversal
{
    /// <summary>Breadth-first from <paramref name="root"/>, each digest once; empty when the root is unknown.</summary>
    public static IAsyncEnumerable<Directory> BreadthFirstAsync(IDirectoryService service, B3Digest root, CancellationToken ct = default) =>
        BreadthFirstAsync(service, root, concurrency: 1, ct);

    /// <summary>
    /// The same walk with up to <paramref name="concurrency"/> gets at once, for a service each get of which
    /// is a round trip: the queue is taken that many at a time, and each batch is returned in queue order.
    /// </summary>
    public static async IAsyncEnumerable<Directory> BreadthFirstAsync(
        IDirectoryService service, B3Digest root, int concurrency, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var seen = new HashSet<B3Digest> { root };
        var queue = new Queue<B3Digest>();
        queue.Enqueue(root);
        bool isRoot = true;
        var batch = new List<B3Digest>(concurrency);
        while (queue.Count > 0)
        {
            batch.Clear();
            while (batch.Count < concurrency && queue.TryDequeue(out var next))
            {
                batch.Add(next);
            }

            var fetched = batch.Count == 1
                ? [await service.GetAsync(batch[0], ct).ConfigureAwait(false)]
                : await Task.WhenAll(batch.Select(digest => service.GetAsync(digest, ct))).ConfigureAwait(false);
            for (int i = 0; i < batch.Count; i++)
            {
                if (fetched[i] is not { } directory)
                {
                    if (isRoot)
                    {
                        yield break;
                    }

                    throw new DirectoryNotFoundException($"directory {batch[i].ToHex()} is missing below {root.ToHex()}");
                }

                isRoot = false;
                foreach (var child in directory.Directories)
                {
                    var childDigest = new B3Digest(child.Digest.Span);
                    if (seen.Add(childDigest))
                    {
                        queue.Enqueue(childDigest);
                    }
                }

                yield return directory;
            }
        }
    }
}
