using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

/// <summary>Directories in the embedded store's SQLite database; a closure is stored in one transaction.</summary>
public sealed class EmbeddedDirectoryService(EmbeddedDatabase db) : IDirectoryService
{
    public async Task<Directory?> GetAsync(B3Digest digest, CancellationToken ct = default)
    {
        using var connection = db.Connect();
        using var query = EmbeddedDatabase.Command(connection, "SELECT data FROM directories WHERE digest = $d", ("$d", digest.Span.ToArray()));
        return await query.ExecuteScalarAsync(ct).ConfigureAwait(false) is byte[] data ? DirectoryRules.Parser.ParseFrom(data) : null;
    }

    public IAsyncEnumerable<Directory> GetRecursiveAsync(B3Digest root, CancellationToken ct = default) =>
        DirectoryTraversal.BreadthFirstAsync(this, root, ct);

    /// <summary>A closure is held (spilled beside the store's temp files when large) until it validates, then stored in one transaction.</summary>
    public IDirectoryPutter BeginPut() => new BufferedDirectoryPutter(
        async closure =>
        {
            using var connection = db.Connect();
            using var transaction = connection.BeginTransaction();
            foreach (var (digest, encoded) in closure)
            {
                using var insert = EmbeddedDatabase.Command(
                    connection, "INSERT OR IGNORE INTO directories (digest, data) VALUES ($d, $v)",
                    ("$d", digest.Span.ToArray()), ("$v", encoded));
                insert.Transaction = transaction;
                await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
            }

            await transaction.CommitAsync().ConfigureAwait(false);
        },
        db.TempPath);
}
