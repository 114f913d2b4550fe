using Npgsql;

namespace CastoreFs.Core.Services.PathInfos;

/// <summary>
/// <c>postgresql://[user[:password]@][host][:port][/database][?host=/socket/dir&amp;…]</c>, libpq's URI
/// form, as an Npgsql connection string. Query parameters other than <c>host</c> are Npgsql's connection
/// string keywords (<c>sslmode=require</c>, <c>timeout=5</c>); a password left out comes from
/// <c>PGPASSWORD</c> or <c>~/.pgpass</c>.
/// </summary>
public static class PostgresUrl
{
    public static bool IsPostgresUrl(string url) =>
        url.StartsWith("postgresql://", StringComparison.Ordinal) || url.StartsWith("postgres://", StringComparison.Ordinal);

    /// <summary>The URL without its password, for messages.</summary>
    public static string Display(string url) => Display(new NpgsqlConnectionStringBuilder(ToConnectionString(url)));

    public static string ToConnectionString(string url)
    {
        if (!IsPostgresUrl(url))
        {
            throw new ArgumentException($"{url}: not a PostgreSQL URL; give postgresql://user@host:port/database");
        }

        // By hand rather than System.Uri, which refuses libpq's empty host (postgresql://user@/db?host=/run/postgresql).
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        int q = rest.IndexOf('?', StringComparison.Ordinal);
        var query = q >= 0 ? rest[(q + 1)..] : string.Empty;
        rest = q >= 0 ? rest[..q] : rest;
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        var database = slash >= 0 ? Uri.UnescapeDataString(rest[(slash + 1)..]) : string.Empty;
        var builder = new NpgsqlConnectionStringBuilder();
        if (authority.LastIndexOf('@') is var at and >= 0)
        {
            var userInfo = authority[..at].Split(':', 2);
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
            if (userInfo.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(userInfo[1]);
            }

            authority = authority[(at + 1)..];
        }

        int colon = authority.LastIndexOf(':');
        if (colon >= 0 && !authority[colon..].Contains(']', StringComparison.Ordinal))
        {
            builder.Port = int.TryParse(authority[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
                ? port
                : throw new ArgumentException($"{url}: '{authority[(colon + 1)..]}' is not a port");
            authority = authority[..colon];
        }

        if (authority.Length > 0)
        {
            builder.Host = Uri.UnescapeDataString(authority.Trim('[', ']'));
        }

        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            var (name, value) = eq >= 0 ? (Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..])) : (pair, string.Empty);
            try
            {
                builder[name] = value;
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{Display(builder)}: unknown connection parameter '{name}': {e.Message}", e);
            }
        }

        builder.Host ??= "localhost";
        return builder.ConnectionString;
    }

    private static string Display(NpgsqlConnectionStringBuilder builder) => $"postgresql://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
}
