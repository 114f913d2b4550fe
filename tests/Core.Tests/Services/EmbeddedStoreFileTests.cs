using System.Globalization;
using System.Text;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.IO;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;

namespace CastoreFs.Core.Tests.Services;

/// <summary>How the embedded store lays blobs on disk: whole, named by digest, never partial.</summary>
[TestClass]
public sealed class EmbeddedStoreFileTests
{
    [TestMethod]
    public async Task Blob_is_one_whole_file_named_by_its_digest()
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        var digest = await store.Blobs.PutAsync(Fixtures.BlobB);
        var path = ((EmbeddedBlobService)store.Blobs).PathOf(digest);
        Assert.AreEqual(Path.Combine(dir.Path, "blobs", digest.ToHex()[..2], digest.ToHex()), path);
        CollectionAssert.AreEqual(Fixtures.BlobB, await File.ReadAllBytesAsync(path));
    }

    [TestMethod]
    public async Task Uncommitted_blob_leaves_nothing_behind()
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        var large = new byte[(2 << 20) + 1];
        new Random(3).NextBytes(large);
        await using (var small = store.Blobs.OpenWrite())
        await using (var writer = store.Blobs.OpenWrite())
        {
            await small.WriteAsync(Fixtures.BlobB);
            await writer.WriteAsync(large);
            Assert.AreEqual(1, Directory.GetFiles(dir.Combine("tmp")).Length, "a large blob goes to a temp file first; a small one stays in memory");
        }

        Assert.AreEqual(0, Directory.GetFiles(dir.Combine("tmp")).Length);
        Assert.AreEqual(0, Directory.GetFiles(dir.Combine("blobs"), "*", SearchOption.AllDirectories).Length);
        Assert.IsNull(await store.Blobs.StatAsync(Fixtures.BlobBDigest));
        Assert.IsNull(await store.Blobs.StatAsync(Blake3Hasher.Hash(large)));
    }

    [TestMethod]
    public async Task Blob_written_in_pieces_past_the_memory_limit_keeps_every_byte()
    {
        using var dir = new TempDirectory();
        var data = new byte[(3 << 20) / 2];
        new Random(9).NextBytes(data);
        using var store = CastoreStore.Open(dir.Path);
        await using (var writer = store.Blobs.OpenWrite())
        {
            for (int offset = 0; offset < data.Length; offset += 100_000)
            {
                await writer.WriteAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)));
            }

            Assert.AreEqual(Blake3Hasher.Hash(data), await writer.CommitAsync());
        }

        CollectionAssert.AreEqual(data, await File.ReadAllBytesAsync(((EmbeddedBlobService)store.Blobs).PathOf(Blake3Hasher.Hash(data))));
    }

    [TestMethod]
    public async Task Small_blob_already_stored_touches_no_file()
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        var digest = await store.Blobs.PutAsync(Fixtures.BlobB);
        var path = ((EmbeddedBlobService)store.Blobs).PathOf(digest);
        var written = File.GetLastWriteTimeUtc(path);
        await using (var again = store.Blobs.OpenWrite())
        {
            await again.WriteAsync(Fixtures.BlobB);
            Assert.AreEqual(0, Directory.GetFiles(dir.Path, "tmp-*", SearchOption.AllDirectories).Length + Directory.GetFiles(dir.Combine("tmp")).Length);
            Assert.AreEqual(digest, await again.CommitAsync());
        }

        Assert.AreEqual(written, File.GetLastWriteTimeUtc(path), "the stored file is kept as it was");
        Assert.AreEqual(1, Directory.GetFiles(Path.GetDirectoryName(path)!).Length, "no temp file is left beside it");
        CollectionAssert.AreEqual(Fixtures.BlobB, await File.ReadAllBytesAsync(path));
    }

    [TestMethod]
    public async Task Chunk_index_is_recorded_on_the_first_stat_and_kept()
    {
        using var dir = new TempDirectory();
        var data = new byte[(5 << 20) / 2];
        new Random(4).NextBytes(data);
        var expected = new[] { data[..(1 << 20)], data[(1 << 20)..(2 << 20)], data[(2 << 20)..] }
            .Select(chunk => new ChunkMeta(Blake3Hasher.Hash(chunk), (ulong)chunk.Length)).ToArray();
        using (var store = CastoreStore.Open(dir.Path))
        {
            var digest = await store.Blobs.PutAsync(data);
            Assert.IsNull(await store.Blobs.OpenReadAsync(expected[1].Digest), "chunks are not known before a stat asks for them");
            CollectionAssert.AreEqual(expected, (await store.Blobs.StatAsync(digest, BlobDetails.Chunks))!.Chunks.ToArray());
        }

        using var reopened = CastoreStore.Open(dir.Path);
        await using var chunk = (await reopened.Blobs.OpenReadAsync(expected[1].Digest))!;
        var bytes = new byte[chunk.Length];
        await chunk.ReadExactlyAsync(bytes);
        CollectionAssert.AreEqual(data.AsSpan(1 << 20, 1 << 20).ToArray(), bytes, "the recorded index serves a chunk by its digest");
        CollectionAssert.AreEqual(expected, (await reopened.Blobs.StatAsync(Blake3Hasher.Hash(data), BlobDetails.Chunks))!.Chunks.ToArray());
    }

    [TestMethod]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Large_aligned_writes_bypass_the_page_cache_and_keep_every_byte()
    {
        using var dir = new TempDirectory();
        if (new DriveInfo(dir.Path).DriveFormat == "tmpfs")
        {
            Assert.Inconclusive("the temp directory is on tmpfs, where every file lives in the page cache");
        }

        var data = new byte[(7 << 20) + 3];
        new Random(11).NextBytes(data);
        var aligned = UnbufferedIo.AllocatePinned(2 << 20);
        using var store = CastoreStore.Open(dir.Path);
        await using (var writer = store.Blobs.OpenWrite())
        {
            // Two aligned 2 MiB writes go around the page cache; then a short write leaves the offset
            // unaligned, so the last 3 MiB (and its 3-byte tail) go through it.
            foreach (var range in new[] { 0..(2 << 20), (2 << 20)..(4 << 20) })
            {
                data.AsSpan(range).CopyTo(aligned.Span);
                await writer.WriteAsync(aligned);
            }

            await writer.WriteAsync(data.AsMemory(4 << 20, 100));
            await writer.WriteAsync(data.AsMemory((4 << 20) + 100));
            Assert.AreEqual(Blake3Hasher.Hash(data), await writer.CommitAsync());
        }

        var path = ((EmbeddedBlobService)store.Blobs).PathOf(Blake3Hasher.Hash(data));
        long resident = long.Parse(Encoding.ASCII.GetString(
            Tools.RunBytes("fincore", new Dictionary<string, string?>(), "--bytes", "--noheadings", "--raw", "--output", "RES", path)).Trim(), CultureInfo.InvariantCulture);
        Assert.IsLessThanOrEqualTo((3L << 20) + 4096, resident, "the first 4 MiB were written around the page cache");
        CollectionAssert.AreEqual(data, await File.ReadAllBytesAsync(path));
    }

    [TestMethod]
    public async Task Store_persists_across_reopening()
    {
        using var dir = new TempDirectory();
        using (var store = CastoreStore.Open(dir.Path))
        {
            await store.Blobs.PutAsync(Fixtures.HelloWorldBlob);
            await using var putter = store.Directories.BeginPut();
            await putter.PutAsync(Fixtures.DirectoryWithKeep);
            await putter.CloseAsync();
        }

        using var reopened = CastoreStore.Open("file://" + dir.Path);
        CollectionAssert.AreEqual(Fixtures.HelloWorldBlob, await reopened.Blobs.ReadAllAsync(Blake3Hasher.Hash(Fixtures.HelloWorldBlob)));
        Assert.AreEqual(Fixtures.DirectoryWithKeep, await reopened.Directories.GetAsync(Core.Model.DirectoryRules.Digest(Fixtures.DirectoryWithKeep)));
    }

    [TestMethod]
    public void Store_urls_that_name_nothing_usable_are_rejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => CastoreStore.Open("memory:///some/path"));
        Assert.ThrowsExactly<ArgumentException>(() => CastoreStore.Open("grpc+unix://host/x.sock"));
        Assert.ThrowsExactly<ArgumentException>(() => CastoreStore.Open("sled:///var/lib/x"));
        Assert.ThrowsExactly<ArgumentException>(() => CastoreStore.Open("grpc+http://localhost:1/path"));
    }

    [TestMethod]
    public async Task A_store_of_another_schema_version_is_refused_with_a_clear_error_when_first_used()
    {
        using var dir = new TempDirectory();
        using (var store = CastoreStore.Open(dir.Path))
        {
            await store.Blobs.PutAsync(Fixtures.BlobA);
        }

        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={dir.Combine("store.sqlite")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }

        using var newer = CastoreStore.Open(dir.Path);
        var refused = await Assert.ThrowsExactlyAsync<InvalidOperationException>(async () => await newer.Blobs.StatAsync(Fixtures.BlobADigest));
        StringAssert.Contains(refused.Message, "schema version 99");
        await Assert.ThrowsExactlyAsync<InvalidOperationException>(async () => await newer.PathInfos.ListAsync().ToListAsync());
    }
}
