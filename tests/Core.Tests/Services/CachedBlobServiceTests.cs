using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;

namespace CastoreFs.Core.Tests.Services;

/// <summary>A bounded cache in front of a blob service (the memory store stands in for a remote one here; S3 in the engine tests).</summary>
[TestClass]
public sealed class CachedBlobServiceTests
{
    private const long Bound = 4L * 1024 * 1024;

    [TestMethod]
    public async Task Reading_more_than_the_cache_holds_keeps_it_within_its_bound_and_every_byte_right()
    {
        using var dir = new TempDirectory();
        var remote = new MemoryBlobService();
        var blobs = await PutAsync(remote, count: 20, size: 700_000);
        var cache = Open(remote, dir);
        for (int round = 0; round < 2; round++)
        {
            foreach (var (digest, data) in blobs)
            {
                CollectionAssert.AreEqual(data, await cache.ReadAllAsync(digest));
                Assert.IsTrue(cache.CachedBytes <= Bound, $"{cache.CachedBytes} bytes cached, over the bound of {Bound}");
            }
        }

        Assert.IsTrue(cache.CachedBytes > Bound - 700_000, "the cache fills up to its bound");
        var files = Directory.EnumerateFiles(Path.Combine(dir.Path, "blobs"), "*", SearchOption.AllDirectories).ToList();
        Assert.AreEqual(cache.CachedBytes, files.Sum(f => new FileInfo(f).Length), "evicted blobs leave no file behind");
    }

    [TestMethod]
    public async Task A_blob_read_once_is_a_local_file_and_the_recently_used_outlive_the_rest()
    {
        using var dir = new TempDirectory();
        var remote = new MemoryBlobService();
        var blobs = await PutAsync(remote, count: 8, size: 900_000);
        var cache = Open(remote, dir);
        Assert.IsNull(cache.TryOpenFile(blobs[0].Digest), "not cached before it is read");
        await cache.ReadAllAsync(blobs[0].Digest);
        using (var file = cache.TryOpenFile(blobs[0].Digest))
        {
            Assert.IsNotNull(file, "a local file once read: passthrough can hand it to the kernel");
        }

        // Four fit; reading the first again each time keeps it the most recently used.
        foreach (var (digest, _) in blobs.Skip(1))
        {
            await Task.Delay(15);
            await cache.ReadAllAsync(digest);
            Touch(cache, blobs[0].Digest);
        }

        Assert.IsNotNull(cache.TryOpenFile(blobs[0].Digest), "the blob used all along is kept");
        Assert.IsNull(cache.TryOpenFile(blobs[1].Digest), "the least recently used went first");
    }

    [TestMethod]
    public async Task A_blob_over_a_quarter_of_the_bound_is_read_from_the_remote_and_not_kept()
    {
        using var dir = new TempDirectory();
        var remote = new MemoryBlobService();
        var (digest, data) = (await PutAsync(remote, count: 1, size: (int)(Bound / 4) + 1))[0];
        var cache = Open(remote, dir);
        CollectionAssert.AreEqual(data, await cache.ReadAllAsync(digest));
        Assert.AreEqual(0, cache.CachedBytes);
        Assert.IsNull(cache.TryOpenFile(digest));
    }

    [TestMethod]
    public async Task A_cache_opened_again_knows_what_it_holds()
    {
        using var dir = new TempDirectory();
        var remote = new MemoryBlobService();
        var blobs = await PutAsync(remote, count: 3, size: 100_000);
        var first = Open(remote, dir);
        foreach (var (digest, _) in blobs)
        {
            await first.ReadAllAsync(digest);
        }

        var again = Open(new MemoryBlobService(), dir);
        Assert.AreEqual(300_000, again.CachedBytes);
        CollectionAssert.AreEqual(blobs[2].Data, await again.ReadAllAsync(blobs[2].Digest), "served from the cache: this remote is empty");
    }

    [TestMethod]
    public async Task A_blob_the_remote_lacks_is_null_and_writes_go_to_the_remote()
    {
        using var dir = new TempDirectory();
        var remote = new MemoryBlobService();
        var cache = Open(remote, dir);
        Assert.IsNull(await cache.OpenReadAsync(Fixtures.BlobADigest));
        Assert.AreEqual(Fixtures.BlobADigest, await cache.PutAsync(Fixtures.BlobA));
        CollectionAssert.AreEqual(Fixtures.BlobA, await remote.ReadAllAsync(Fixtures.BlobADigest));
        Assert.AreEqual(0, cache.CachedBytes, "a write does not fill the cache");
    }

    private static CachedBlobService Open(IBlobService remote, TempDirectory dir) =>
        new(remote, new EmbeddedBlobService(EmbeddedDatabase.Open(dir.Path)), Bound);

    /// <summary>An open of the blob's file, as a read through the mount makes.</summary>
    private static void Touch(CachedBlobService cache, B3Digest digest)
    {
        using var file = cache.TryOpenFile(digest);
    }

    private static async Task<List<(B3Digest Digest, byte[] Data)>> PutAsync(IBlobService blobs, int count, int size)
    {
        var result = new List<(B3Digest, byte[])>();
        for (int i = 0; i < count; i++)
        {
            var data = new byte[size];
            new Random(i).NextBytes(data);
            Assert.AreEqual(Blake3Hasher.Hash(data), await blobs.PutAsync(data));
            result.Add((Blake3Hasher.Hash(data), data));
        }

        return result;
    }
}
