using System.Runtime.InteropServices;
using CastoreFs.Core.Fuse;
using CastoreFs.Platforms.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Platforms.Linux;

/// <summary>
/// Sends a READ reply whose data is in a blob file without copying the data through our memory, as
/// libfuse's splice write does: the out header is written into a pipe, the file's pages are spliced in
/// behind it (references, not copies), and the pipe is spliced to /dev/fuse, which copies those pages
/// once into the mount's page cache (fuse_dev_splice_write in the kernel's fs/fuse/dev.c). A copied reply
/// costs a preadv into our buffer as well, and the kernel pinning that buffer to copy out of it. One per worker.
/// </summary>
internal sealed unsafe class FuseSplicePipe : IDisposable
{
    private const int PageSize = 4096;

    private readonly int _readEnd;
    private readonly int _writeEnd;

    private FuseSplicePipe(int readEnd, int writeEnd, int slots)
    {
        _readEnd = readEnd;
        _writeEnd = writeEnd;
        Slots = slots;
    }

    /// <summary>The pipe's buffers: the header takes one, and the data one per page it touches.</summary>
    public int Slots { get; }

    /// <summary>
    /// A pipe for one worker, grown to hold the largest reply (the header and 257 pages, as a 1 MiB read
    /// at an offset inside a page touches: the kernel rounds that up to 512); null when there is no pipe.
    /// Past pipe-max-size (1 MiB unless raised) only root may grow it; a smaller pipe takes smaller reads.
    /// </summary>
    public static FuseSplicePipe? TryCreate()
    {
        int* fds = stackalloc int[2];
        if (Libc.Pipe2(fds, Libc.O_CLOEXEC | Libc.O_NONBLOCK) != 0)
        {
            return null;
        }

        int wanted = (FuseServerOptions.MaxRead / PageSize + 2) * PageSize;
        if (Libc.Fcntl(fds[1], Libc.F_SETPIPE_SZ, wanted) < 0)
        {
            _ = Libc.Fcntl(fds[1], Libc.F_SETPIPE_SZ, 1024 * 1024);
        }

        int size = Libc.Fcntl(fds[1], Libc.F_GETPIPE_SZ, 0);
        return new FuseSplicePipe(fds[0], fds[1], Math.Max(size, 0) / PageSize);
    }

    /// <summary>
    /// Sends <paramref name="header"/> and <paramref name="count"/> bytes of <paramref name="file"/> from
    /// <paramref name="offset"/> as one reply on <paramref name="device"/>.
    /// False when the data could not all be gathered (the file ended early or a read failed): nothing was
    /// sent, the pipe is empty again, and the request is to be served by copying, which reports what went
    /// wrong. True once the reply went to the device; <paramref name="deviceError"/> is the errno if that write failed.
    /// </summary>
    public bool TrySend(int device, ReadOnlySpan<byte> header, SafeFileHandle file, long offset, int count, Span<byte> scratch, out int deviceError)
    {
        deviceError = 0;
        nint written;
        fixed (byte* p = header)
        {
            written = Libc.Write(_writeEnd, p, (nuint)header.Length);
        }

        if (written != header.Length || !Gather((int)file.DangerousGetHandle(), offset, count))
        {
            Drain(scratch);
            return false;
        }

        nint length = header.Length + count;
        if (Libc.Splice(_readEnd, null, device, null, (nuint)length, 0) != length)
        {
            deviceError = Marshal.GetLastPInvokeError();

            // A refused reply may leave its bytes in the pipe, ahead of the next reply's header.
            Drain(scratch);
        }

        return true;
    }

    public void Dispose()
    {
        _ = Libc.Close(_readEnd);
        _ = Libc.Close(_writeEnd);
    }

    /// <summary>Splices the file's pages into the pipe, behind the header; false if the file gave fewer.</summary>
    private bool Gather(int file, long offset, int count)
    {
        int left = count;
        while (left > 0)
        {
            nint n = Libc.Splice(file, &offset, _writeEnd, null, (nuint)left, 0);
            if (n > 0)
            {
                left -= (int)n;
            }
            else if (n == 0 || Marshal.GetLastPInvokeError() != Libc.EINTR)
            {
                return false;
            }
        }

        return true;
    }

    private void Drain(Span<byte> scratch)
    {
        fixed (byte* p = scratch)
        {
            while (Libc.Read(_readEnd, p, (nuint)scratch.Length) > 0)
            {
            }
        }
    }
}
