using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// An open file: a blob's local file read by position without a lock, or a seekable blob reader with a
/// timeout per read. Reads fill the buffer except at the end of the blob, as the kernel takes a short read
/// for end of file. Counted: each holder releases once, and the last release closes it, so a blob evicted
/// from a cache while a read is in flight stays open until that read ends.
/// </summary>
internal sealed class OpenBlob : IDisposable
{
    private readonly Stream? _stream;
    private readonly TimeSpan _timeout;
    private readonly Lock _lock = new();
    private int _holders = 1;

    public OpenBlob(SafeFileHandle file) => WholeFile = file;

    public OpenBlob(Stream stream, TimeSpan timeout)
    {
        WholeFile = (stream as FileStream)?.SafeFileHandle;
        _stream = stream;
        _timeout = timeout;
    }

    /// <summary>The blob's whole file, when the store keeps it as one.</summary>
    public SafeFileHandle? WholeFile { get; }

    /// <summary>One more holder; false once the last one has released it.</summary>
    public bool TryHold()
    {
        int holders = Volatile.Read(ref _holders);
        while (holders > 0)
        {
            int seen = Interlocked.CompareExchange(ref _holders, holders + 1, holders);
            if (seen == holders)
            {
                return true;
            }

            holders = seen;
        }

        return false;
    }

    /// <summary>Ends one holder's use; the last closes the blob.</summary>
    public void Dispose()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            _stream?.Dispose();
            WholeFile?.Dispose();
        }
    }

    public int Read(long offset, Span<byte> destination)
    {
        int total = 0;
        if (WholeFile is { } file)
        {
            while (total < destination.Length)
            {
                int n = RandomAccess.Read(file, destination[total..], offset + total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            return total;
        }

        var stream = _stream!;
        var buffer = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            using var deadline = new CancellationTokenSource(_timeout);
            lock (_lock)
            {
                if (offset >= stream.Length)
                {
                    return 0;
                }

                stream.Position = offset;
                while (total < destination.Length)
                {
                    int n = stream.ReadAsync(buffer.AsMemory(total, destination.Length - total), deadline.Token).AsTask().GetAwaiter().GetResult();
                    if (n == 0)
                    {
                        break;
                    }

                    total += n;
                }
            }

            buffer.AsSpan(0, total).CopyTo(destination);
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
