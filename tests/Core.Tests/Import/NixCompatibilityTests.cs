using System.Text;
using CastoreFs.Core.Import;
using CastoreFs.Core.Model;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Services;

namespace CastoreFs.Core.Tests.Import;

/// <summary>Our import and export agree with real Nix byte for byte.</summary>
[TestClass]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NixCompatibilityTests
{
    [TestMethod]
    [DataRow("tree")]
    [DataRow("tree/big.bin")]
    [DataRow("tree/empty")]
    [DataRow("tree/emptydir")]
    public async Task Store_path_nar_and_nar_import_agree_with_nix(string relative)
    {
        using var dir = new TempDirectory();
        var nix = NixOracle.InOrInconclusive(dir.Combine("nixroot"));
        MakeTree(dir.Combine("tree"));
        var input = dir.Combine(relative);
        using var store = CastoreStore.Open(dir.Combine("store"));

        var ours = await new PathImporter(store).ImportAsync(input);
        var nixPath = nix.Add(input);
        Assert.AreEqual(nixPath, ours.StorePath.AbsolutePath);

        var nixNar = nix.Dump(nixPath);
        using var rendered = new MemoryStream();
        await new NarRenderer(store.Blobs, store.Directories).RenderAsync(ours.Root, rendered);
        CollectionAssert.AreEqual(nixNar, rendered.ToArray(), "our NAR differs from nix-store --dump");
        Assert.AreEqual((ulong)nixNar.Length, ours.NarSize);

        using var fromNar = CastoreStore.Open("memory://");
        var imported = await new NarImporter(fromNar).ImportAsync(new MemoryStream(nixNar), Path.GetFileName(input), "nix-store --dump");
        Assert.AreEqual(ours.PathInfo, imported.PathInfo);
        Assert.AreEqual(ours.PathInfo, await store.PathInfos.GetAsync(ours.StorePath.Digest.ToArray()));
    }

    [TestMethod]
    public async Task Tree_keeps_executable_bits_symlinks_and_utf8_names()
    {
        using var dir = new TempDirectory();
        MakeTree(dir.Combine("tree"));
        using var store = CastoreStore.Open("memory://");
        var result = await new PathImporter(store).ImportAsync(dir.Combine("tree"));
        var root = (await store.Directories.GetAsync(Core.Digests.B3Digest.FromProto(result.Root.Directory.Digest)))!;
        Assert.IsTrue(root.Find("run.sh"u8)!.File.Executable);
        Assert.IsFalse(root.Find("name with spaces"u8)!.File.Executable);
        Assert.AreEqual("../outside", root.Find("relative-link"u8)!.Symlink.Target.ToStringUtf8());
        Assert.AreEqual("/nix/store/somewhereelse", root.Find("absolute-link"u8)!.Symlink.Target.ToStringUtf8());
        Assert.IsNotNull(root.Find(Encoding.UTF8.GetBytes("ünïcödé-名前")));
        Assert.AreEqual(5UL * 1024 * 1024, root.Find("big.bin"u8)!.File.Size);
    }

    /// <summary>An empty file, an empty directory, an executable, relative and absolute symlinks, odd names, 5 MiB of random bytes.</summary>
    internal static void MakeTree(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "emptydir"));
        Directory.CreateDirectory(Path.Combine(root, "sub", "deeper"));
        File.WriteAllBytes(Path.Combine(root, "empty"), []);
        File.WriteAllText(Path.Combine(root, "run.sh"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(Path.Combine(root, "run.sh"), (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(root, "name with spaces"), "spaces\n");
        File.WriteAllText(Path.Combine(root, "ünïcödé-名前"), "utf-8\n");
        File.WriteAllText(Path.Combine(root, "sub", "deeper", "file"), "deep\n");
        File.CreateSymbolicLink(Path.Combine(root, "relative-link"), "../outside");
        File.CreateSymbolicLink(Path.Combine(root, "absolute-link"), "/nix/store/somewhereelse");
        var big = new byte[5 * 1024 * 1024];
        new Random(42).NextBytes(big);
        File.WriteAllBytes(Path.Combine(root, "big.bin"), big);
    }
}
