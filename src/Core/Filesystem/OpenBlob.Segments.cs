using CastoreFs.Core.IO;
using CastoreFs.Core.IO.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Filesystem;

internal sealed partial class OpenBlob
{
    /// <summary>preadv(2) takes at most IOV_MAX (1024) buffers at once.</summary>
    private const int MaxSegmentsPerRead = 1024;

    /// <summary>
    /// Reads into the segments in order, as one read into their concatenation would: filled except at the
    /// end of the blob. A local file takes them in one preadv(2).
    /// </summary>
    public int Read(long offset, ReadOnlySpan<BufferSegment> destination)
    {
        if (offset >= Length || destination.IsEmpty)
        {
            return 0;
        }

        if (WholeFile is not { } file || !VectorRead.IsAvailable)
        {
            return ReadEach(offset, destination);
        }

        long wanted = Length - offset;
        var segments = destination.Length <= MaxSegmentsPerRead ? stackalloc BufferSegment[destination.Length] : new BufferSegment[destination.Length];
        int count = 0;
        for (; count < destination.Length && wanted > 0; count++)
        {
            var segment = destination[count];
            segments[count] = segment.Slice(0, (int)Math.Min(segment.Length, wanted));
            wanted -= segments[count].Length;
        }

        long read = ReadAll(file, offset, segments[..count]);
        if (read < 0)
        {
            throw new IOException($"preadv failed: errno {-read}");
        }

        DropBehind(offset, read);
        return (int)read;
    }

    /// <summary>Bytes read until the segments are full or the file ends, or -errno of a failure.</summary>
    private static long ReadAll(SafeFileHandle file, long offset, Span<BufferSegment> segments)
    {
        long total = 0;
        while (!segments.IsEmpty)
        {
            long n = VectorRead.Read(file, segments[..Math.Min(segments.Length, MaxSegmentsPerRead)], offset + total);
            if (n <= 0)
            {
                // A failure after a partial read is still a failure: a short read would tell the kernel the file ends here.
                return n < 0 ? n : total;
            }

            total += n;

            // A short read: skip what is full, and read the rest of a segment that is not.
            while (!segments.IsEmpty && n >= segments[0].Length)
            {
                n -= segments[0].Length;
                segments = segments[1..];
            }

            if (!segments.IsEmpty && n > 0)
            {
                segments[0] = segments[0].Slice((int)n, segments[0].Length);
            }
        }

        return total;
    }

    private int ReadEach(long offset, ReadOnlySpan<BufferSegment> destination)
    {
        int total = 0;
        foreach (var segment in destination)
        {
            int n = Read(offset + total, segment.Span);
            total += n;
            if (n < segment.Length)
            {
                break;
            }
        }

        return total;
    }
}
