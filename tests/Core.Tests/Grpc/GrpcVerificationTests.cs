using CastoreFs.Core.Blake3;
using CastoreFs.Core.Grpc;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos;
using CastoreFs.Server;

namespace CastoreFs.Core.Tests.Grpc;

[TestClass]
public sealed class GrpcVerificationTests
{
    [TestMethod]
    public async Task Corrupted_whole_blob_raises_an_error_and_is_not_cached()
    {
        using var dir = new TempDirectory();
        var backing = new MemoryBlobService();
        await backing.PutAsync(Fixtures.BlobB);
        var served = new CastoreStore(new CorruptingBlobService(backing), new MemoryDirectoryService(), new MemoryPathInfoService());
        await using var server = await CastoreServer.StartAsync(served, "unix://" + dir.Combine("s.sock"));
        using var client = CastoreStore.Open(server.Address, dir.Combine("cache"));

        var e = await Assert.ThrowsExactlyAsync<BlobVerificationException>(() => client.Blobs.ReadAllAsync(Fixtures.BlobBDigest));
        Assert.AreEqual(Fixtures.BlobBDigest, e.Expected);
        Assert.IsFalse(Directory.EnumerateFiles(dir.Combine("cache"), "*", SearchOption.AllDirectories).Any(), "nothing may be left in the cache");
    }

    [TestMethod]
    public async Task Corrupted_chunk_raises_an_error_before_any_byte_of_it_is_returned()
    {
        using var dir = new TempDirectory();
        using var embedded = CastoreStore.Open(dir.Combine("store"));
        var data = new byte[3 * 1024 * 1024];
        new Random(1).NextBytes(data);
        var digest = await embedded.Blobs.PutAsync(data);
        Assert.AreEqual(3, (await embedded.Blobs.StatAsync(digest, BlobDetails.Chunks))!.Chunks.Count);
        var served = new CastoreStore(new CorruptingBlobService(embedded.Blobs), embedded.Directories, embedded.PathInfos);
        await using var server = await CastoreServer.StartAsync(served, "unix://" + dir.Combine("s.sock"));
        using var client = CastoreStore.Open(server.Address, dir.Combine("cache"));

        await using var blob = (await client.Blobs.OpenReadAsync(digest))!;
        blob.Seek(2 * 1024 * 1024, SeekOrigin.Begin);
        await Assert.ThrowsExactlyAsync<BlobVerificationException>(() => blob.ReadAsync(new byte[100]).AsTask());
    }

    [TestMethod]
    public async Task Intact_blobs_read_through_both_paths()
    {
        using var dir = new TempDirectory();
        using var embedded = CastoreStore.Open(dir.Combine("store"));
        var big = new byte[3 * 1024 * 1024];
        new Random(2).NextBytes(big);
        await embedded.Blobs.PutAsync(big);
        await embedded.Blobs.PutAsync(Fixtures.BlobB);
        await using var server = await CastoreServer.StartAsync(embedded, "unix://" + dir.Combine("s.sock"));
        using var client = CastoreStore.Open(server.Address, dir.Combine("cache"));

        CollectionAssert.AreEqual(big, await client.Blobs.ReadAllAsync(Blake3Hasher.Hash(big)));
        CollectionAssert.AreEqual(Fixtures.BlobB, await client.Blobs.ReadAllAsync(Fixtures.BlobBDigest));
        Assert.IsTrue(File.Exists(Path.Combine(dir.Combine("cache"), "blobs", Fixtures.BlobBDigest.ToHex())), "a verified whole blob is cached");
    }

    [TestMethod]
    public async Task Directory_that_does_not_hash_to_the_requested_digest_is_an_error()
    {
        using var dir = new TempDirectory();
        var served = new CastoreStore(new MemoryBlobService(), new LyingDirectoryService(new MemoryDirectoryService(), Fixtures.DirectoryWithKeep), new MemoryPathInfoService());
        await using var server = await CastoreServer.StartAsync(served, "unix://" + dir.Combine("s.sock"));
        using var client = CastoreStore.Open(server.Address, dir.Combine("cache"));

        await Assert.ThrowsAsync<Exception>(() => client.Directories.GetAsync(Fixtures.DirectoryComplicated.Digest()));
        await Assert.ThrowsAsync<Exception>(async () =>
        {
            await foreach (var _ in client.Directories.GetRecursiveAsync(Fixtures.DirectoryComplicated.Digest()))
            {
            }
        });
    }

    [TestMethod]
    [DataRow(ProtocolFamily.Tvix, "")]
    [DataRow(ProtocolFamily.Snix, "?proto=tvix")]
    public async Task Client_falls_back_to_the_other_package_name_on_unimplemented(ProtocolFamily served, string query)
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open("memory://");
        await using var server = await CastoreServer.StartAsync(store, "unix://" + dir.Combine("s.sock"), [served]);
        using var client = CastoreStore.Open(server.Address + query, dir.Combine("cache"));

        // A client-streaming call first: the package is settled before any data is sent.
        Assert.AreEqual(Fixtures.HelloWorldDigest, await client.Blobs.PutAsync(Fixtures.HelloWorldBlob));
        CollectionAssert.AreEqual(Fixtures.HelloWorldBlob, await client.Blobs.ReadAllAsync(Fixtures.HelloWorldDigest));
        await using var putter = client.Directories.BeginPut();
        await putter.PutAsync(Fixtures.DirectoryWithKeep);
        Assert.AreEqual(Fixtures.DirectoryWithKeep.Digest(), await putter.CloseAsync());
    }
}
