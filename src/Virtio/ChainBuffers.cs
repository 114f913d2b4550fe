using CastoreFs.Core.Fuse;
using CastoreFs.Core.IO;

namespace CastoreFs.Virtio;

/// <summary>
/// A worker's own buffers for one chain at a time, made once per ring: the segment lists a chain walks
/// into, the request gathered from its readable part, and the scratch where small replies are built.
/// </summary>
internal sealed class ChainBuffers(ushort queueSize)
{
    private readonly byte[] _request = GC.AllocateUninitializedArray<byte>(FuseServerOptions.RequestBufferSize, pinned: true);
    private readonly BufferSegment[] _payload = new BufferSegment[queueSize];

    public BufferSegment[] Readable { get; } = new BufferSegment[queueSize];

    public BufferSegment[] Writable { get; } = new BufferSegment[queueSize];

    public byte[] Scratch { get; } = GC.AllocateUninitializedArray<byte>(FuseServerOptions.ReplyBufferSize, pinned: true);

    /// <summary>
    /// The readable part copied into one buffer. A request longer than the buffer (no read-only request is)
    /// is cut short, and the FUSE server refuses it for a length that is not its header's.
    /// </summary>
    public ReadOnlySpan<byte> Gather(int count)
    {
        int length = 0;
        foreach (var segment in Readable.AsSpan(0, count))
        {
            int n = Math.Min(segment.Length, _request.Length - length);
            segment.Span[..n].CopyTo(_request.AsSpan(length));
            length += n;
            if (length == _request.Length)
            {
                break;
            }
        }

        return _request.AsSpan(0, length);
    }

    /// <summary>The writable part after the out header's bytes, and how many bytes the whole part holds.</summary>
    public ReadOnlySpan<BufferSegment> PayloadAfterHeader(ReadOnlySpan<BufferSegment> writable, out long room)
    {
        room = 0;
        int skip = FuseServerOptions.OutHeaderSize;
        int count = 0;
        foreach (var segment in writable)
        {
            room += segment.Length;
            if (skip >= segment.Length)
            {
                skip -= segment.Length;
                continue;
            }

            _payload[count++] = segment.Slice(skip, segment.Length);
            skip = 0;
        }

        return _payload.AsSpan(0, count);
    }
}
