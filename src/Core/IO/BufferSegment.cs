using System.Runtime.InteropServices;

namespace CastoreFs.Core.IO;

/// <summary>
/// One piece of a destination that is not contiguous (a guest's pages, one per descriptor), laid out as
/// POSIX's <c>struct iovec</c> so that a list of them goes to preadv(2) as it is. The memory must stay
/// mapped and pinned while the segment is in use.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct BufferSegment(nint address, int length)
{
    public nint Address { get; } = address;

    private readonly nint _length = length;

    public int Length => (int)_length;

    public unsafe Span<byte> Span => new((void*)Address, (int)_length);

    /// <summary>Copies <paramref name="source"/> across <paramref name="segments"/> in order, as far as they reach.</summary>
    public static void Scatter(ReadOnlySpan<byte> source, ReadOnlySpan<BufferSegment> segments)
    {
        foreach (var segment in segments)
        {
            if (source.IsEmpty)
            {
                return;
            }

            int n = Math.Min(segment.Length, source.Length);
            source[..n].CopyTo(segment.Span);
            source = source[n..];
        }
    }

    /// <summary>This segment from <paramref name="offset"/> on, at most <paramref name="length"/> bytes.</summary>
    public BufferSegment Slice(int offset, int length) => new(Address + offset, Math.Min(length, Length - offset));
}
