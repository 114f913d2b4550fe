using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// A gRPC blob's 1 MiB groups assembled from the chunks that overlap them, whatever their boundaries: the
/// server's chunks are only names to fetch bytes by. One chunk can span two groups, so the last is kept.
/// Groups are filled one at a time.
/// </summary>
internal sealed class ChunkedGroups(GrpcBlobService service, B3Digest digest, IReadOnlyList<ChunkMeta> chunks)
{
    private readonly long[] _chunkStarts = StartsOf(chunks);
    private (int Index, byte[] Bytes)? _lastChunk;

    public async Task FillAsync(long index, Memory<byte> group, CancellationToken ct)
    {
        long start = index * Outboard.GroupSize;
        int chunk = Array.BinarySearch(_chunkStarts, start);
        if (chunk < 0)
        {
            chunk = ~chunk - 1;
        }

        for (int filled = 0; filled < group.Length; chunk++)
        {
            var bytes = await ChunkAsync(chunk, ct).ConfigureAwait(false);
            int from = (int)(start + filled - _chunkStarts[chunk]);
            int take = Math.Min(bytes.Length - from, group.Length - filled);
            bytes.AsMemory(from, take).CopyTo(group[filled..]);
            filled += take;
        }
    }

    /// <summary>Where each chunk starts in the blob.</summary>
    private static long[] StartsOf(IReadOnlyList<ChunkMeta> chunks)
    {
        var starts = new long[chunks.Count];
        for (int i = 1; i < starts.Length; i++)
        {
            starts[i] = starts[i - 1] + (long)chunks[i - 1].Size;
        }

        return starts;
    }

    private async Task<byte[]> ChunkAsync(int index, CancellationToken ct)
    {
        if (_lastChunk is { } last && last.Index == index)
        {
            return last.Bytes;
        }

        var bytes = await service.ReadChunkAsync(digest, chunks[index], ct).ConfigureAwait(false);
        _lastChunk = (index, bytes);
        return bytes;
    }
}
