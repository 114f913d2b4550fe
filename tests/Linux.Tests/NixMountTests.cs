using CastoreFs.Core.Services;
using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;

namespace CastoreFs.Linux.Tests;

/// <summary>Real Nix as the oracle: what Nix stores and what the mount shows are the same tree.</summary>
[TestClass]
public sealed class NixMountTests
{
    [TestMethod]
    public void A_path_imported_directly_mounts_as_nix_stores_it() => CompareWithNix(viaNar: false);

    [TestMethod]
    public void A_path_imported_from_its_nar_mounts_as_nix_stores_it() => CompareWithNix(viaNar: true);

    private static void CompareWithNix(bool viaNar)
    {
        TestMount.RequireFuse();
        using var dir = new TempDirectory();
        var nixRoot = dir.Combine("nix-root");
        var nix = NixOracle.InOrInconclusive(nixRoot);
        var tree = MakeTree(dir.Combine("hello-tree"));
        var storePath = nix.Add(tree);
        var baseName = Path.GetFileName(storePath);

        var storeDir = dir.Combine("store");
        var cli = new CliRunner(dir.Combine("home"));
        if (viaNar)
        {
            var nar = dir.Combine("tree.nar");
            File.WriteAllBytes(nar, nix.Dump(storePath));
            var (exit, stdout, stderr) = cli.Run("--store", storeDir, "import", "--nar", nar, "--name", "hello-tree");
            Assert.AreEqual(0, exit, stderr);
            Assert.AreEqual(storePath, stdout.Trim());
        }
        else
        {
            var (exit, stdout, stderr) = cli.Run("--store", storeDir, "import", tree);
            Assert.AreEqual(0, exit, stderr);
            Assert.AreEqual(storePath, stdout.Trim());
        }

        using var store = CastoreStore.Open(storeDir);
        using var mount = TestMount.Start(store, passthrough: true);
        var nixCopy = nixRoot + storePath;
        var diff = System.Text.Encoding.UTF8.GetString(Tools.RunBytes("diff", new Dictionary<string, string?>(), "-r", "--no-dereference", nixCopy, mount[baseName]));
        Assert.AreEqual(string.Empty, diff);
        Assert.AreEqual(nix.QueryHash(storePath), NixOracle.HashPath(mount[baseName]));
    }

    /// <summary>Files, an executable, an empty file, a large file, symlinks (relative, absolute, dangling) and nested directories.</summary>
    private static string MakeTree(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        Directory.CreateDirectory(Path.Combine(root, "share", "doc", "empty-dir"));
        File.WriteAllText(Path.Combine(root, "README"), "hello from a castore mount\n");
        File.WriteAllText(Path.Combine(root, "bin", "hello"), "#!/bin/sh\necho hello\n");
        File.SetUnixFileMode(Path.Combine(root, "bin", "hello"), (UnixFileMode)0x1ED);
        File.WriteAllBytes(Path.Combine(root, "share", "empty"), []);
        var large = new byte[(3 << 20) + 17];
        new Random(4).NextBytes(large);
        File.WriteAllBytes(Path.Combine(root, "share", "doc", "large.bin"), large);
        File.CreateSymbolicLink(Path.Combine(root, "share", "readme-link"), "../README");
        File.CreateSymbolicLink(Path.Combine(root, "share", "absolute"), "/nix/store/somewhereelse");
        File.CreateSymbolicLink(Path.Combine(root, "bin", "dangling"), "nothing-here");
        return root;
    }
}
