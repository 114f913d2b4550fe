using CastoreFs.Core.S3;
using CastoreFs.Core.Services.PathInfos;
using Npgsql;

namespace CastoreFs.Core.Tests.Services;

[TestClass]
public sealed class StoreUrlTests
{
    [TestMethod]
    public void An_s3_url_names_bucket_prefix_endpoint_region_and_timeout()
    {
        var url = S3Url.Parse("s3://store/farm/one?endpoint=http%3A%2F%2F127.0.0.1%3A7480&region=eu-west-1&timeout=2.5");
        Assert.AreEqual(new S3Url("store", "farm/one/", "http://127.0.0.1:7480", "eu-west-1", TimeSpan.FromSeconds(2.5)), url);
        Assert.AreEqual("s3://store/farm/one/", url.Display);
        Assert.AreEqual(new S3Url("store", string.Empty, null, null, TimeSpan.FromSeconds(30)), S3Url.Parse("s3://store"));
    }

    [TestMethod]
    [DataRow("s3://")]
    [DataRow("s3://store?endpoint=ftp://host")]
    [DataRow("s3://store?timeout=0")]
    [DataRow("s3://store?colour=blue")]
    public void A_malformed_s3_url_is_refused_by_name(string url) =>
        Assert.ThrowsExactly<ArgumentException>(() => S3Url.Parse(url));

    [TestMethod]
    public void A_postgres_url_becomes_a_connection_string_with_libpq_forms()
    {
        var full = new NpgsqlConnectionStringBuilder(PostgresUrl.ToConnectionString("postgresql://farm:s%40cret@db.example:6543/castore?sslmode=require"));
        Assert.AreEqual(("farm", "s@cret", "db.example", 6543, "castore", SslMode.Require), (full.Username, full.Password, full.Host, full.Port, full.Database, full.SslMode));

        var socket = new NpgsqlConnectionStringBuilder(PostgresUrl.ToConnectionString("postgres://farm@/castore?host=%2Frun%2Fpostgresql&port=5433"));
        Assert.AreEqual(("/run/postgresql", 5433, "castore"), (socket.Host, socket.Port, socket.Database));
        Assert.AreEqual("postgresql://farm@db.example:6543/castore", PostgresUrl.Display("postgresql://farm:s%40cret@db.example:6543/castore"), "no password in messages");
    }

    [TestMethod]
    [DataRow("postgresql://db:port/x")]
    [DataRow("postgresql://db/x?nonsense=1")]
    [DataRow("mysql://db/x")]
    public void A_malformed_postgres_url_is_refused_by_name(string url) =>
        Assert.ThrowsExactly<ArgumentException>(() => PostgresUrl.ToConnectionString(url));
}
