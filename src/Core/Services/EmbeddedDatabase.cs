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

    private EmbeddedDatabase(string root)
    {
        Root = root;
        BlobsPath = Path.Combine(root, "blobs");
        TempPath = Path.Combine(root, "tmp");
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(root, "store.sqlite"),
            Pooling = true,
            DefaultTimeout = 60,
        }.ToString();
    }

    public string Root { get; }

    public string BlobsPath { get; }

    public string TempPath { get; }

    private string ConnectionString { get; }

    /// <summary>Opens (creating if needed) the store in <paramref name="root"/>.</summary>
    public static EmbeddedDatabase Open(string root)
    {
        var db = new EmbeddedDatabase(Path.GetFullPath(root));
        System.IO.Directory.CreateDirectory(db.BlobsPath);
        System.IO.Directory.CreateDirectory(db.TempPath);
        using var connection = db.Connect();
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
            throw new InvalidOperationException($"store at {db.Root} has schema version {version}; this build reads {SchemaVersion}");
        }

        return db;
    }

    /// <summary>A pooled connection; open one per operation. synchronous is a per-connection setting, so it is set here.</summary>
    public SqliteConnection Connect()
    {
        var connection = new SqliteConnection(ConnectionString);
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
