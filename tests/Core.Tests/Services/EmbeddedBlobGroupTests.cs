using CastoreFs.Core.Blake3;
using CastoreFs.Core.IO;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;

namespace CastoreFs.Core.Tests.Services;

/// <summary>A group of small blobs in the embedded store: renamed only once durable, known only once committed.</summary>
[TestClass]
public sealed class EmbeddedBlobGroupTests
{
    [TestMethod]
    [DataRow(true, DisplayName = "unnamed files (O_TMPFILE)")]
    [DataRow(false, DisplayName = "temp files renamed")]
    public async Task Blobs_are_known_only_after_the_commit_and_then_read_back(bool unnamedFiles)
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        var blobs = (EmbeddedBlobService)store.Blobs;
        var contents = Contents(10);
        await using var group = new EmbeddedBlobGroup(blobs, flushFiles: 4, unnamedFiles);
        foreach (var data in contents)
        {
            await group.AddAsync(Blake3Hasher.Hash(data), data);
        }

        // Two flushes of four have put eight files into place; the last two are not under their names
        // yet (in files with no name at all, or named as temp files); none is known before the commit.
        Assert.AreEqual(8, BlobFiles(dir).Count(IsFinal));
        Assert.AreEqual(unnamedFiles ? 0 : 2, BlobFiles(dir).Count(f => !IsFinal(f)));
        Assert.IsFalse(contents[8..].Any(data => File.Exists(blobs.PathOf(Blake3Hasher.Hash(data)))));
        Assert.IsNull(await blobs.StatAsync(Blake3Hasher.Hash(contents[0])));

        await group.CommitAsync();
        Assert.AreEqual(10, BlobFiles(dir).Count(IsFinal));
        Assert.AreEqual(0, BlobFiles(dir).Count(f => !IsFinal(f)), "no temp file is left");
        foreach (var data in contents)
        {
            Assert.AreEqual(data.Length, (await blobs.StatAsync(Blake3Hasher.Hash(data)))!.Size);
            CollectionAssert.AreEqual(data, await blobs.ReadAllAsync(Blake3Hasher.Hash(data)));
        }
    }

    [TestMethod]
    public async Task Many_threads_adding_at_once_across_flushes_store_every_blob()
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        var blobs = (EmbeddedBlobService)store.Blobs;
        var contents = Enumerable.Range(0, 4000).Select(i => BitConverter.GetBytes(i).Concat(new byte[i % 700]).ToArray()).ToArray();
        await using (var group = new EmbeddedBlobGroup(blobs, flushFiles: 64))
        {
            await Parallel.ForEachAsync(contents, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (data, ct) => await group.AddAsync(Blake3Hasher.Hash(data), data, ct));
            await group.CommitAsync();
        }

        Assert.AreEqual(0, BlobFiles(dir).Count(f => !IsFinal(f)));
        foreach (var data in contents)
        {
            CollectionAssert.AreEqual(data, await blobs.ReadAllAsync(Blake3Hasher.Hash(data)));
        }
    }

    [TestMethod]
    public async Task Unnamed_files_held_stay_within_their_bound_however_many_flushes_run()
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        var blobs = (EmbeddedBlobService)store.Blobs;
        // Blobs large enough that each flush's syncfs takes a while, so that flushes overlap.
        var contents = Enumerable.Range(0, 2000).Select(i => BitConverter.GetBytes(i).Concat(new byte[64 * 1024]).ToArray()).ToArray();
        const int held = 6;
        int most = 0;
        using var done = new CancellationTokenSource();
        var watch = Task.Run(() =>
        {
            // An unnamed file shows in /proc/self/fd as a link to "/…/#inode (deleted)" in its folder.
            var blobsFolder = dir.Combine("blobs");
            while (!done.IsCancellationRequested)
            {
                int now = Directory.EnumerateFileSystemEntries("/proc/self/fd").Count(fd =>
                    new FileInfo(fd).LinkTarget is { } target && target.StartsWith(blobsFolder, StringComparison.Ordinal) && target.EndsWith("(deleted)", StringComparison.Ordinal));
                most = Math.Max(most, now);
            }
        });
        await using (var group = new EmbeddedBlobGroup(blobs, flushFiles: 4, heldFiles: held))
        {
            await Parallel.ForEachAsync(contents, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (data, ct) => await group.AddAsync(Blake3Hasher.Hash(data), data, ct));
            await group.CommitAsync();
        }

        await done.CancelAsync();
        await watch;
        Assert.IsTrue(most is > 0 and <= held, $"{most} unnamed files were open at once, of {held} allowed");
        foreach (var data in contents)
        {
            CollectionAssert.AreEqual(data, await blobs.ReadAllAsync(Blake3Hasher.Hash(data)));
        }
    }

    [TestMethod]
    public async Task A_blob_added_twice_or_already_stored_is_written_once()
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        var blobs = (EmbeddedBlobService)store.Blobs;
        await blobs.PutAsync(Fixtures.BlobA);
        var before = File.GetLastWriteTimeUtc(blobs.PathOf(Fixtures.BlobADigest));
        await using (var group = blobs.OpenGroup())
        {
            await group.AddAsync(Fixtures.BlobADigest, Fixtures.BlobA);
            await group.AddAsync(Fixtures.BlobBDigest, Fixtures.BlobB);
            await group.AddAsync(Fixtures.BlobBDigest, Fixtures.BlobB);
            await group.CommitAsync();
        }

        Assert.AreEqual(2, BlobFiles(dir).Length);
        Assert.AreEqual(before, File.GetLastWriteTimeUtc(blobs.PathOf(Fixtures.BlobADigest)), "the stored file is kept, not replaced");
        CollectionAssert.AreEqual(Fixtures.BlobB, await blobs.ReadAllAsync(Fixtures.BlobBDigest));
    }

    [TestMethod]
    [DataRow(true, DisplayName = "unnamed files (O_TMPFILE)")]
    [DataRow(false, DisplayName = "temp files renamed")]
    public async Task A_group_disposed_uncommitted_leaves_no_temp_file_and_nothing_known(bool unnamedFiles)
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        var blobs = (EmbeddedBlobService)store.Blobs;
        var contents = Contents(5);
        await using (var group = new EmbeddedBlobGroup(blobs, flushFiles: 4, unnamedFiles))
        {
            foreach (var data in contents)
            {
                await group.AddAsync(Blake3Hasher.Hash(data), data);
            }
        }

        Assert.AreEqual(0, BlobFiles(dir).Count(f => !IsFinal(f)));
        foreach (var data in contents)
        {
            Assert.IsNull(await blobs.StatAsync(Blake3Hasher.Hash(data)));
        }
    }

    [TestMethod]
    public async Task A_large_blob_written_in_parts_is_placed_and_known_with_the_group()
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        var blobs = (EmbeddedBlobService)store.Blobs;
        var large = Enumerable.Range(0, 3 * 1024 * 1024 + 5).Select(i => (byte)(i * 7)).ToArray();
        var abandoned = Enumerable.Repeat((byte)9, 2 * 1024 * 1024).ToArray();
        await using (var group = new EmbeddedBlobGroup(blobs))
        {
            await using (var writer = group.OpenWrite())
            {
                await writer.WriteAsync(large.AsMemory(0, 1024 * 1024));
                await writer.WriteAsync(large.AsMemory(1024 * 1024));
                Assert.AreEqual(Blake3Hasher.Hash(large), await writer.CommitAsync());
            }

            // Written, not yet durable: not under its name, and not known.
            Assert.IsFalse(File.Exists(blobs.PathOf(Blake3Hasher.Hash(large))));
            Assert.IsNull(await blobs.StatAsync(Blake3Hasher.Hash(large)));
            await group.CommitAsync();
        }

        Assert.AreEqual(large.Length, (await blobs.StatAsync(Blake3Hasher.Hash(large)))!.Size);
        CollectionAssert.AreEqual(large, await blobs.ReadAllAsync(Blake3Hasher.Hash(large)));

        await using (var group = new EmbeddedBlobGroup(blobs))
        {
            await using var writer = group.OpenWrite();
            await writer.WriteAsync(abandoned);
            await writer.CommitAsync();
        }

        Assert.IsNull(await blobs.StatAsync(Blake3Hasher.Hash(abandoned)), "a group disposed uncommitted records nothing");
        Assert.IsFalse(File.Exists(blobs.PathOf(Blake3Hasher.Hash(abandoned))));
        Assert.AreEqual(0, Directory.GetFiles(dir.Combine("tmp")).Length, "no temp file is left");
        Assert.AreEqual(0, BlobFiles(dir).Count(f => !IsFinal(f)));
    }

    [TestMethod]
    public async Task A_committed_group_takes_no_more_blobs()
    {
        using var dir = new TempDirectory();
        using var store = CastoreStore.Open(dir.Path);
        await using var group = store.Blobs.OpenGroup();
        await group.CommitAsync();
        await Assert.ThrowsExactlyAsync<ObjectDisposedException>(() => group.AddAsync(Fixtures.BlobADigest, Fixtures.BlobA));
    }

    private static byte[][] Contents(int count) =>
        Enumerable.Range(0, count).Select(i => Enumerable.Repeat((byte)i, 100 + i).ToArray()).ToArray();

    private static string[] BlobFiles(TempDirectory dir) => Directory.GetFiles(dir.Combine("blobs"), "*", SearchOption.AllDirectories);

    private static bool IsFinal(string path) => !Path.GetFileName(path).StartsWith("tmp-", StringComparison.Ordinal);
}
