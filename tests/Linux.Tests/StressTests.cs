using System.Diagnostics;
using System.Globalization;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;
using CastoreFs.Linux.Tests.Stress;

namespace CastoreFs.Linux.Tests;

/// <summary>
/// Real trees (<c>/usr/include</c> and Python's standard library) imported and mounted by a real
/// <c>castorefs mount</c> daemon, then 16 readers over random files and ranges (half of them on a few hot
/// files, so that opens of one file overlap) while the kernel drops its caches in a loop: from the
/// embedded store with passthrough and without, and from a remote store one of whose blob files is
/// damaged on disk. Short here; <c>bench/stress</c> runs it for as long as asked
/// (<c>CASTOREFS_STRESS_SECONDS</c>).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class StressTests
{
    private const int Readers = 16;

    /// <summary>What the daemon may hold at most, whatever it reads: a bound, not a target.</summary>
    private const long MaxDaemonRss = 300L << 20;

    private static readonly string[] Trees = ["/usr/include", "/usr/lib/python3.11"];
    private static readonly Lazy<ImportedTrees> Imported = new(() => new ImportedTrees(Trees));

    [ClassCleanup]
    public static void RemoveTrees()
    {
        if (Imported.IsValueCreated)
        {
            Imported.Value.Dispose();
        }
    }

    [TestMethod]
    [DataRow("passthrough")]
    [DataRow("no-passthrough")]
    [DataRow("remote, one blob damaged")]
    public void Sixteen_readers_over_real_trees_while_caches_drop_get_every_byte_and_leave_nothing_open(string mode)
    {
        TestMount.RequireFuse();
        foreach (var tree in Trees.Where(t => !Directory.Exists(t)))
        {
            Assert.Inconclusive($"{tree} is missing: .ci/install-deps installs python3 and libc6-dev, whose trees this reads");
        }

        var duration = TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("CASTOREFS_STRESS_SECONDS") ?? "12", CultureInfo.InvariantCulture));
        var trees = Imported.Value;
        using var dir = new TempDirectory();
        var cli = new CliRunner(dir.Combine("home"));
        var mnt = dir.Combine("mnt");
        Directory.CreateDirectory(mnt);
        string? damaged = null;
        Process? server = null;
        string store = trees.Store;
        if (mode.StartsWith("remote", StringComparison.Ordinal))
        {
            // The store the server serves has one blob file damaged, as a disk or a copy could damage it.
            store = dir.Combine("served");
            CopyDirectory(trees.Store, store);
            damaged = trees.Files.MaxBy(f => new FileInfo(f.Source).Length).Source;
            var hex = Blake3Hasher.Hash(File.ReadAllBytes(damaged)).ToHex();
            using (var blob = File.Open(Path.Combine(store, "blobs", hex[..2], hex), FileMode.Open, FileAccess.ReadWrite))
            {
                blob.Position = blob.Length / 2;
                int b = blob.ReadByte();
                blob.Position--;
                blob.WriteByte((byte)(b ^ 0x20));
            }

            var socket = dir.Combine("s.sock");
            server = cli.Start("--store", store, "serve", "--listen", "unix://" + socket);
            var line = server.StandardError.ReadLineAsync();
            Assert.IsTrue(line.Wait(TimeSpan.FromSeconds(60)) && line.Result?.Contains("serving on", StringComparison.Ordinal) == true, "serve did not start");
            store = "grpc+unix://" + socket;
        }

        try
        {
            string[] args = mode == "no-passthrough" ? ["--store", store, "mount", "--no-passthrough", mnt] : ["--store", store, "mount", mnt];
            using var daemon = MountProcess.Start(cli, args);
            var files = trees.Files.Select(f => (Mounted: Path.Combine(mnt, f.Mounted), f.Source)).ToList();
            var run = StressRun.Run(daemon.Id, files, damaged, Readers, duration, seed: mode.Length);

            Console.WriteLine($"{mode} ({daemon.ReadyLine}), {files.Count} files, {duration.TotalSeconds} s: {run}");
            Assert.AreEqual(0L, run.Errors + run.Mismatches, string.Join('\n', run.Failures.Take(10)));
            Assert.IsGreaterThan(Readers * 10L, run.Reads, "the readers got through");
            Assert.IsGreaterThan(0, run.CacheDrops);
            if (damaged is not null)
            {
                Assert.IsGreaterThan(0L, run.DamagedRefused, "reads of the damaged file were tried, and each failed");
            }

            // SQLite keeps a connection per query that ran at once (two descriptors each) until it has been idle
            // for minutes, and the runtime keeps each assembly it loads mapped: neither grows with what is read.
            Assert.IsFalse(run.DescriptorsLeft.Any(StressRun.IsBlob), "no blob stays open once the kernel has forgotten its node");
            Assert.IsTrue(
                run.DescriptorsLeft.All(f => Path.GetFileName(f) is "store.sqlite" or "store.sqlite-wal" || f.EndsWith(".dll", StringComparison.Ordinal)),
                "the daemon holds nothing new but SQLite's pooled connections and loaded assemblies: " + string.Join(", ", run.DescriptorsLeft));
            Assert.IsLessThan(MaxDaemonRss, run.MaxRssBytes, "the daemon's memory stays bounded");
        }
        finally
        {
            server?.Kill(entireProcessTree: true);
            server?.Dispose();
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>The trees imported once into one embedded store, and each regular file with its path below the mount.</summary>
    private sealed class ImportedTrees : IDisposable
    {
        private readonly TempDirectory _directory = new();

        public ImportedTrees(string[] trees)
        {
            var (exit, stdout, stderr) = new CliRunner(_directory.Combine("home")).Run(["--store", Store, "import", .. trees]);
            Assert.AreEqual(0, exit, stderr);
            var roots = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => Path.GetFileName(p.Trim())).ToArray();
            Files = [.. trees.Zip(roots).SelectMany(pair => ImportedTree.RegularFiles(pair.First)
                .Select(f => (Mounted: Path.Combine(pair.Second, f), Source: Path.Combine(pair.First, f))))];
        }

        public string Store => _directory.Combine("store");

        public IReadOnlyList<(string Mounted, string Source)> Files { get; }

        public void Dispose() => _directory.Dispose();
    }
}
