using CastoreFs.Core.Digests;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Threading;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// Reads small local blobs into the page cache ahead of the reader, many at once. A program that reads
/// the files of a directory one after the other (tar, cp -r, grep -r) waits on one disk read per file;
/// reading the next files in parallel turns that queue depth of one into many.
/// </summary>
internal sealed class BlobPrefetcher : IDisposable
{
    /// <summary>Files up to this size are read whole; larger ones get the kernel's own readahead.</summary>
    public const long MaxBlobSize = 128 * 1024;

    private readonly ILocalBlobFiles _files;
    private readonly WorkQueue<B3Digest> _queue = new(capacity: 4096);
    private readonly Thread[] _threads;
    private long _prefetched;

    public BlobPrefetcher(ILocalBlobFiles files, int threads)
    {
        _files = files;
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = "castorefs prefetch" };
            _threads[i].Start();
        }
    }

    /// <summary>Blobs read ahead so far.</summary>
    public long Prefetched => Interlocked.Read(ref _prefetched);

    /// <summary>Queues a blob unless the queue is full (prefetching is only ever a hint).</summary>
    public void Enqueue(B3Digest digest) => _queue.TryAdd(digest);

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }
    }

    private void Run()
    {
        var buffer = new byte[MaxBlobSize];
        while (_queue.TryTake(out var digest))
        {
            try
            {
                using var file = _files.TryOpenFile(digest);
                if (file is not null)
                {
                    RandomAccess.Read(file, buffer, 0);
                    Interlocked.Increment(ref _prefetched);
                }
            }
            catch (IOException)
            {
                // A hint that failed: the read itself will meet the same error and report it.
            }
        }
    }
}
