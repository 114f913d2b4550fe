using System.Buffers;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.IO.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Blobs as whole files named by digest, with a chunk index in SQLite recorded on the first stat. Whole
/// files can be handed to the kernel for passthrough reads, and seeking is a file seek. Chunks are fixed
/// 1 MiB: the blob is stored whole, so content-defined boundaries would buy no deduplication, while fixed
/// ones map an offset to its chunk by division.
/// </summary>
public sealed class EmbeddedBlobService(EmbeddedDatabase db) : IBlobService, ILocalBlobFiles
{
    public const int ChunkSize = 1024 * 1024;

    public EmbeddedDatabase Database => db;

    /// <summary>Where the blob's file lives once written (it may not exist).</summary>
    public string PathOf(B3Digest digest)
    {
        var hex = digest.ToHex();
        return Path.Combine(db.BlobsPath, hex[..2], hex);
    }

    public async Task<IReadOnlyList<ChunkMeta>?> StatAsync(B3Digest digest, CancellationToken ct = default)
    {
        long size;
        using (var connection = db.Connect())
        using (var exists = EmbeddedDatabase.Command(
            connection,
            "SELECT (SELECT size FROM blobs WHERE digest = $d), EXISTS (SELECT 1 FROM chunks WHERE digest = $d)",
            ("$d", digest.Span.ToArray())))
        using (var row = await exists.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await row.ReadAsync(ct).ConfigureAwait(false);
            if (row.IsDBNull(0))
            {
                // A chunk is a blob of its own that is not split further, as upstream's object store answers.
                return row.GetInt64(1) == 0 ? null : [];
            }

            size = row.GetInt64(0);
        }

        // A blob of one chunk is its own chunk: upstream reports no finer chunking for it.
        if (size <= ChunkSize)
        {
            return [];
        }

        return await ReadChunksAsync(digest, ct).ConfigureAwait(false) ?? await IndexChunksAsync(digest, size, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a blob, or one chunk of a blob when <paramref name="digest"/> names a chunk.
    /// </summary>
    public async Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default)
    {
        if (TryOpenFile(digest) is { } file)
        {
            return new FileStream(file, FileAccess.Read, bufferSize: 0);
        }

        using var connection = db.Connect();
        using var chunk = EmbeddedDatabase.Command(connection, "SELECT blob, offset, size FROM chunks WHERE digest = $d LIMIT 1", ("$d", digest.Span.ToArray()));
        using var reader = await chunk.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            return null;
        }

        var whole = new B3Digest((byte[])reader[0]);
        return new WindowStream(File.OpenHandle(PathOf(whole), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>
    /// A blob's file exists only once it is complete (it is renamed into place), so opening it needs no
    /// query: a mount opens one file per read of a small file.
    /// </summary>
    public SafeFileHandle? TryOpenFile(B3Digest digest)
    {
        try
        {
            // Blob files never change; sharing everything spares .NET its advisory flock on every open.
            // Blobs are mostly read front to back: a doubled kernel readahead keeps the disk ahead of the reader.
            return File.OpenHandle(PathOf(digest), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public SafeFileHandle? TryOpenUnbuffered(B3Digest digest) => LinuxDirectOpen.TryOpen(PathOf(digest), FileAccess.Read);

    public IBlobWriter OpenWrite() => new EmbeddedBlobWriter(this);

    private async Task<IReadOnlyList<ChunkMeta>?> ReadChunksAsync(B3Digest digest, CancellationToken ct)
    {
        using var connection = db.Connect();
        using var query = EmbeddedDatabase.Command(connection, "SELECT digest, size FROM chunks WHERE blob = $d ORDER BY idx", ("$d", digest.Span.ToArray()));
        using var reader = await query.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var chunks = new List<ChunkMeta>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            chunks.Add(new ChunkMeta(new B3Digest((byte[])reader[0]), (ulong)reader.GetInt64(1)));
        }

        return chunks.Count == 0 ? null : chunks;
    }

    /// <summary>
    /// Hashes the blob's 1 MiB chunks, on all cores, and records them: done on the first stat rather than
    /// on import, which most blobs never need. Two racing stats record the same rows.
    /// </summary>
    private async Task<IReadOnlyList<ChunkMeta>> IndexChunksAsync(B3Digest digest, long size, CancellationToken ct)
    {
        var chunks = new ChunkMeta[(int)((size + ChunkSize - 1) / ChunkSize)];
        using (var file = TryOpenFile(digest) ?? throw new IOException($"blob {digest.ToHex()} is recorded but its file is missing"))
        {
            await Parallel.ForAsync(0, chunks.Length, ct, (i, _) =>
            {
                long offset = (long)i * ChunkSize;
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                try
                {
                    int length = (int)Math.Min(ChunkSize, size - offset);
                    int read = RandomAccess.Read(file, buffer.AsSpan(0, length), offset);
                    if (read != length)
                    {
                        throw new IOException($"blob {digest.ToHex()}: its file is shorter than the {size} bytes recorded");
                    }

                    chunks[i] = new ChunkMeta(Blake3Hasher.Hash(buffer.AsSpan(0, length)), (ulong)length);
                    return ValueTask.CompletedTask;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }).ConfigureAwait(false);
        }

        using var connection = db.Connect();
        using var transaction = connection.BeginTransaction();
        long chunkOffset = 0;
        for (int i = 0; i < chunks.Length; i++)
        {
            using var insert = EmbeddedDatabase.Command(
                connection,
                "INSERT OR IGNORE INTO chunks (blob, idx, digest, offset, size) VALUES ($b, $i, $d, $o, $s)",
                ("$b", digest.Span.ToArray()), ("$i", i), ("$d", chunks[i].Digest.Span.ToArray()), ("$o", chunkOffset), ("$s", (long)chunks[i].Size));
            insert.Transaction = transaction;
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            chunkOffset += (long)chunks[i].Size;
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return chunks;
    }
}
