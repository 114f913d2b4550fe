using System.Runtime.CompilerServices;
using CastoreFs.Core.Model;
using Google.Protobuf;
using Snix.Store.V1;

namespace CastoreFs.Core.Services.PathInfos;

/// <summary>Path infos in the embedded store's SQLite database, listed by basename as <c>ls /nix/store</c> would.</summary>
public sealed class EmbeddedPathInfoService(EmbeddedDatabase db) : IPathInfoService
{
    private static readonly MessageParser<PathInfo> Parser = PathInfo.Parser.WithDiscardUnknownFields(true);

    public async Task<PathInfo?> GetAsync(ReadOnlyMemory<byte> storePathDigest, CancellationToken ct = default)
    {
        using var connection = db.Connect();
        using var query = EmbeddedDatabase.Command(connection, "SELECT data FROM path_infos WHERE digest = $d", ("$d", storePathDigest.ToArray()));
        return await query.ExecuteScalarAsync(ct).ConfigureAwait(false) is byte[] data ? Parser.ParseFrom(data) : null;
    }

    /// <summary>Stores the path info; its metadata may be replaced, its root never (<see cref="PathInfoConflictException"/>).</summary>
    public async Task<PathInfo> PutAsync(PathInfo pathInfo, CancellationToken ct = default)
    {
        var storePath = pathInfo.Validate();
        var digest = storePath.Digest.ToArray();
        using var connection = db.Connect();
        using var transaction = connection.BeginTransaction(deferred: false);
        var encoded = pathInfo.ToByteArray();
        using (var existing = EmbeddedDatabase.Command(connection, "SELECT data FROM path_infos WHERE digest = $d", ("$d", digest)))
        {
            existing.Transaction = transaction;
            if (await existing.ExecuteScalarAsync(ct).ConfigureAwait(false) is byte[] data)
            {
                if (data.AsSpan().SequenceEqual(encoded))
                {
                    // Registered already, byte for byte (a path imported again, as nix-store --add leaves a valid
                    // path alone): writing it again would be a WAL commit and three fsyncs for nothing.
                    return pathInfo;
                }

                PathInfoConflictException.ThrowIfAnotherRoot(storePath, Parser.ParseFrom(data), pathInfo);
            }
        }

        using var upsert = EmbeddedDatabase.Command(
            connection, "INSERT OR REPLACE INTO path_infos (digest, name, data) VALUES ($d, $n, $v)",
            ("$d", digest), ("$n", storePath.BaseName), ("$v", encoded));
        upsert.Transaction = transaction;
        await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return pathInfo;
    }

    public async IAsyncEnumerable<PathInfo> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        using var connection = db.Connect();
        using var query = EmbeddedDatabase.Command(connection, "SELECT data FROM path_infos ORDER BY name");
        using var reader = await query.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            yield return Parser.ParseFrom((byte[])reader[0]);
        }
    }
}
