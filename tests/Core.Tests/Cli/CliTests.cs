using System.Text.Json;
using CastoreFs.Core.Services;
using CastoreFs.Core.Tests.Import;
using CastoreFs.Server;

namespace CastoreFs.Core.Tests.Cli;

[TestClass]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CliTests
{
    [TestMethod]
    public void Import_without_flags_uses_the_embedded_store_in_xdg_data_home()
    {
        using var dir = new TempDirectory();
        NixCompatibilityTests.MakeTree(dir.Combine("tree"));
        var cli = new CliRunner(dir.Combine("data"));

        var (exit, stdout, stderr) = cli.Run("import", dir.Combine("tree"), dir.Combine("tree", "run.sh"));
        Assert.AreEqual(0, exit, stderr);
        var paths = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(2, paths.Length);
        StringAssert.Matches(paths[0], new System.Text.RegularExpressions.Regex("^/nix/store/[0-9a-z]{32}-tree$"));
        Assert.IsTrue(File.Exists(dir.Combine("data", "castorefs", "store.sqlite")));

        var listing = cli.Run("ls");
        Assert.AreEqual(0, listing.Exit, listing.Stderr);
        CollectionAssert.AreEquivalent(paths, listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var inside = cli.Run("ls", paths[0]);
        StringAssert.Contains(inside.Stdout, "-r-xr-xr-x");
        StringAssert.Contains(inside.Stdout, "absolute-link -> /nix/store/somewhereelse");
        Assert.AreEqual("#!/bin/sh\necho hi\n", cli.Run("cat", paths[0] + "/run.sh").Stdout);
        Assert.AreEqual("deep\n", cli.Run("cat", paths[0] + "/sub/deeper/file").Stdout);
    }

    [TestMethod]
    public void Import_json_prints_one_object_per_path()
    {
        using var dir = new TempDirectory();
        var cli = new CliRunner(dir.Combine("data"));
        File.WriteAllText(dir.Combine("flat.txt"), "hello nix\n");
        File.CreateSymbolicLink(dir.Combine("link"), "flat.txt");

        var (exit, stdout, stderr) = cli.Run("import", "--json", dir.Combine("flat.txt"), dir.Combine("link"));
        Assert.AreEqual(0, exit, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(2, lines.Length);
        using var file = JsonDocument.Parse(lines[0]);
        Assert.AreEqual("/nix/store/2dy16ikff6ighsq0n44vk3a6vf1j3qrw-flat.txt", file.RootElement.GetProperty("storePath").GetString());
        Assert.AreEqual(128, file.RootElement.GetProperty("narSize").GetInt64());
        Assert.AreEqual(64, file.RootElement.GetProperty("narSha256").GetString()!.Length);
        var node = file.RootElement.GetProperty("node");
        Assert.AreEqual("file", node.GetProperty("type").GetString());
        Assert.AreEqual(10, node.GetProperty("size").GetInt64());
        Assert.IsFalse(node.GetProperty("executable").GetBoolean());
        Assert.AreEqual(64, node.GetProperty("digest").GetString()!.Length);
        using var link = JsonDocument.Parse(lines[1]);
        Assert.AreEqual("symlink", link.RootElement.GetProperty("node").GetProperty("type").GetString());
        Assert.AreEqual("flat.txt", link.RootElement.GetProperty("node").GetProperty("target").GetString());
    }

    [TestMethod]
    public void Nar_export_piped_into_nar_import_gives_the_same_store_path()
    {
        using var dir = new TempDirectory();
        NixCompatibilityTests.MakeTree(dir.Combine("tree"));
        var cli = new CliRunner(dir.Combine("data"));
        var path = cli.Run("import", dir.Combine("tree")).Stdout.Trim();

        var nar = cli.RunBytes(null, "nar", path);
        Assert.AreEqual(0, nar.Exit, nar.Stderr);
        var other = new CliRunner(dir.Combine("other"));
        var imported = other.Run(nar.Stdout, "import", "--nar", "-", "--name", "tree");
        Assert.AreEqual(0, imported.Exit, imported.Stderr);
        Assert.AreEqual(path, imported.Stdout.Trim());
        CollectionAssert.AreEqual(nar.Stdout, other.RunBytes(null, "nar", path).Stdout);
    }

    [TestMethod]
    public void Bad_input_exits_1_with_the_path_on_stderr_and_registers_nothing()
    {
        using var dir = new TempDirectory();
        var cli = new CliRunner(dir.Combine("data"));
        var missing = cli.Run("import", dir.Combine("missing"));
        Assert.AreEqual(1, missing.Exit);
        StringAssert.Contains(missing.Stderr, dir.Combine("missing"));

        File.WriteAllBytes(dir.Combine("cut.nar"), [13, 0, 0, 0, 0, 0, 0, 0, (byte)'n', (byte)'i']);
        var truncated = cli.Run("import", "--nar", dir.Combine("cut.nar"), "--name", "x");
        Assert.AreEqual(1, truncated.Exit);
        StringAssert.Contains(truncated.Stderr, "truncated");
        Assert.AreEqual(string.Empty, cli.Run("ls").Stdout);

        var notInStore = cli.Run("cat", "/nix/store/00000000000000000000000000000000-nothing/x");
        Assert.AreEqual(1, notInStore.Exit);
        StringAssert.Contains(notInStore.Stderr, "not in the store");
    }

    [TestMethod]
    public async Task Import_over_grpc_unix_lands_in_a_served_embedded_store()
    {
        using var dir = new TempDirectory();
        NixCompatibilityTests.MakeTree(dir.Combine("tree"));
        using (var served = CastoreStore.Open(dir.Combine("served")))
        {
            await using var server = await CastoreServer.StartAsync(served, "unix://" + dir.Combine("s.sock"));
            var cli = new CliRunner(dir.Combine("data"));
            var (exit, stdout, stderr) = cli.Run("import", "--store", server.Address, dir.Combine("tree"));
            Assert.AreEqual(0, exit, stderr);
            var path = stdout.Trim();

            var local = CastoreFs.Core.Nix.StorePath.ParseAbsoluteOrBaseName(path);
            Assert.IsNotNull(await served.PathInfos.GetAsync(local.Digest.ToArray()));
            Assert.AreEqual("utf-8\n", cli.Run("cat", "--store", server.Address, path + "/ünïcödé-名前").Stdout);
            Assert.IsFalse(Directory.Exists(dir.Combine("data", "castorefs")), "nothing may go to the default store");
        }

        var direct = new CliRunner(dir.Combine("data")).Run("ls", "--store", dir.Combine("served"));
        StringAssert.EndsWith(direct.Stdout.Trim(), "-tree");
    }

    [TestMethod]
    public void Serve_answers_clients_and_stops_on_sigterm()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("flat.txt"), "hello nix\n");
        var cli = new CliRunner(dir.Combine("data"));
        using var server = cli.Start("serve", "--listen", "unix://" + dir.Combine("s.sock"), "--store", dir.Combine("served"));
        try
        {
            var line = server.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
            StringAssert.Contains(line, "serving on grpc+unix://");
            var url = "grpc+unix://" + dir.Combine("s.sock");
            var imported = cli.Run("import", "--store", url, dir.Combine("flat.txt"));
            Assert.AreEqual("/nix/store/2dy16ikff6ighsq0n44vk3a6vf1j3qrw-flat.txt", imported.Stdout.Trim(), imported.Stderr);
            Assert.AreEqual("hello nix\n", cli.Run("cat", "--store", url + "?proto=tvix", imported.Stdout.Trim()).Stdout);
        }
        finally
        {
            Tools.RunBytes("kill", new Dictionary<string, string?>(), "-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.IsTrue(server.WaitForExit(30_000), "serve did not stop on SIGTERM");
        Assert.AreEqual(0, server.ExitCode);
    }
}
