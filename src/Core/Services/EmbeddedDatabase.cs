using Microsoft.Data.Sqlite;

namespace CastoreFs.Core.Services;

/// <summary>
/// The embedded store's folder: <c>store.sqlite</c> (directories, path infos, blob, chunk and outboard indexes),
/// <c>blobs/&lt;2 hex&gt;/&lt;64 hex&gt;</c> (each blob whole) and <c>tmp/</c> (large blobs being written;
/// a small one is written beside its final name, in a file with no name, or <c>tmp-…</c> where the
/// filesystem has no O_TMPFILE).
/// </summary>
public sealed class EmbeddedDatabase
{
    /// <summary>2 added the outboards table; a store of version 1 gains it on open.</summary>
    private const int SchemaVersion = 2;

    private readonly Task _schema;
    private string? _connectionString;

    private EmbeddedDatabase(string root)
    {
        Root = root;
        BlobsPath = Path.Combine(root, "blobs");
        TempPath = Path.Combine(root, "tmp");
        System.IO.Directory.CreateDirectory(BlobsPath);
        System.IO.Directory.CreateDirectory(TempPath);
        _schema = Task.Factory.StartNew(PrepareSchema, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public string Root { get; }

    public string BlobsPath { get; }

    public string TempPath { get; }

    /// <summary>
    /// Opens (creating if needed) the store in <paramref name="root"/>. Its folders are made here; its
    /// schema is made or checked on a thread of its own, which the first <see cref="Connect"/> waits for and
    /// whose failure it throws. SQLite's first use in a process (its native library, Microsoft.Data.Sqlite's
    /// connection strings, about 30 ms) so overlaps the start of an import, which needs no table until it
    /// records what it wrote: an import of one small file took 0.09-0.13 s where it took 0.11-0.16 s (15
    /// alternating runs, medians 0.11 and 0.14 s).
    /// </summary>
    public static EmbeddedDatabase Open(string root) => new(Path.GetFullPath(root));

    private void PrepareSchema()
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(Root, "store.sqlite"),
            Pooling = true,
            DefaultTimeout = 60,
        }.ToString();
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS directories (digest BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS path_infos (digest BLOB PRIMARY KEY, name TEXT NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS blobs (digest BLOB PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS chunks (
                blob BLOB NOT NULL, idx INTEGER NOT NULL, digest BLOB NOT NULL, offset INTEGER NOT NULL, size INTEGER NOT NULL,
                PRIMARY KEY (blob, idx)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS outboards (blob BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS chunks_by_digest ON chunks (digest);
            CREATE INDEX IF NOT EXISTS path_infos_by_name ON path_infos (name);
            """;
        command.ExecuteNonQuery();
        command.CommandText = "PRAGMA user_version";
        long version = (long)command.ExecuteScalar()!;
        if (version is 0 or 1)
        {
            command.CommandText = $"PRAGMA user_version = {SchemaVersion}";
            command.ExecuteNonQuery();
        }
        else if (version != SchemaVersion)
        {
            throw new InvalidOperationException($"store at {Root} has schema version {version}; this build reads {SchemaVersion}");
        }
    }

    /// <summary>A pooled connection; open one per operation.</summary>
    /// <exception cref="InvalidOperationException">The store's schema is of another version.</exception>
    public SqliteConnection Connect()
    {
        _schema.GetAwaiter().GetResult();
        return OpenConnection();
    }

    /// <summary>synchronous is a per-connection setting, so it is set here.</summary>
    private SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous = NORMAL";
        command.ExecuteNonQuery();
        return connection;
    }

    public static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }
}
