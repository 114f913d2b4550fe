namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// A seekable blob over its chunk list: a read fetches the chunk holding the position, verifies it and
/// keeps it for the reads that follow. Seeking anywhere costs nothing until the next read.
/// </summary>
internal sealed class VerifiedChunkedStream : BlobReadStream
{
    private readonly GrpcBlobService _service;
    private readonly IReadOnlyList<ChunkMeta> _chunks;
    private readonly long[] _starts;
    private int _cachedIndex = -1;
    private byte[] _cached = [];

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

    public override long Length { get; }

    protected override async ValueTask<int> ReadAtAsync(long position, Memory<byte> buffer, CancellationToken ct)
    {
        int index = Array.BinarySearch(_starts, position);
        if (index < 0)
        {
            index = ~index - 1;
        }

        if (index != _cachedIndex)
        {
            _cached = await _service.ReadVerifiedAsync(_chunks[index].Digest, _chunks[index].Size, ct).ConfigureAwait(false);
            if (_cached.LongLength != (long)_chunks[index].Size)
            {
                throw new IOException($"chunk {_chunks[index].Digest.ToHex()} has {_cached.Length} bytes, not {_chunks[index].Size}");
            }

            _cachedIndex = index;
        }

        int offset = (int)(position - _starts[index]);
        int n = Math.Min(buffer.Length, _cached.Length - offset);
        _cached.AsMemory(offset, n).CopyTo(buffer);
        return n;
    }
}
