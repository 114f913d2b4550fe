using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using Snix.Castore.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Tests.Services;

/// <summary>What every backend of the three services must do; each backend runs it through a subclass.</summary>
public abstract class StoreContractTests : IDisposable
{
    private CastoreStore? _store;

    protected TempDirectory Temp { get; } = new();

    protected CastoreStore Store => _store ?? throw new InvalidOperationException("store not open");

    /// <summary>Whether blobs over 1 MiB report a chunk list (the embedded store does; memory does not).</summary>
    protected abstract bool ChunksLargeBlobs { get; }

    [TestInitialize]
    public async Task OpenStore() => _store = await OpenAsync();

    [TestCleanup]
    public async Task CloseStore()
    {
        _store?.Dispose();
        await CloseAsync();
    }

    [TestMethod]
    public async Task Blob_round_trips_and_unknown_blobs_are_null()
    {
        Assert.AreEqual(Fixtures.HelloWorldDigest, await Store.Blobs.PutAsync(Fixtures.HelloWorldBlob));
        CollectionAssert.AreEqual(Fixtures.HelloWorldBlob, await Store.Blobs.ReadAllAsync(Fixtures.HelloWorldDigest));
        Assert.AreEqual(0, (await Store.Blobs.StatAsync(Fixtures.HelloWorldDigest, BlobDetails.Chunks))!.Chunks.Count);
        Assert.IsNull(await Store.Blobs.StatAsync(Fixtures.BlobADigest));
        Assert.IsNull(await Store.Blobs.OpenReadAsync(Fixtures.BlobADigest));
    }

    [TestMethod]
    public async Task Blobs_of_a_committed_group_are_known_and_read_back()
    {
        await using (var group = Store.Blobs.OpenGroup())
        {
            await group.AddAsync(Fixtures.BlobADigest, Fixtures.BlobA);
            await group.AddAsync(Fixtures.BlobBDigest, Fixtures.BlobB);
            await group.AddAsync(Fixtures.EmptyBlobDigest, Array.Empty<byte>());
            await group.CommitAsync();
        }

        CollectionAssert.AreEqual(Fixtures.BlobA, await Store.Blobs.ReadAllAsync(Fixtures.BlobADigest));
        CollectionAssert.AreEqual(Fixtures.BlobB, await Store.Blobs.ReadAllAsync(Fixtures.BlobBDigest));
        Assert.IsNotNull(await Store.Blobs.StatAsync(Fixtures.EmptyBlobDigest));
    }

    [TestMethod]
    public async Task Empty_blob_round_trips()
    {
        Assert.AreEqual(Fixtures.EmptyBlobDigest, await Store.Blobs.PutAsync(Array.Empty<byte>()));
        Assert.AreEqual(0, (await Store.Blobs.ReadAllAsync(Fixtures.EmptyBlobDigest))!.Length);
    }

    [TestMethod]
    public async Task Large_blob_reads_back_at_random_offsets_after_seeks()
    {
        var data = new byte[(5 * 1024 * 1024) / 2 + 77];
        new Random(3).NextBytes(data);
        await using (var writer = Store.Blobs.OpenWrite())
        {
            for (int at = 0; at < data.Length; at += 300_000)
            {
                await writer.WriteAsync(data.AsMemory(at, Math.Min(300_000, data.Length - at)));
            }

            Assert.AreEqual(Blake3Hasher.Hash(data), await writer.CommitAsync());
        }

        await using var blob = (await Store.Blobs.OpenReadAsync(Blake3Hasher.Hash(data)))!;
        Assert.IsTrue(blob.CanSeek);
        Assert.AreEqual(data.Length, blob.Length);
        var random = new Random(4);
        var buffer = new byte[70_000];
        for (int i = 0; i < 40; i++)
        {
            long offset = random.NextInt64(data.Length);
            blob.Seek(offset, SeekOrigin.Begin);
            int n = await blob.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false);
            Assert.AreEqual((int)Math.Min(buffer.Length, data.Length - offset), n);
            CollectionAssert.AreEqual(data.AsSpan((int)offset, n).ToArray(), buffer.AsSpan(0, n).ToArray(), $"offset {offset}");
        }
    }

    [TestMethod]
    public async Task Large_blob_stat_lists_chunks_that_cover_it_and_read_by_their_digests()
    {
        var data = new byte[(5 * 1024 * 1024) / 2];
        new Random(9).NextBytes(data);
        var digest = await Store.Blobs.PutAsync(data);
        var chunks = (await Store.Blobs.StatAsync(digest, BlobDetails.Chunks))!.Chunks;
        if (!ChunksLargeBlobs)
        {
            Assert.AreEqual(0, chunks.Count);
            return;
        }

        Assert.AreEqual(3, chunks.Count);
        Assert.AreEqual((ulong)data.Length, chunks.Aggregate(0UL, (sum, c) => sum + c.Size));
        int offset = 0;
        foreach (var chunk in chunks)
        {
            var slice = data.AsSpan(offset, (int)chunk.Size).ToArray();
            Assert.AreEqual(Blake3Hasher.Hash(slice), chunk.Digest);
            CollectionAssert.AreEqual(slice, await Store.Blobs.ReadAllAsync(chunk.Digest));
            offset += (int)chunk.Size;
        }
    }

    [TestMethod]
    public async Task Closure_put_leaves_first_is_readable_one_by_one_and_breadth_first()
    {
        var root = await PutClosureAsync(Fixtures.DirectoryWithKeep, Fixtures.DirectoryComplicated);
        Assert.AreEqual(Fixtures.DirectoryComplicated.Digest(), root);
        Assert.AreEqual(Fixtures.DirectoryWithKeep, await Store.Directories.GetAsync(Fixtures.DirectoryWithKeep.Digest()));
        var all = await ToListAsync(Store.Directories.GetRecursiveAsync(root));
        CollectionAssert.AreEqual(new[] { Fixtures.DirectoryComplicated, Fixtures.DirectoryWithKeep }, all);
    }

    [TestMethod]
    public async Task Shared_subdirectories_are_sent_and_returned_once()
    {
        await PutClosureAsync(Fixtures.DirectoryA, Fixtures.DirectoryB, Fixtures.DirectoryA, Fixtures.DirectoryD);
        var all = await ToListAsync(Store.Directories.GetRecursiveAsync(Fixtures.DirectoryD.Digest()));
        CollectionAssert.AreEqual(new[] { Fixtures.DirectoryD, Fixtures.DirectoryA, Fixtures.DirectoryB }, all);
    }

    [TestMethod]
    public async Task Unknown_directory_is_null_and_its_recursive_listing_empty()
    {
        Assert.IsNull(await Store.Directories.GetAsync(Fixtures.DirectoryComplicated.Digest()));
        Assert.AreEqual(0, (await ToListAsync(Store.Directories.GetRecursiveAsync(Fixtures.DirectoryComplicated.Digest()))).Count);
    }

    [TestMethod]
    public async Task Closure_with_a_child_not_sent_first_is_rejected_and_nothing_is_stored()
    {
        await AssertPutRejectedAsync("not sent before", Fixtures.DirectoryComplicated);
        Assert.IsNull(await Store.Directories.GetAsync(Fixtures.DirectoryComplicated.Digest()));
    }

    [TestMethod]
    public async Task Closure_with_a_wrong_child_size_is_rejected()
    {
        var wrong = Fixtures.DirectoryComplicated;
        wrong.Directories[0].Size = 7;
        await AssertPutRejectedAsync("size", Fixtures.DirectoryWithKeep, wrong);
        Assert.IsNull(await Store.Directories.GetAsync(Fixtures.DirectoryWithKeep.Digest()));
    }

    [TestMethod]
    public async Task Closure_with_two_roots_is_rejected()
    {
        await AssertPutRejectedAsync("not connected", Fixtures.DirectoryA, Fixtures.DirectoryWithKeep);
        Assert.IsNull(await Store.Directories.GetAsync(Fixtures.DirectoryWithKeep.Digest()));
    }

    [TestMethod]
    public async Task Empty_closure_is_rejected() => await AssertPutRejectedAsync("no directories");

    [TestMethod]
    public async Task Invalid_directory_is_rejected()
    {
        var invalid = new Directory { Files = { new FileNode { Name = Fixtures.Bytes(".."), Digest = Fixtures.EmptyBlobDigest.ToByteString() } } };
        await AssertPutRejectedAsync("invalid name", invalid);
    }

    [TestMethod]
    public async Task Path_infos_put_get_and_list_in_basename_order()
    {
        var second = Fixtures.PathInfoWithNarInfo;
        second.Node = NodeRules.WithName(second.Node, Fixtures.Bytes("11111111111111111111111111111111-aaa"));
        await PutClosureAsync(Fixtures.DirectoryA);
        var first = Fixtures.PathInfoWithNarInfo;
        first.Node.Directory.Digest = Fixtures.DirectoryA.Digest().ToByteString();
        second.Node.Directory.Digest = first.Node.Directory.Digest;
        await Store.PathInfos.PutAsync(first);
        await Store.PathInfos.PutAsync(second);
        Assert.AreEqual(first, await Store.PathInfos.GetAsync(new byte[20]));
        Assert.IsNull(await Store.PathInfos.GetAsync(Enumerable.Repeat((byte)7, 20).ToArray()));
        var names = (await ToListAsync(Store.PathInfos.ListAsync())).Select(p => NodeRules.NameOf(p.Node).ToStringUtf8()).ToList();
        CollectionAssert.AreEqual(new[] { Fixtures.DummyName, "11111111111111111111111111111111-aaa" }, names);
    }

    [TestMethod]
    public async Task A_path_info_put_again_is_kept_and_one_that_differs_replaces_it()
    {
        await PutClosureAsync(Fixtures.DirectoryA);
        var first = Fixtures.PathInfoWithNarInfo;
        first.Node.Directory.Digest = Fixtures.DirectoryA.Digest().ToByteString();
        await Store.PathInfos.PutAsync(first);
        await Store.PathInfos.PutAsync(first.Clone());
        Assert.AreEqual(first, await Store.PathInfos.GetAsync(new byte[20]));

        var changed = first.Clone();
        changed.Narinfo.NarSize += 1;
        await Store.PathInfos.PutAsync(changed);
        Assert.AreEqual(changed, await Store.PathInfos.GetAsync(new byte[20]), "the same root with other NAR info is not taken for the one stored");
        Assert.HasCount(1, await ToListAsync(Store.PathInfos.ListAsync()));
    }

    [TestMethod]
    public async Task Invalid_path_info_is_rejected_and_not_stored()
    {
        var invalid = Fixtures.PathInfoWithNarInfo;
        invalid.Narinfo.NarSha256 = Google.Protobuf.ByteString.CopyFrom(new byte[3]);
        await Assert.ThrowsAsync<Exception>(() => Store.PathInfos.PutAsync(invalid));
        Assert.IsNull(await Store.PathInfos.GetAsync(new byte[20]));
    }

    public void Dispose()
    {
        Temp.Dispose();
        GC.SuppressFinalize(this);
    }

    protected abstract Task<CastoreStore> OpenAsync();

    protected virtual Task CloseAsync() => Task.CompletedTask;

    protected async Task<B3Digest> PutClosureAsync(params Directory[] leavesFirst)
    {
        await using var putter = Store.Directories.BeginPut();
        foreach (var directory in leavesFirst)
        {
            await putter.PutAsync(directory);
        }

        return await putter.CloseAsync();
    }

    private async Task AssertPutRejectedAsync(string messagePart, params Directory[] leavesFirst)
    {
        var e = await Assert.ThrowsAsync<Exception>(() => PutClosureAsync(leavesFirst));
        StringAssert.Contains(e.Message, messagePart);
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
