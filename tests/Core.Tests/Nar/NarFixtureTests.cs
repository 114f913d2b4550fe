using System.Security.Cryptography;
using CastoreFs.Core.Import;
using CastoreFs.Core.Model;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using Snix.Castore.V1;

namespace CastoreFs.Core.Tests.Nar;

[TestClass]
public sealed class NarFixtureTests
{
    public static IEnumerable<object[]> Cases() =>
    [
        ["symlink", 136, "097d397e9b5826384eaa16c457715d1c1a51670313ead0f58566e0b232539cf1"],
        ["helloworld", 128, "03e7f63be30b065d78bcf615f5473545fdb4eb69aa416f43495b4e05cdfb8040"],
        ["complicated", 840, "ebd52279a8df024c9fd5718de4103bf5e760dc7f2cf49044ee7dea87ab16911a"],
    ];

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public async Task Fixture_renders_to_the_known_nar(string fixture, int length, string sha256)
    {
        using var store = await StoreWithFixturesAsync();
        var nar = await RenderAsync(store, Root(fixture));
        Assert.AreEqual(length, nar.Length);
        Assert.AreEqual(sha256, Convert.ToHexStringLower(SHA256.HashData(nar)));
        var (size, hash) = await new NarRenderer(store.Blobs, store.Directories).CalculateAsync(Root(fixture));
        Assert.AreEqual((ulong)length, size);
        Assert.AreEqual(sha256, Convert.ToHexStringLower(hash));
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public async Task Fixture_nar_imports_back_to_the_same_node(string fixture, int length, string sha256)
    {
        using var source = await StoreWithFixturesAsync();
        var nar = await RenderAsync(source, Root(fixture));
        using var target = CastoreStore.Open("memory://");
        var result = await new NarImporter(target).ImportAsync(new MemoryStream(nar), "fixture", "test");
        Assert.AreEqual((ulong)length, result.NarSize);
        Assert.AreEqual(sha256, Convert.ToHexStringLower(result.NarSha256));
        Assert.AreEqual(Root(fixture), NodeRules.WithName(result.Root, Google.Protobuf.ByteString.Empty));
        CollectionAssert.AreEqual(nar, await RenderAsync(target, result.Root));
    }

    internal static Node Root(string fixture) => fixture switch
    {
        "symlink" => new Node { Symlink = new SymlinkNode { Target = Fixtures.Bytes("/nix/store/somewhereelse") } },
        "helloworld" => new Node { File = new FileNode { Digest = Fixtures.HelloWorldDigest.ToByteString(), Size = 12 } },
        _ => new Node { Directory = new DirectoryNode { Digest = Fixtures.DirectoryComplicated.Digest().ToByteString(), Size = Fixtures.DirectoryComplicated.Size() } },
    };

    internal static async Task<CastoreStore> StoreWithFixturesAsync()
    {
        var store = CastoreStore.Open("memory://");
        await store.Blobs.PutAsync(Fixtures.HelloWorldBlob);
        await store.Blobs.PutAsync(Array.Empty<byte>());
        await using var putter = store.Directories.BeginPut();
        await putter.PutAsync(Fixtures.DirectoryWithKeep);
        await putter.PutAsync(Fixtures.DirectoryComplicated);
        await putter.CloseAsync();
        return store;
    }

    internal static async Task<byte[]> RenderAsync(CastoreStore store, Node node)
    {
        using var output = new MemoryStream();
        await new NarRenderer(store.Blobs, store.Directories).RenderAsync(node, output);
        return output.ToArray();
    }
}
