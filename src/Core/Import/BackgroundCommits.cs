using System.Buffers;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Threading;

namespace CastoreFs.Core.Import;

/// <summary>
/// Small blobs stored by a few threads of their own, a bounded number at once, into one
/// <see cref="IBlobGroup"/>: the embedded store then flushes the disk a few times for a whole tree rather
/// than once per file. Threads of their own, because a store may block in a write or a flush and the thread
/// pool would grow to match only slowly. An import commits the group, once every blob is in it, before it
/// registers anything.
/// </summary>
internal sealed class BackgroundCommits(IBlobService blobs) : IAsyncDisposable
{
    /// <summary>Files up to this size are read whole and committed in the background.</summary>
    public const int SmallBlobBytes = 1024 * 1024;

    /// <summary>Threads committing small blobs, at most.</summary>
    private const int Threads = 16;

    /// <summary>
    /// Small blobs read and not yet committed, at most, each held in a pooled buffer (up to 2 MiB for a
    /// file of 1 MiB). Four times the threads: a 100,000-file import took 7.7-8.9 s with 16 and 6.5-7.5 s
    /// with 32 (3 alternating rounds), then 5.96-6.62 s with 64 where 32 took 6.58-9.12 s (3 more);
    /// /usr/share/doc the same within noise.
    /// </summary>
    private const int InFlight = 64;

    /// <summary>Finished commits are dropped from the list once it is this long, so a large tree holds few tasks.</summary>
    private const int PruneAt = 1024;

    private readonly IBlobGroup _group = blobs.OpenGroup();
    private readonly SlotGate _slots = new(InFlight);
    private readonly WorkQueue<QueuedCommit> _queue = new(InFlight, wakeAt: InFlight / 4);
    private readonly List<Task> _running = [];
    private readonly HashSet<B3Digest> _started = [];
    private int _workers;

    /// <summary>
    /// Stores a small blob in the background: waits for a free slot, has <paramref name="fill"/> read the
    /// blob into a pooled buffer of <paramref name="capacity"/> bytes (and check it; it returns the blob's
    /// bytes), hashes it and hands it to a commit thread. Returns the digest once hashed; a copy met earlier
    /// in this import is not stored again, and <see cref="CommitAsync"/> waits for the one that is.
    /// </summary>
    public async Task<B3Digest> StoreAsync(int capacity, Func<Memory<byte>, ValueTask<ReadOnlyMemory<byte>>> fill, CancellationToken ct)
    {
        await _slots.TakeAsync(ct).ConfigureAwait(false);
        var pooled = ArrayPool<byte>.Shared.Rent(capacity);
        bool started = false;
        try
        {
            var contents = await fill(pooled.AsMemory(0, capacity)).ConfigureAwait(false);
            var digest = Blake3Hasher.Hash(contents.Span);
            if (_started.Add(digest))
            {
                StartBlob(pooled, contents.Length, digest, ct);
                started = true;
            }

            return digest;
        }
        finally
        {
            if (!started)
            {
                ArrayPool<byte>.Shared.Return(pooled);
                _slots.Release();
            }
        }
    }

    /// <summary>Runs <paramref name="commit"/> in the slot reserved for it, which it frees when it ends.</summary>
    private void Start(Func<Task> commit)
    {
        // A thread for each of the first blobs: an import of one small file starts one, not all of them
        // (each costs its start, on the cores the import's own start-up needs).
        if (_workers < Threads)
        {
            _workers++;
            new Thread(Work) { IsBackground = true, Name = "blob commit" }.Start();
        }

        if (_running.Count >= PruneAt)
        {
            _running.RemoveAll(task => task.IsCompletedSuccessfully);
        }

        // Listed only once queued: a commit that was refused would be waited for forever.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.TryAdd(new QueuedCommit(commit, done)))
        {
            throw new InvalidOperationException("A commit was queued without a free slot.");
        }

        _running.Add(done.Task);
    }

    /// <summary>
    /// Stores <paramref name="length"/> bytes of <paramref name="pooled"/> (rented from the shared pool, and
    /// returned once written), which hash to <paramref name="digest"/>, as a blob in the slot reserved for it.
    /// </summary>
    private void StartBlob(byte[] pooled, int length, B3Digest digest, CancellationToken ct) => Start(async () =>
    {
        try
        {
            await _group.AddAsync(digest, pooled.AsMemory(0, length), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pooled);
        }
    });

    /// <summary>A large blob written in parts, durable and known with the rest of the group.</summary>
    public IBlobWriter OpenWrite() => _group.OpenWrite();

    /// <summary>Waits for every commit started; throws the first failure once all have ended.</summary>
    public Task WhenAllAsync()
    {
        _queue.WakeForEvery();
        return Task.WhenAll(_running);
    }

    /// <summary>Waits for every blob started, then makes them all durable and known to the store.</summary>
    public async Task CommitAsync(CancellationToken ct)
    {
        await WhenAllAsync().ConfigureAwait(false);
        await _group.CommitAsync(ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.CompleteAdding();
        await _group.DisposeAsync().ConfigureAwait(false);
    }

    private void Work()
    {
        while (_queue.TryTake(out var queued))
        {
            var (commit, done) = queued;
            Exception? failure = null;
            try
            {
                commit().GetAwaiter().GetResult();
            }
#pragma warning disable CA1031 // The failure is the commit's, handed to whoever waits for it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = e;
            }

            // The slot is free before anyone learns the commit ended, and so before Dispose.
            _slots.Release();
            if (failure is null)
            {
                done.SetResult();
            }
            else
            {
                done.SetException(failure);
            }
        }
    }

    /// <summary>
    /// A class, not a tuple: the queue's code over a reference type is compiled ahead of time (ReadyToRun),
    /// over a value type it is compiled at run time, 30 methods in every import's start-up.
    /// </summary>
    private sealed record QueuedCommit(Func<Task> Commit, TaskCompletionSource Done);
}
