using System.Runtime.CompilerServices;
using CastoreFs.Core.Model;
using Google.Protobuf;
using Npgsql;
using Snix.Store.V1;

namespace CastoreFs.Core.Services.PathInfos;

/// <summary>
/// Path infos in PostgreSQL, the one mutable index of a store on shared engines: many processes may put
/// at once. The schema is made on first use under an advisory lock; a put takes the row's lock, so of two
/// writers racing with different roots for one store path, one wins and the other is refused.
/// </summary>
public sealed class PostgresPathInfoService : IPathInfoService, IDisposable
{
    private const int SchemaVersion = 1;

    private const int ListPage = 1000;

    /// <summary>The advisory lock key that serializes schema migrations ("castorefs" in ASCII, truncated).</summary>
    private const long MigrationLock = 0x63617374_6f726566;

    private static readonly MessageParser<PathInfo> Parser = PathInfo.Parser.WithDiscardUnknownFields(true);

    private readonly NpgsqlDataSource _source;
    private readonly SemaphoreSlim _migration = new(1);
    private bool _migrated;

    public PostgresPathInfoService(string url)
    {
        Display = PostgresUrl.Display(url);
        _source = NpgsqlDataSource.Create(PostgresUrl.ToConnectionString(url));
    }

    public string Display { get; }

    public Task<PathInfo?> GetAsync(ReadOnlyMemory<byte> storePathDigest, CancellationToken ct = default) => WithConnectionAsync(async connection =>
    {
        await using var query = new NpgsqlCommand("SELECT data FROM castorefs_path_infos WHERE digest = $1", connection) { Parameters = { new() { Value = storePathDigest.ToArray() } } };
        return await query.ExecuteScalarAsync(ct).ConfigureAwait(false) is byte[] data ? Parser.ParseFrom(data) : null;
    }, ct);

    /// <summary>Stores the path info; its metadata may be replaced, its root never (<see cref="PathInfoConflictException"/>).</summary>
    public async Task<PathInfo> PutAsync(PathInfo pathInfo, CancellationToken ct = default)
    {
        var storePath = pathInfo.Validate();
        var digest = storePath.Digest.ToArray();
        var data = pathInfo.ToByteArray();
        await WithConnectionAsync(connection => PutAsync(connection, storePath, pathInfo, digest, data, ct), ct).ConfigureAwait(false);
        return pathInfo;
    }

    /// <summary>
    /// By basename in byte order, as <c>ls /nix/store</c> lists them, a page at a time after the last name
    /// returned: memory stays bounded, and a page read over a broken connection is read again.
    /// </summary>
    public async IAsyncEnumerable<PathInfo> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        string after = string.Empty;
        while (true)
        {
            var page = await WithConnectionAsync(async connection =>
            {
                await using var query = new NpgsqlCommand(
                    "SELECT name, data FROM castorefs_path_infos WHERE name COLLATE \"C\" > $1 ORDER BY name COLLATE \"C\" LIMIT $2", connection)
                {
                    Parameters = { new() { Value = after }, new() { Value = ListPage } },
                };
                await using var reader = await query.ExecuteReaderAsync(ct).ConfigureAwait(false);
                var rows = new List<(string Name, byte[] Data)>(ListPage);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    rows.Add((reader.GetString(0), (byte[])reader[1]));
                }

                return rows;
            }, ct).ConfigureAwait(false);
            foreach (var (_, data) in page)
            {
                yield return Parser.ParseFrom(data);
            }

            if (page.Count < ListPage)
            {
                yield break;
            }

            after = page[^1].Name;
        }
    }

    public void Dispose()
    {
        _source.Dispose();
        _migration.Dispose();
    }

    private static async Task<bool> PutAsync(NpgsqlConnection connection, Nix.StorePath storePath, PathInfo pathInfo, byte[] digest, byte[] data, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO castorefs_path_infos (digest, name, data) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING", connection, transaction)
        {
            Parameters = { new() { Value = digest }, new() { Value = storePath.BaseName }, new() { Value = data } },
        })
        {
            if (await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1)
            {
                await transaction.CommitAsync(ct).ConfigureAwait(false);
                return true;
            }
        }

        await using (var existing = new NpgsqlCommand("SELECT data FROM castorefs_path_infos WHERE digest = $1 FOR UPDATE", connection, transaction) { Parameters = { new() { Value = digest } } })
        {
            var stored = (byte[])(await existing.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            PathInfoConflictException.ThrowIfAnotherRoot(storePath, Parser.ParseFrom(stored), pathInfo);
        }

        await using (var update = new NpgsqlCommand("UPDATE castorefs_path_infos SET data = $2 WHERE digest = $1", connection, transaction)
        {
            Parameters = { new() { Value = digest }, new() { Value = data } },
        })
        {
            await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a pooled connection, once more on a fresh one if the first was broken
    /// (a database restarted since leaves every idle connection in the pool dead). Every statement here may
    /// run twice: a put that did commit finds its own row the second time.
    /// </summary>
    private async Task<T> WithConnectionAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = await OpenAsync(ct).ConfigureAwait(false);
                return await work(connection).ConfigureAwait(false);
            }
            catch (NpgsqlException e) when (attempt == 0 && e.IsTransient && !ct.IsCancellationRequested)
            {
                _source.Clear();
            }
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = await _source.OpenConnectionAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_migrated)
            {
                await MigrateAsync(connection, ct).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Makes or upgrades the schema once per process; other processes wait on the advisory lock.</summary>
    private async Task MigrateAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await _migration.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_migrated)
            {
                return;
            }

            await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using (var migrate = new NpgsqlCommand(
                $"""
                SELECT pg_advisory_xact_lock({MigrationLock});
                CREATE TABLE IF NOT EXISTS castorefs_schema (version integer NOT NULL);
                CREATE TABLE IF NOT EXISTS castorefs_path_infos (digest bytea PRIMARY KEY, name text NOT NULL, data bytea NOT NULL);
                CREATE INDEX IF NOT EXISTS castorefs_path_infos_name ON castorefs_path_infos (name COLLATE "C");
                """, connection, transaction))
            {
                await migrate.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await using (var version = new NpgsqlCommand("SELECT max(version) FROM castorefs_schema", connection, transaction))
            {
                var found = await version.ExecuteScalarAsync(ct).ConfigureAwait(false);
                if (found is int existing && existing > SchemaVersion)
                {
                    throw new InvalidOperationException($"{Display}: the schema is version {existing}, newer than this castorefs knows ({SchemaVersion}); upgrade castorefs");
                }

                if (found is not int)
                {
                    await using var record = new NpgsqlCommand($"INSERT INTO castorefs_schema (version) VALUES ({SchemaVersion})", connection, transaction);
                    await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
            }

            await transaction.CommitAsync(ct).ConfigureAwait(false);
            _migrated = true;
        }
        finally
        {
            _migration.Release();
        }
    }
}
