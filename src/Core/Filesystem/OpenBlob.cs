using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// An open file: a seekable blob reader. Reads fill the buffer except at the end of the blob, as the kernel
/// takes a short read for end of file. A blob that is a plain local file is read by position, without a
/// lock, and can be handed to the kernel. Any other (remote) reader gets <paramref name="timeout"/> per read.
/// </summary>
internal sealed class OpenBlob(Stream stream, TimeSpan timeout) : IDisposable
{
    private readonly Lock _lock = new();

    /// <summary>The blob's whole file, when the store keeps it as one.</summary>
    public SafeFileHandle? WholeFile { get; } = (stream as FileStream)?.SafeFileHandle;

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

        var buffer = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            using var deadline = new CancellationTokenSource(timeout);
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

    public void Dispose() => stream.Dispose();
}
