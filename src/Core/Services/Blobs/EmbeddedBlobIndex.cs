using System.Buffers;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using Microsoft.Data.Sqlite;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// The chunk list and outboard of an embedded blob over 1 MiB, recorded on the first stat that asks for
/// them rather than on import, which most blobs never need and which it would slow by a quarter. Chunks
/// are the blob's 1 MiB groups, so a reader fetches and checks one group with one chunk read. Building
/// the index hashes the whole file, so it also proves the file still holds the blob its name says.
/// </summary>
internal sealed class EmbeddedBlobIndex(EmbeddedBlobService service)
{
    public async Task<BlobStat> GetAsync(B3Digest digest, long size, CancellationToken ct) =>
        await ReadAsync(digest, size, ct).ConfigureAwait(false) ?? await BuildAsync(digest, size, ct).ConfigureAwait(false);

    private async Task<BlobStat?> ReadAsync(B3Digest digest, long size, CancellationToken ct)
    {
        using var connection = service.Database.Connect();
        byte[]? outboard;
        using (var query = EmbeddedDatabase.Command(connection, "SELECT data FROM outboards WHERE blob = $d", ("$d", digest.Span.ToArray())))
        {
            outboard = await query.ExecuteScalarAsync(ct).ConfigureAwait(false) as byte[];
        }

        if (outboard is null)
        {
            return null;
        }

        using var chunksQuery = EmbeddedDatabase.Command(connection, "SELECT digest, size FROM chunks WHERE blob = $d ORDER BY idx", ("$d", digest.Span.ToArray()));
        using var reader = await chunksQuery.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var chunks = new List<ChunkMeta>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            chunks.Add(new ChunkMeta(new B3Digest((byte[])reader[0]), (ulong)reader.GetInt64(1)));
        }

        return new BlobStat(size, chunks, outboard);
    }

    /// <summary>Hashes every group twice, on all cores: as a chunk of its own (its digest) and as a subtree of the blob.</summary>
    private async Task<BlobStat> BuildAsync(B3Digest digest, long size, CancellationToken ct)
    {
        long groups = Outboard.GroupCount(size);
        var chunks = new ChunkMeta[groups];
        var chainingValues = new byte[groups * B3Digest.Length];
        using (var file = service.TryOpenFile(digest) ?? throw new IOException($"blob {digest.ToHex()} is recorded but its file is missing"))
        {
            await Parallel.ForAsync(0L, groups, ct, (i, _) =>
            {
                var buffer = ArrayPool<byte>.Shared.Rent(Outboard.GroupSize);
                try
                {
                    int length = Outboard.GroupLength(size, i);
                    var group = buffer.AsSpan(0, length);
                    if (RandomAccess.Read(file, group, i * Outboard.GroupSize) != length)
                    {
                        throw new IOException($"blob {digest.ToHex()}: its file is shorter than the {size} bytes recorded");
                    }

                    chunks[i] = new ChunkMeta(Blake3Hasher.Hash(group), (ulong)length);
                    Outboard.GroupChainingValue(group, i, chainingValues.AsSpan((int)(i * B3Digest.Length), B3Digest.Length));
                    return ValueTask.CompletedTask;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }).ConfigureAwait(false);
        }

        var outboard = Outboard.Create(chainingValues, out var actual);
        if (actual != digest)
        {
            throw new BlobVerificationException(digest, actual, $"the stored file {service.PathOf(digest)}");
        }

        await RecordAsync(digest, chunks, outboard, ct).ConfigureAwait(false);
        return new BlobStat(size, chunks, outboard);
    }

    /// <summary>Two racing stats record the same rows.</summary>
    private async Task RecordAsync(B3Digest digest, ChunkMeta[] chunks, byte[] outboard, CancellationToken ct)
    {
        using var connection = service.Database.Connect();
        using var transaction = connection.BeginTransaction();
        var blob = digest.Span.ToArray();
        for (int i = 0; i < chunks.Length; i++)
        {
            await ExecuteAsync(
                connection, transaction, "INSERT OR IGNORE INTO chunks (blob, idx, digest, offset, size) VALUES ($b, $i, $d, $o, $s)", ct,
                ("$b", blob), ("$i", i), ("$d", chunks[i].Digest.Span.ToArray()), ("$o", (long)i * Outboard.GroupSize), ("$s", (long)chunks[i].Size)).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, transaction, "INSERT OR IGNORE INTO outboards (blob, data) VALUES ($b, $v)", ct, ("$b", blob), ("$v", outboard)).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        using var command = EmbeddedDatabase.Command(connection, sql, parameters);
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
