using System.Runtime.CompilerServices;
using CastoreFs.Core.Digests;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

public static class DirectoryTraversal
{
    /// <summary>Breadth-first from <paramref name="root"/>, each digest once; empty when the root is unknown.</summary>
    public static async IAsyncEnumerable<Directory> BreadthFirstAsync(
        IDirectoryService service, B3Digest root, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var seen = new HashSet<B3Digest> { root };
        var queue = new Queue<B3Digest>();
        queue.Enqueue(root);
        bool isRoot = true;
        while (queue.TryDequeue(out var digest))
        {
            var directory = await service.GetAsync(digest, ct).ConfigureAwait(false);
            if (directory is null)
            {
                if (isRoot)
                {
                    yield break;
                }

                throw new DirectoryNotFoundException($"directory {digest.ToHex()} is missing below {root.ToHex()}");
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
