using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// A remote blob read one 1 MiB group at a time, each checked against its chaining value from a verified
/// outboard before a byte of it is returned. The server's chunks are only names to fetch a group's bytes
/// by: a group is assembled from the chunks that overlap it, whatever their boundaries. A read fetches
/// only the group at its position, so random reads stay random; the last group read is kept for the reads
/// that follow.
/// </summary>
internal sealed class VerifiedGroupStream : BlobReadStream
{
    private readonly GrpcBlobService _service;
    private readonly B3Digest _digest;
    private readonly IReadOnlyList<ChunkMeta> _chunks;
    private readonly long[] _chunkStarts;
    private readonly byte[] _trusted;
    private readonly byte[] _group = new byte[Outboard.GroupSize];
    private long _groupIndex = -1;
    private int _groupLength;
    private (int Index, byte[] Bytes)? _lastChunk;

    public VerifiedGroupStream(GrpcBlobService service, B3Digest digest, IReadOnlyList<ChunkMeta> chunks, long[] chunkStarts, long length, byte[] trusted)
    {
        _service = service;
        _digest = digest;
        _chunks = chunks;
        _chunkStarts = chunkStarts;
        _trusted = trusted;
        Length = length;
    }

    public override long Length { get; }

    protected override async ValueTask<int> ReadAtAsync(long position, Memory<byte> buffer, CancellationToken ct)
    {
        long index = position / Outboard.GroupSize;
        if (index != _groupIndex)
        {
            await LoadGroupAsync(index, ct).ConfigureAwait(false);
        }

        int offset = (int)(position - (index * Outboard.GroupSize));
        int n = Math.Min(buffer.Length, _groupLength - offset);
        _group.AsMemory(offset, n).CopyTo(buffer);
        return n;
    }

    private async Task LoadGroupAsync(long index, CancellationToken ct)
    {
        _groupIndex = -1;
        long start = index * Outboard.GroupSize;
        int length = Outboard.GroupLength(Length, index);
        int chunk = Array.BinarySearch(_chunkStarts, start);
        if (chunk < 0)
        {
            chunk = ~chunk - 1;
        }

        for (int filled = 0; filled < length; chunk++)
        {
            var bytes = await ChunkAsync(chunk, ct).ConfigureAwait(false);
            int from = (int)(start + filled - _chunkStarts[chunk]);
            int take = Math.Min(bytes.Length - from, length - filled);
            bytes.AsSpan(from, take).CopyTo(_group.AsSpan(filled));
            filled += take;
        }

        if (!Outboard.GroupMatches(_group.AsSpan(0, length), index, _trusted))
        {
            throw new BlobVerificationException(_digest, $"{_service.Display}: blob {_digest.ToHex()}: group {index} (bytes {start} to {start + length - 1}) does not match the blob's outboard");
        }

        _groupIndex = index;
        _groupLength = length;
    }

    /// <summary>A chunk's bytes, exactly as many as announced; one chunk can span two groups, so the last is kept.</summary>
    private async Task<byte[]> ChunkAsync(int index, CancellationToken ct)
    {
        if (_lastChunk is { } last && last.Index == index)
        {
            return last.Bytes;
        }

        var bytes = await _service.ReadChunkAsync(_digest, _chunks[index], ct).ConfigureAwait(false);
        _lastChunk = (index, bytes);
        return bytes;
    }
}
