using System.Buffers.Binary;
using System.Text;
using CastoreFs.Core.Grpc;
using CastoreFs.Core.Import;
using CastoreFs.Core.Model;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Tests.Cli;
using CastoreFs.Server;
using Google.Protobuf;
using Snix.Castore.V1;
using Snix.Store.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Tests.Nar;

/// <summary>
/// Trees far deeper than a call stack: every walk (NAR import and export, closure checks, recursive gets,
/// CalculateNAR, castorefs nar, path import) keeps its own stack, or stops at the kernel's path limit
/// with an error.
/// </summary>
[TestClass]
public sealed class DeepTreeTests
{
    [TestMethod]
    [DataRow(10_000)]
    [DataRow(100_000)]
    public async Task A_nar_nested_this_deep_imports_and_renders_back_byte_for_byte(int depth)
    {
        var nar = ChainNar(depth);
        using var store = CastoreStore.Open("memory://");
        var imported = await new NarImporter(store).ImportAsync(new MemoryStream(nar), "deep", "test");
        Assert.AreEqual((ulong)nar.Length, imported.NarSize);

        using var rendered = new MemoryStream();
        await new NarRenderer(store.Blobs, store.Directories).RenderAsync(imported.Root, rendered);
        Assert.IsTrue(nar.AsSpan().SequenceEqual(rendered.ToArray()), "the NAR renders back as it came");
    }

    [TestMethod]
    public async Task A_chain_of_ten_thousand_directories_passes_the_server_and_the_cli()
    {
        const int depth = 10_000;
        using var dir = new TempDirectory();
        using var served = CastoreStore.Open(dir.Combine("store"));
        await using var server = await CastoreServer.StartAsync(served, "unix://" + dir.Combine("s.sock"));
        using var client = CastoreStore.Open(server.Address, dir.Combine("cache"));

        var chain = Chain(depth);
        await client.Blobs.PutAsync(Array.Empty<byte>());
        await using (var putter = client.Directories.BeginPut())
        {
            foreach (var directory in chain)
            {
                await putter.PutAsync(directory);
            }

            Assert.AreEqual(chain[^1].Digest(), await putter.CloseAsync(), "closure checked on both sides");
        }

        int received = 0;
        await foreach (var _ in client.Directories.GetRecursiveAsync(chain[^1].Digest()))
        {
            received++;
        }

        Assert.AreEqual(depth, received);

        using var connection = GrpcConnection.Open(server.Address);
        var root = new Node { Directory = chain[^1].ToNode(ByteString.CopyFromUtf8("x")) };
        var calculated = await connection.Invoker.AsyncUnaryCall(connection.Methods.PathInfoCalculateNar, null, connection.Unary(default), root).ResponseAsync;
        var nar = ChainNar(depth);
        Assert.AreEqual((ulong)nar.Length, calculated.NarSize);
        CollectionAssert.AreEqual(System.Security.Cryptography.SHA256.HashData(nar), calculated.NarSha256.ToByteArray());

        const string name = "00000000000000000000000000000000-deep";
        await client.PathInfos.PutAsync(new PathInfo { Node = NodeRules.WithName(root, ByteString.CopyFromUtf8(name)) });
        var (exit, stdout, stderr) = new CliRunner(dir.Combine("home")).RunBytes(null, "--store", server.Address, "nar", "/nix/store/" + name);
        Assert.AreEqual(0, exit, stderr);
        Assert.IsTrue(nar.AsSpan().SequenceEqual(stdout), "castorefs nar writes the deep NAR");
    }

    [TestMethod]
    public async Task A_tree_as_deep_as_paths_may_go_imports_as_nix_store_add_does()
    {
        using var dir = new TempDirectory();
        var nix = NixOracle.InOrInconclusive(dir.Combine("nix"));
        var tree = dir.Combine("deep");
        var path = tree;
        for (int i = 0; i < 1_500; i++)
        {
            path = Path.Combine(path, "d");
        }

        System.IO.Directory.CreateDirectory(path);
        await File.WriteAllTextAsync(Path.Combine(path, "leaf"), "at the bottom\n");

        using var store = CastoreStore.Open(dir.Combine("store"));
        var imported = await new PathImporter(store).ImportAsync(tree);
        Assert.AreEqual(nix.Add(tree), imported.StorePath.AbsolutePath, "the store path Nix gives");
    }

    [TestMethod]
    public async Task A_tree_deeper_than_paths_may_go_is_an_error_that_names_the_path()
    {
        using var dir = new TempDirectory();
        var tree = dir.Combine("toodeep");
        System.IO.Directory.CreateDirectory(tree);
        try
        {
            // 2,100 levels of "aa/" is more than PATH_MAX (4096): only relative steps can make it.
            Tools.RunBytes("python3", new Dictionary<string, string?>(), "-c", "import os, sys\nos.chdir(sys.argv[1])\nfor _ in range(2100):\n    os.mkdir('aa')\n    os.chdir('aa')", tree);
            using var store = CastoreStore.Open(dir.Combine("store"));
            var e = await Assert.ThrowsAsync<IOException>(() => new PathImporter(store).ImportAsync(tree));
            StringAssert.Contains(e.Message, "/aa/aa/aa");
            await foreach (var _ in store.PathInfos.ListAsync())
            {
                Assert.Fail("nothing is registered");
            }
        }
        finally
        {
            Tools.RunBytes("rm", new Dictionary<string, string?>(), "-rf", tree);
        }
    }

    /// <summary>Directories d/d/d/…/f, leaves first: each holds the next, the innermost an empty file.</summary>
    private static List<Directory> Chain(int depth)
    {
        var chain = new List<Directory>(depth);
        var inner = new Directory();
        inner.Files.Add(new FileNode { Name = ByteString.CopyFromUtf8("f"), Digest = Fixtures.EmptyBlobDigest.ToByteString() });
        chain.Add(inner);
        for (int i = 1; i < depth; i++)
        {
            var outer = new Directory();
            outer.Directories.Add(chain[^1].ToNode(ByteString.CopyFromUtf8("d")));
            chain.Add(outer);
        }

        return chain;
    }

    /// <summary>The NAR of <see cref="Chain"/>: <paramref name="depth"/> directories, then the empty file.</summary>
    private static byte[] ChainNar(int depth)
    {
        using var nar = new MemoryStream();
        void Str(string s) => Bytes(Encoding.ASCII.GetBytes(s));
        void Bytes(byte[] b)
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)b.Length);
            nar.Write(length);
            nar.Write(b);
            nar.Write(new byte[(8 - (b.Length % 8)) % 8]);
        }

        Str(NarTokens.Magic);
        for (int i = 0; i < depth; i++)
        {
            Str("("); Str("type"); Str("directory"); Str("entry"); Str("("); Str("name"); Str(i < depth - 1 ? "d" : "f"); Str("node");
        }

        Str("("); Str("type"); Str("regular"); Str("contents"); Bytes([]); Str(")");
        for (int i = 0; i < depth; i++)
        {
            Str(")"); Str(")");
        }

        return nar.ToArray();
    }
}
