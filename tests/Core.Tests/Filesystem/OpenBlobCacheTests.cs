using CastoreFs.Core.Filesystem;

namespace CastoreFs.Core.Tests.Filesystem;

[TestClass]
public sealed class OpenBlobCacheTests
{
    [TestMethod]
    public void The_least_recently_used_blob_is_closed_beyond_capacity()
    {
        var cache = new OpenBlobCache(capacity: 2, _ => true);
        var streams = new[] { new MemoryStream([1]), new MemoryStream([2]), new MemoryStream([3]) };
        for (int i = 0; i < streams.Length - 1; i++)
        {
            cache.Add((ulong)i, new OpenBlob(streams[i].Length, streams[i], TimeSpan.FromSeconds(5))).Dispose();
        }

        cache.Hold(0)!.Dispose();
        cache.Add(2, new OpenBlob(streams[2].Length, streams[2], TimeSpan.FromSeconds(5))).Dispose();

        Assert.IsNull(cache.Hold(1), "inode 1 was used least recently");
        Assert.IsFalse(streams[1].CanRead, "and its reader is closed");
        Assert.IsTrue(streams[0].CanRead && streams[2].CanRead);
        cache.Clear();
        Assert.IsFalse(streams[0].CanRead || streams[2].CanRead);
    }

    [TestMethod]
    public void A_blob_removed_while_a_read_holds_it_closes_when_the_read_ends()
    {
        var cache = new OpenBlobCache(capacity: 4, _ => true);
        var stream = new MemoryStream([7, 8, 9]);
        cache.Add(5, new OpenBlob(stream.Length, stream, TimeSpan.FromSeconds(5))).Dispose();

        var held = cache.Hold(5)!;
        cache.Remove(5);
        var buffer = new byte[3];
        Assert.AreEqual(3, held.Read(0, buffer), "still readable by its holder");
        CollectionAssert.AreEqual(new byte[] { 7, 8, 9 }, buffer);
        held.Dispose();
        Assert.IsFalse(stream.CanRead);
        Assert.IsFalse(held.TryHold(), "a closed blob cannot be held again");
    }

    [TestMethod]
    public void Two_threads_opening_one_inode_share_the_first_blob()
    {
        var cache = new OpenBlobCache(capacity: 4, _ => true);
        var first = new MemoryStream([1]);
        var second = new MemoryStream([2]);
        var kept = cache.Add(3, new OpenBlob(first.Length, first, TimeSpan.FromSeconds(5)));
        var raced = cache.Add(3, new OpenBlob(second.Length, second, TimeSpan.FromSeconds(5)));
        Assert.AreSame(kept, raced);
        Assert.IsFalse(second.CanRead, "the loser's reader is closed");
        kept.Dispose();
        raced.Dispose();
        Assert.IsTrue(first.CanRead, "the cache still holds the winner");
    }

    [TestMethod]
    public void The_blob_of_an_inode_dropped_meanwhile_is_not_kept()
    {
        var tracked = new HashSet<ulong> { 1 };
        var cache = new OpenBlobCache(capacity: 4, tracked.Contains);
        var stream = new MemoryStream([1]);
        tracked.Remove(1);
        var blob = cache.Add(1, new OpenBlob(stream.Length, stream, TimeSpan.FromSeconds(5)));
        Assert.IsNull(cache.Hold(1), "a dropped inode's blob is not cached");
        Assert.IsTrue(stream.CanRead, "the read that opened it still holds it");
        blob.Dispose();
        Assert.IsFalse(stream.CanRead, "and its end closes it");
    }
}
