using System.Diagnostics;
using CastoreFs.Core.Services;
using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;
using CastoreFs.Core.Tests.Engines;

namespace CastoreFs.Linux.Tests;

/// <summary>
/// One store on a real Ceph S3 gateway and a real PostgreSQL, shared by processes that know nothing of
/// each other: two imports at once, a kernel mount with a bounded cache, and a gRPC server in front.
/// </summary>
[TestClass]
public sealed class S3StoreMountTests
{
    [TestMethod]
    public async Task Two_imports_at_once_are_read_back_exactly_through_a_mount_and_a_server_in_front()
    {
        TestMount.RequireFuse();
        using var dir = new TempDirectory();
        var nix = NixOracle.InOrInconclusive(dir.Combine("nix"));
        var engines = SharedEngines.StartOrInconclusive();
        var (s3, postgres) = engines.NewStore();
        var large = MakeTree(dir.Combine("with-large"));
        var trees = new[] { large, "/usr/share/common-licenses" };
        var cli = new CliRunner(dir.Combine("home"));
        string[] store = ["--blob-service-addr", s3, "--directory-service-addr", s3, "--path-info-service-addr", postgres];

        var imports = trees.Select(tree => Task.Run(() => cli.Run([.. store, "import", tree]))).ToArray();
        var results = await Task.WhenAll(imports);
        var paths = results.Select((r, i) => r.Exit == 0 ? r.Stdout.Trim() : throw new AssertFailedException($"import of {trees[i]}: {r.Stderr}")).ToArray();
        for (int i = 0; i < trees.Length; i++)
        {
            Assert.AreEqual(nix.Add(trees[i]), paths[i], $"the store path nix-store --add gives {trees[i]}");
        }

        // A quarter of the cache's 8 MiB is under the large file: it is streamed, the small ones are cached.
        var mnt = dir.Combine("mnt");
        Directory.CreateDirectory(mnt);
        using (var mount = MountProcess.Start(cli, [.. store, "--cache-size", "8MiB", "mount", mnt]))
        {
            for (int i = 0; i < trees.Length; i++)
            {
                var mounted = Path.Combine(mnt, paths[i]["/nix/store/".Length..]);
                var diff = Run("diff", "-r", trees[i], mounted);
                Assert.AreEqual(0, diff.Exit, diff.Output);
                Assert.AreEqual(NixHash(trees[i]), NixHash(mounted), $"{paths[i]} through the mount");
            }
        }

        var socket = dir.Combine("s.sock");
        using var server = cli.Start([.. store, "serve", "--listen", "unix://" + socket]);
        try
        {
            var line = server.StandardError.ReadLineAsync();
            Assert.IsTrue(line.Wait(TimeSpan.FromSeconds(60)), "serve did not start");
            StringAssert.Contains(line.Result, "serving on");
            using var client = CastoreStore.Open("grpc+unix://" + socket, dir.Combine("client-cache"));
            var listed = new List<string>();
            await foreach (var info in client.PathInfos.ListAsync())
            {
                listed.Add("/nix/store/" + info.Node.Directory.Name.ToStringUtf8());
            }

            CollectionAssert.AreEquivalent(paths, listed);
            var nar = cli.Run(["--store", "grpc+unix://" + socket, "nar", paths[0]]);
            Assert.AreEqual(0, nar.Exit, nar.Stderr);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    /// <summary>A tree with a 5 MiB file (streamed from S3 in verified groups), small files and a symlink.</summary>
    private static string MakeTree(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        var large = new byte[(5 * 1024 * 1024) + 4321];
        new Random(11).NextBytes(large);
        File.WriteAllBytes(Path.Combine(root, "large.bin"), large);
        for (int i = 0; i < 40; i++)
        {
            File.WriteAllText(Path.Combine(root, "sub", $"f{i}"), new string((char)('a' + (i % 26)), i * 37));
        }

        File.CreateSymbolicLink(Path.Combine(root, "link"), "sub/f3");
        return root;
    }

    private static string NixHash(string path)
    {
        var (exit, output) = Run("nix-hash", "--type", "sha256", path);
        Assert.AreEqual(0, exit, output);
        return output.Trim();
    }

    private static (int Exit, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }
}
