using System.Buffers;
using CastoreFs.Core.IO;
using CastoreFs.Core.IO.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// An open file: a blob's local file read by position without a lock, or a seekable blob reader with a
/// timeout per read. Reads fill the buffer except at the end of the blob, as the kernel takes a short read
/// for end of file. Counted: each holder releases once, and the last release closes it, so a blob evicted
/// from a cache while a read is in flight stays open until that read ends.
/// </summary>
internal sealed partial class OpenBlob : IDisposable
{
    private readonly Stream? _stream;
    private readonly TimeSpan _timeout;
    private readonly Lock _lock = new();
    private bool _dropsBehind;

    /// <summary>The end of the furthest read so far, which a read far behind it is late for.</summary>
    private long _furthestRead;
    private HolderCount _holders = new();

    /// <summary>A local whole file; with <paramref name="dropBehind"/>, read as the part on dropping behind says.</summary>
    public OpenBlob(long length, SafeFileHandle file, bool dropBehind = false)
    {
        Length = length;
        WholeFile = file;
        _dropsBehind = dropBehind && FileAdvice.IsAvailable;
    }

    public OpenBlob(long length, Stream stream, TimeSpan timeout)
    {
        Length = length;
        WholeFile = (stream as FileStream)?.SafeFileHandle;
        _stream = stream;
        _timeout = timeout;
    }

    /// <summary>The file's size, as its node says: no read goes past it, whatever the offset.</summary>
    public long Length { get; }

    /// <summary>The blob's whole file, when the store keeps it as one.</summary>
    public SafeFileHandle? WholeFile { get; }

    /// <summary>One more holder; false once the last one has released it.</summary>
    public bool TryHold() => _holders.TryHold();

    /// <summary>Ends one holder's use; the last closes the blob.</summary>
    public void Dispose()
    {
        if (_holders.Release())
        {
            _stream?.Dispose();
            WholeFile?.Dispose();
        }
    }

    public int Read(long offset, Span<byte> destination)
    {
        if (offset >= Length)
        {
            return 0;
        }

        destination = destination[..(int)Math.Min(destination.Length, Length - offset)];
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

            DropBehind(offset, total);
            return total;
        }

        var stream = _stream!;
        var buffer = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            using var deadline = new CancellationTokenSource(_timeout);
            lock (_lock)
            {
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
