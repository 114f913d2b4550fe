using System.Data.Common;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Model;
using CastoreFs.Core.S3;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Tests.Engines;

namespace CastoreFs.Core.Tests.Services;

/// <summary>
/// A store on a real Ceph S3 gateway and a real PostgreSQL that lie, stall or restart: a wrong byte is an
/// error and never data, every failure is an IOException or a database error, and the store works again
/// once the engine is back.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class S3PostgresFaultTests
{
    private SharedEngines _engines = null!;
    private string _s3 = null!;
    private string _postgres = null!;

    [TestInitialize]
    public void Start()
    {
        _engines = SharedEngines.StartOrInconclusive();
        (_s3, _postgres) = _engines.NewStore();
    }

    [TestMethod]
    public async Task A_byte_flipped_in_a_stored_blob_is_an_error_and_other_blobs_still_read()
    {
        using var store = CastoreStore.Open(_s3, _s3, _postgres);
        var small = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var large = RandomBytes(3 * Outboard.GroupSize + 123, seed: 1);
        var smallDigest = await store.Blobs.PutAsync(small);
        var largeDigest = await store.Blobs.PutAsync(large);
        var intact = await store.Blobs.PutAsync(RandomBytes(2 * Outboard.GroupSize, seed: 2));

        using var bucket = S3Bucket.Open(_s3);
        await bucket.PutAsync(S3BlobService.BlobKey(smallDigest), Flipped(small, 17), CancellationToken.None);
        await bucket.PutAsync(S3BlobService.BlobKey(largeDigest), Flipped(large, (2 * Outboard.GroupSize) + 5), CancellationToken.None);

        await Assert.ThrowsExactlyAsync<BlobVerificationException>(() => store.Blobs.ReadAllAsync(smallDigest));
        await using (var stream = (await store.Blobs.OpenReadAsync(largeDigest))!)
        {
            // The groups before the flipped one are served; the flipped one is refused, whole.
            var head = new byte[2 * Outboard.GroupSize];
            await stream.ReadExactlyAsync(head);
            CollectionAssert.AreEqual(large[..head.Length], head);
            await Assert.ThrowsExactlyAsync<BlobVerificationException>(async () => await stream.ReadExactlyAsync(new byte[10]));
        }

        CollectionAssert.AreEqual(RandomBytes(2 * Outboard.GroupSize, seed: 2), await store.Blobs.ReadAllAsync(intact));
    }

    [TestMethod]
    public async Task A_cache_in_front_keeps_only_blobs_that_verified()
    {
        using var cacheDir = new TempDirectory();
        using var store = CastoreStore.Open(_s3, _s3, _postgres, cacheDir.Path, blobCacheBytes: 64L * 1024 * 1024);
        var good = RandomBytes(3 * Outboard.GroupSize + 5, seed: 9);
        var bad = RandomBytes(2 * Outboard.GroupSize, seed: 10);
        var goodDigest = await store.Blobs.PutAsync(good);
        var badDigest = await store.Blobs.PutAsync(bad);
        using var bucket = S3Bucket.Open(_s3);
        await bucket.PutAsync(S3BlobService.BlobKey(badDigest), Flipped(bad, bad.Length - 1), CancellationToken.None);

        CollectionAssert.AreEqual(good, await store.Blobs.ReadAllAsync(goodDigest));
        await Assert.ThrowsExactlyAsync<BlobVerificationException>(() => store.Blobs.ReadAllAsync(badDigest));
        var cache = (CachedBlobService)store.Blobs;
        Assert.AreEqual(good.Length, cache.CachedBytes);
        Assert.IsNull(cache.TryOpenFile(badDigest));
        Assert.AreEqual(1, Directory.EnumerateFiles(cacheDir.Path, "*", SearchOption.AllDirectories).Count(f => Path.GetFileName(f).Length == 64), "one blob file, no partial copy");
        Assert.AreEqual(0, Directory.EnumerateFiles(cacheDir.Path, "tmp-*", SearchOption.AllDirectories).Count(), "no temp file left");
    }

    [TestMethod]
    public async Task An_outboard_that_lies_or_is_missing_is_an_error_before_any_byte()
    {
        using var store = CastoreStore.Open(_s3, _s3, _postgres);
        var large = RandomBytes(2 * Outboard.GroupSize + 1, seed: 3);
        var digest = await store.Blobs.PutAsync(large);
        using var bucket = S3Bucket.Open(_s3);
        var outboard = (await bucket.GetAsync(S3BlobService.OutboardKey(digest), CancellationToken.None))!;
        Assert.AreEqual(Outboard.Length(large.Length), outboard.Length);

        await bucket.PutAsync(S3BlobService.OutboardKey(digest), Flipped(outboard, 40), CancellationToken.None);
        await Assert.ThrowsExactlyAsync<BlobVerificationException>(() => store.Blobs.OpenReadAsync(digest));

        // A blob object grown by a byte claims another size: its outboard no longer fits it.
        await bucket.PutAsync(S3BlobService.OutboardKey(digest), outboard, CancellationToken.None);
        await bucket.PutAsync(S3BlobService.BlobKey(digest), large.Append((byte)0).ToArray(), CancellationToken.None);
        await Assert.ThrowsExactlyAsync<BlobVerificationException>(() => store.Blobs.ReadAllAsync(digest));
    }

    [TestMethod]
    public async Task A_blob_already_stored_is_not_written_again()
    {
        using var store = CastoreStore.Open(_s3, _s3, _postgres);
        var data = RandomBytes(1000, seed: 4);
        var digest = await store.Blobs.PutAsync(data);
        using var bucket = S3Bucket.Open(_s3);
        var marker = RandomBytes(1000, seed: 5);
        await bucket.PutAsync(S3BlobService.BlobKey(digest), marker, CancellationToken.None);

        Assert.AreEqual(digest, await store.Blobs.PutAsync(data));
        CollectionAssert.AreEqual(marker, await bucket.GetAsync(S3BlobService.BlobKey(digest), CancellationToken.None), "the second put wrote nothing");
    }

    [TestMethod]
    public async Task A_blob_larger_than_a_part_is_uploaded_in_parts_and_read_back_in_order_and_at_random()
    {
        using var store = CastoreStore.Open(_s3, _s3, _postgres);
        var data = RandomBytes((40 * 1024 * 1024) + 999, seed: 6);
        var digest = await store.Blobs.PutAsync(data);
        Assert.AreEqual(Blake3Hasher.Hash(data), digest);
        CollectionAssert.AreEqual(data, await store.Blobs.ReadAllAsync(digest));

        await using var stream = (await store.Blobs.OpenReadAsync(digest))!;
        var random = new Random(7);
        var buffer = new byte[70_000];
        for (int i = 0; i < 20; i++)
        {
            long at = random.NextInt64(data.Length - buffer.Length);
            stream.Position = at;
            await stream.ReadExactlyAsync(buffer);
            Assert.IsTrue(buffer.AsSpan().SequenceEqual(data.AsSpan((int)at, buffer.Length)), $"bytes at {at}");
        }
    }

    [TestMethod]
    public async Task A_gateway_that_stops_answering_mid_read_fails_the_read_and_reads_work_once_it_is_back()
    {
        var s3 = _s3 + "&timeout=1";
        using var store = CastoreStore.Open(s3, s3, _postgres);
        var data = RandomBytes(12 * Outboard.GroupSize, seed: 8);
        var digest = await store.Blobs.PutAsync(data);
        await using (var stream = (await store.Blobs.OpenReadAsync(digest))!)
        {
            var first = new byte[Outboard.GroupSize];
            await stream.ReadExactlyAsync(first);
            _engines.StopGateway();
            try
            {
                stream.Position = 9L * Outboard.GroupSize;
                await Assert.ThrowsAsync<IOException>(async () => await stream.ReadExactlyAsync(new byte[100]));
            }
            finally
            {
                _engines.ResumeGateway();
            }
        }

        CollectionAssert.AreEqual(data, await store.Blobs.ReadAllAsync(digest));
    }

    [TestMethod]
    public async Task A_restarted_database_fails_a_lookup_while_down_and_answers_once_back()
    {
        using var store = CastoreStore.Open(_s3, _s3, _postgres);
        var info = Fixtures.PathInfoWithNarInfo;
        await store.PathInfos.PutAsync(info);
        var digest = info.Validate().Digest.ToArray();
        _engines.StopPostgres();
        try
        {
            await Assert.ThrowsAsync<DbException>(() => store.PathInfos.GetAsync(digest));
        }
        finally
        {
            _engines.StartPostgres();
        }

        Assert.AreEqual(info, await store.PathInfos.GetAsync(digest));
    }

    [TestMethod]
    public async Task Writers_racing_to_register_one_store_path_with_different_roots_leave_exactly_one()
    {
        var info = Fixtures.PathInfoWithNarInfo;
        var other = info.Clone();
        other.Node.Symlink = new Snix.Castore.V1.SymlinkNode { Name = info.Node.Directory?.Name ?? info.Node.File?.Name ?? info.Node.Symlink.Name, Target = Fixtures.Bytes("/elsewhere") };
        var stores = Enumerable.Range(0, 8).Select(_ => CastoreStore.Open(_s3, _s3, _postgres)).ToArray();
        try
        {
            var puts = stores.Select((s, i) => Task.Run(() => s.PathInfos.PutAsync(i % 2 == 0 ? info : other))).ToArray();
            var outcomes = await Task.WhenAll(puts.Select(async p =>
            {
                try
                {
                    return (await p).Node;
                }
                catch (Core.Services.PathInfos.PathInfoConflictException)
                {
                    return null;
                }
            }));
            var stored = (await stores[0].PathInfos.GetAsync(info.Validate().Digest.ToArray()))!;
            Assert.IsTrue(outcomes.All(node => node is null || node.Equals(stored.Node)), "every put that succeeded put the root that is stored");
            Assert.AreEqual(4, outcomes.Count(node => node is not null), "all puts of the winning root succeed, all of the other are refused");
        }
        finally
        {
            Array.ForEach(stores, s => s.Dispose());
        }
    }

    [TestMethod]
    public async Task Listing_more_path_infos_than_a_page_returns_each_once_in_basename_order()
    {
        using var store = CastoreStore.Open(_s3, _s3, _postgres);
        var names = new List<string>();
        for (int i = 0; i < 1203; i++)
        {
            var info = Fixtures.PathInfoWithoutNarInfo;
            var digest = new byte[20];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(digest, i * 7919);
            var name = Core.Nix.NixBase32.Encode(digest) + "-p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Node.Directory.Name = Fixtures.Bytes(name);
            await store.PathInfos.PutAsync(info);
            names.Add(name);
        }

        var listed = new List<string>();
        await foreach (var info in store.PathInfos.ListAsync())
        {
            listed.Add(info.Node.Directory.Name.ToStringUtf8());
        }

        CollectionAssert.AreEqual(names.Order(StringComparer.Ordinal).ToList(), listed);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static byte[] Flipped(byte[] data, int at)
    {
        var copy = (byte[])data.Clone();
        copy[at] ^= 0x40;
        return copy;
    }
}
