using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.IO.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Blobs as whole files named by digest, with a chunk index and outboard in SQLite recorded on the first
/// stat that asks (<see cref="EmbeddedBlobIndex"/>). Whole files can be handed to the kernel for passthrough
/// reads, and seeking is a file seek. Chunks are fixed 1 MiB: the blob is stored whole, so content-defined
/// boundaries would buy no deduplication, while fixed ones map an offset to its chunk by division and are
/// the groups an outboard checks.
/// </summary>
public sealed class EmbeddedBlobService : IBlobService, ILocalBlobFiles
{
    public const int ChunkSize = Outboard.GroupSize;

    private readonly EmbeddedBlobIndex _index;

    public EmbeddedBlobService(EmbeddedDatabase database)
    {
        Database = database;
        _index = new EmbeddedBlobIndex(this);
    }

    public EmbeddedDatabase Database { get; }

    /// <summary>Where the blob's file lives once written (it may not exist).</summary>
    public string PathOf(B3Digest digest)
    {
        var hex = digest.ToHex();
        return Path.Combine(Database.BlobsPath, hex[..2], hex);
    }

    public async Task<BlobStat?> StatAsync(B3Digest digest, BlobDetails details = BlobDetails.None, CancellationToken ct = default)
    {
        long size;
        using (var connection = Database.Connect())
        using (var query = EmbeddedDatabase.Command(
            connection,
            "SELECT (SELECT size FROM blobs WHERE digest = $d), (SELECT size FROM chunks WHERE digest = $d LIMIT 1)",
            ("$d", digest.Span.ToArray())))
        using (var row = await query.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await row.ReadAsync(ct).ConfigureAwait(false);
            if (row.IsDBNull(0))
            {
                // A chunk is a blob of its own that is not split further, as upstream's object store answers.
                return row.IsDBNull(1) ? null : BlobStat.Whole(row.GetInt64(1));
            }

            size = row.GetInt64(0);
        }

        // A blob of one group is its own chunk, and is checked whole: upstream reports no finer chunking for it.
        return size <= ChunkSize || details == BlobDetails.None ? BlobStat.Whole(size) : await _index.GetAsync(digest, size, ct).ConfigureAwait(false);
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

        using var connection = Database.Connect();
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

    public IBlobWriter OpenWrite() => new EmbeddedBlobWriter(this);

    /// <summary>Records blobs whose files are in place and durable, in one transaction.</summary>
    internal async Task RecordAsync(IReadOnlyList<(B3Digest Digest, long Size)> blobs, CancellationToken ct)
    {
        if (blobs.Count == 0)
        {
            return;
        }

        using var connection = Database.Connect();
        using var transaction = connection.BeginTransaction();
        using var insert = EmbeddedDatabase.Command(connection, "INSERT OR IGNORE INTO blobs (digest, size) VALUES ($d, $s)", ("$d", Array.Empty<byte>()), ("$s", 0L));
        insert.Transaction = transaction;
        foreach (var (digest, size) in blobs)
        {
            insert.Parameters["$d"].Value = digest.Span.ToArray();
            insert.Parameters["$s"].Value = size;
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        transaction.Commit();
    }

    /// <summary>Every blob recorded, with its size.</summary>
    internal IEnumerable<(B3Digest Digest, long Size)> List()
    {
        using var connection = Database.Connect();
        using var query = EmbeddedDatabase.Command(connection, "SELECT digest, size FROM blobs");
        using var reader = query.ExecuteReader();
        while (reader.Read())
        {
            yield return (new B3Digest((byte[])reader[0]), reader.GetInt64(1));
        }
    }

    /// <summary>Forgets a blob and removes its file; a reader that has the file open reads on.</summary>
    internal void Delete(B3Digest digest)
    {
        using (var connection = Database.Connect())
        using (var transaction = connection.BeginTransaction())
        {
            foreach (var sql in new[] { "DELETE FROM blobs WHERE digest = $d", "DELETE FROM chunks WHERE blob = $d", "DELETE FROM outboards WHERE blob = $d" })
            {
                using var delete = EmbeddedDatabase.Command(connection, sql, ("$d", digest.Span.ToArray()));
                delete.Transaction = transaction;
                delete.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        File.Delete(PathOf(digest));
    }

    /// <summary>Where syncfs(2) exists, a group flushes the disk a few times for all its blobs; elsewhere each is fsynced on its own.</summary>
    public IBlobGroup OpenGroup() => FileSystemSync.IsAvailable ? new EmbeddedBlobGroup(this) : new WriterBlobGroup(this);
}
