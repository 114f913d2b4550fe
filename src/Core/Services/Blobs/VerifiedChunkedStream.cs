namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// A seekable blob over its chunk list: a read fetches the chunk holding the position, verifies it and
/// keeps it for the reads that follow. Seeking anywhere costs nothing until the next read.
/// </summary>
internal sealed class VerifiedChunkedStream : Stream
{
    private readonly GrpcBlobService _service;
    private readonly IReadOnlyList<ChunkMeta> _chunks;
    private readonly long[] _starts;
    private int _cachedIndex = -1;
    private byte[] _cached = [];
    private long _position;

    public VerifiedChunkedStream(GrpcBlobService service, IReadOnlyList<ChunkMeta> chunks)
    {
        _service = service;
        _chunks = chunks;
        _starts = new long[chunks.Count];
        long at = 0;
        for (int i = 0; i < chunks.Count; i++)
        {
            _starts[i] = at;
            at = checked(at + (long)chunks[i].Size);
        }

        Length = at;
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length { get; }

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= Length || buffer.IsEmpty)
        {
            return 0;
        }

        int index = Array.BinarySearch(_starts, _position);
        if (index < 0)
        {
            index = ~index - 1;
        }

        if (index != _cachedIndex)
        {
            _cached = await _service.ReadVerifiedAsync(_chunks[index].Digest, _chunks[index].Size, cancellationToken).ConfigureAwait(false);
            if (_cached.LongLength != (long)_chunks[index].Size)
            {
                throw new IOException($"chunk {_chunks[index].Digest.ToHex()} has {_cached.Length} bytes, not {_chunks[index].Size}");
            }

            _cachedIndex = index;
        }

        int offset = (int)(_position - _starts[index]);
        int n = Math.Min(buffer.Length, _cached.Length - offset);
        _cached.AsMemory(offset, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0)
        {
            throw new IOException("seek before the start of the blob");
        }

        _position = target;
        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
