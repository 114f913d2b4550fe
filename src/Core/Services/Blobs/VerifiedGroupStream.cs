using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// A remote blob read one 1 MiB group at a time, each checked against its chaining value from a verified
/// outboard before a byte of it is returned. A read fetches only the group at its position, so random
/// reads stay random; once reads run in order, the next <c>readAhead</c> groups are fetched (and checked)
/// at once in the background. The last group read is kept for the reads that follow.
/// </summary>
internal sealed class VerifiedGroupStream : BlobReadStream
{
    private readonly string _display;
    private readonly B3Digest _digest;
    private readonly byte[] _trusted;
    private readonly Func<long, Memory<byte>, CancellationToken, Task> _fill;
    private readonly int _readAhead;
    private readonly long _groups;
    private readonly Dictionary<long, Task<byte[]>> _ahead = [];
    private byte[] _group = [];
    private long _groupIndex = -1;
    private long _lastLoaded = -2;

    /// <param name="fill">Fetches group <c>index</c>'s bytes into the buffer, which is exactly the group's length; the bytes are checked here.</param>
    public VerifiedGroupStream(string display, B3Digest digest, long length, byte[] trusted, Func<long, Memory<byte>, CancellationToken, Task> fill, int readAhead)
    {
        _display = display;
        _digest = digest;
        _trusted = trusted;
        _fill = fill;
        _readAhead = readAhead;
        _groups = Outboard.GroupCount(length);
        Length = length;
    }

    public override long Length { get; }

    /// <summary>Hands over group <paramref name="index"/>'s bytes fetched along with something else; they are checked when read.</summary>
    public void AddFetched(long index, byte[] group)
    {
        _ahead[index] = group.Length == Outboard.GroupLength(Length, index) && Outboard.GroupMatches(group, index, _trusted)
            ? Task.FromResult(group)
            : Task.FromException<byte[]>(Mismatch(index, group.Length));
    }

    protected override async ValueTask<int> ReadAtAsync(long position, Memory<byte> buffer, CancellationToken ct)
    {
        long index = position / Outboard.GroupSize;
        if (index != _groupIndex)
        {
            await LoadGroupAsync(index, ct).ConfigureAwait(false);
        }

        int offset = (int)(position - (index * Outboard.GroupSize));
        int n = Math.Min(buffer.Length, _group.Length - offset);
        _group.AsMemory(offset, n).CopyTo(buffer);
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var abandoned in _ahead.Values)
            {
                // A fetch no one reads any more may still fail; its failure is nobody's.
                _ = abandoned.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            _ahead.Clear();
        }

        base.Dispose(disposing);
    }

    private async Task LoadGroupAsync(long index, CancellationToken ct)
    {
        _groupIndex = -1;
        bool inOrder = index == _lastLoaded + 1;
        _lastLoaded = index;
        Task<byte[]> load;
        if (_ahead.Remove(index, out var fetched))
        {
            load = fetched;
        }
        else
        {
            load = FetchVerifiedAsync(index, ct);
        }

        if (_readAhead > 0 && (inOrder || index == 0))
        {
            for (long next = index + 1; next <= Math.Min(index + _readAhead, _groups - 1); next++)
            {
                if (!_ahead.ContainsKey(next))
                {
                    // Not the read's token: a read-ahead outlives the read that started it.
                    _ahead[next] = FetchVerifiedAsync(next, CancellationToken.None);
                }
            }
        }

        _group = await load.ConfigureAwait(false);
        _groupIndex = index;
    }

    private async Task<byte[]> FetchVerifiedAsync(long index, CancellationToken ct)
    {
        var group = new byte[Outboard.GroupLength(Length, index)];
        await _fill(index, group, ct).ConfigureAwait(false);
        return Outboard.GroupMatches(group, index, _trusted) ? group : throw Mismatch(index, group.Length);
    }

    private BlobVerificationException Mismatch(long index, int length)
    {
        long start = index * Outboard.GroupSize;
        return new BlobVerificationException(_digest, $"{_display}: blob {_digest.ToHex()}: group {index} (bytes {start} to {start + length - 1}) does not match the blob's outboard");
    }
}
