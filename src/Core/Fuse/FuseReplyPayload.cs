using CastoreFs.Core.IO;

namespace CastoreFs.Core.Fuse;

/// <summary>
/// Where a reply's payload goes, in the transport's own memory: one span after the out header
/// (/dev/fuse), or the segments of a guest's writable descriptors (virtqueues). File data from READ is
/// read straight into the segments; every other reply is small and is built in one piece first (in the
/// scratch span the transport lends) and then copied across the segments.
/// </summary>
public readonly ref struct FuseReplyPayload
{
    private readonly Span<byte> _span;
    private readonly ReadOnlySpan<BufferSegment> _segments;

    /// <summary>
    /// A payload that is one contiguous span; with <paramref name="fileReply"/>, a READ from a local blob
    /// file leaves its data there instead (see <see cref="FuseFileReply"/>).
    /// </summary>
    public FuseReplyPayload(Span<byte> destination, FuseFileReply? fileReply = null)
    {
        _span = destination;
        Capacity = destination.Length;
        FileReply = fileReply;
    }

    /// <summary>A payload spread over <paramref name="segments"/>; small replies are built in <paramref name="scratch"/>.</summary>
    public FuseReplyPayload(ReadOnlySpan<BufferSegment> segments, Span<byte> scratch)
    {
        long capacity = 0;
        foreach (var segment in segments)
        {
            capacity += segment.Length;
        }

        _segments = segments;
        Capacity = (int)Math.Min(capacity, int.MaxValue);
        _span = scratch[..Math.Min(scratch.Length, Capacity)];
    }

    /// <summary>The most payload the destination takes.</summary>
    public int Capacity { get; }

    /// <summary>Whether the destination is several segments rather than <see cref="Span"/> itself.</summary>
    public bool IsSegmented => !_segments.IsEmpty;

    /// <summary>Where a reply is built in one piece: the destination itself, or the scratch when segmented.</summary>
    public Span<byte> Span => _span;

    /// <summary>Where a READ may leave its data in a file for the transport to move; null when it cannot.</summary>
    public FuseFileReply? FileReply { get; }

    /// <summary>The destination's segments in order; empty when it is one span.</summary>
    public ReadOnlySpan<BufferSegment> Segments => _segments;

    /// <summary>Copies the first <paramref name="length"/> bytes built in <see cref="Span"/> across the segments.</summary>
    internal void Scatter(int length) => BufferSegment.Scatter(_span[..length], _segments);
}
