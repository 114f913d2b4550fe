using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CastoreFs.Core.S3;
using Npgsql;

namespace CastoreFs.Core.Tests.Engines;

/// <summary>
/// A real Ceph cluster with its S3 gateway (memstore) and a throwaway PostgreSQL cluster, started once per
/// test run by tests/engines/ceph-rgw and tests/engines/postgres and stopped when the run ends. Each test
/// asks for a store of its own: a fresh key prefix in one bucket and a fresh database.
/// </summary>
internal sealed class SharedEngines
{
    private const string Bucket = "castorefs-tests";

    private static readonly Lazy<SharedEngines> Started = new(() => new SharedEngines(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _dir;
    private readonly string _postgres;
    private readonly Dictionary<string, string> _s3Environment;
    private int _stopped;

    private SharedEngines()
    {
        _dir = Path.Combine(Path.GetTempPath(), "cfs-engines-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        S3Port = FreePort();
        PostgresPort = FreePort();
        S3Endpoint = Script("ceph-rgw", "start", CephDir, S3Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).Trim();
        _s3Environment = File.ReadAllLines(Path.Combine(CephDir, "env"))
            .Select(line => line.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        foreach (var (name, value) in _s3Environment)
        {
            // The AWS SDK reads credentials from the environment, as a user's would.
            Environment.SetEnvironmentVariable(name, value);
        }

        _postgres = Script("postgres", "start", PostgresDir, PostgresPort.ToString(System.Globalization.CultureInfo.InvariantCulture)).Trim();
        using var bucket = S3Bucket.Open(BucketUrl(string.Empty));
        bucket.EnsureBucketAsync().GetAwaiter().GetResult();
    }

    public string S3Endpoint { get; }

    public int S3Port { get; }

    public int PostgresPort { get; }

    public IReadOnlyDictionary<string, string> S3Environment => _s3Environment;

    public string CephDir => Path.Combine(_dir, "ceph");

    public string PostgresDir => Path.Combine(_dir, "pg");

    public static SharedEngines StartOrInconclusive()
    {
        foreach (var (tool, package) in new[] { ("ceph-mon", "ceph-mon"), ("ceph-osd", "ceph-osd"), ("radosgw", "radosgw"), ("ceph-authtool", "ceph-common") })
        {
            if (Tools.Find(tool) is null)
            {
                Assert.Inconclusive($"{tool} is not installed (apt-get install {package}); .ci/install-deps installs Ceph for the S3 tests");
            }
        }

        if (!System.IO.Directory.Exists("/usr/lib/postgresql"))
        {
            Assert.Inconclusive("PostgreSQL's server is not installed (apt-get install postgresql); .ci/install-deps installs it");
        }

        return Started.Value;
    }

    /// <summary><c>s3://castorefs-tests/prefix?endpoint=…</c> on the test gateway.</summary>
    public string BucketUrl(string prefix) => $"s3://{Bucket}/{prefix}?endpoint={Uri.EscapeDataString(S3Endpoint)}&region=us-east-1";

    /// <summary>A store of its own: a fresh prefix for blobs and directories and a fresh database for path infos.</summary>
    public (string S3, string Postgres) NewStore()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..16];
        // Not pooled: a connection left from before a restart of the database would be broken.
        using (var connection = new NpgsqlConnection(_postgres + ";Pooling=false"))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            create.ExecuteNonQuery();
        }

        return (BucketUrl(name), PostgresUrl(name));
    }

    /// <summary><c>postgresql://castorefs@/database?host=socket-dir&amp;port=…</c>.</summary>
    public string PostgresUrl(string database) =>
        $"postgresql://castorefs@/{database}?host={Uri.EscapeDataString(PostgresDir)}&port={PostgresPort}";

    public void StopPostgres() => Script("postgres", "stop", PostgresDir);

    /// <summary>Starts the stopped PostgreSQL again, its data kept.</summary>
    public void StartPostgres() => Script("postgres", "restart", PostgresDir, PostgresPort.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Freezes the gateway (SIGSTOP): connections stay open and nothing answers.</summary>
    public void StopGateway() => Signal("rgw.pid", "STOP");

    public void ResumeGateway() => Signal("rgw.pid", "CONT");

    private static string Script(string name, params string[] args)
    {
        var script = Path.Combine(RepositoryRoot(), "tests", "engines", name);
        var start = new ProcessStartInfo(script) { RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tests/engines/{name} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result}");
        }

        return output.Result;
    }

    private static string RepositoryRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "CastoreFs.sln")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("no CastoreFs.sln above " + AppContext.BaseDirectory);
        }

        return dir;
    }

    private static int FreePort()
    {
        // Ceph's monitors take the two ports after the gateway's.
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port < 65000)
            {
                return port;
            }
        }
    }

    private void Signal(string pidFile, string signal)
    {
        var pid = File.ReadAllText(Path.Combine(CephDir, "run", pidFile)).Trim();
        Process.Start("kill", ["-" + signal, pid])!.WaitForExit();
    }

    /// <summary>Stops the engines if this run started them (at the end of the test run).</summary>
    public static void StopIfStarted()
    {
        if (Started.IsValueCreated)
        {
            Started.Value.Stop();
        }
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        try
        {
            Script("postgres", "stop", PostgresDir);
            Script("ceph-rgw", "stop", CephDir);
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"stopping the test engines: {e.Message}");
        }
    }
}
