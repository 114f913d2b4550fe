using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos;
using Google.Protobuf;
using Snix.Castore.V1;
using Snix.Store.V1;

namespace CastoreFs.Core.Tests.Filesystem;

[TestClass]
public sealed class ConcurrentLookupTests
{
    [TestMethod]
    public void Lookups_racing_into_a_directory_seen_for_the_first_time_all_find_the_name()
    {
        var store = new CastoreStore(new MemoryBlobService(), new MemoryDirectoryService(), new MemoryPathInfoService());
        var putter = store.Directories.BeginPut();
        putter.PutAsync(Fixtures.DirectoryWithKeep).AsTask().GetAwaiter().GetResult();
        putter.PutAsync(Fixtures.DirectoryComplicated).AsTask().GetAwaiter().GetResult();
        putter.CloseAsync().GetAwaiter().GetResult();
        var rootName = ByteString.CopyFromUtf8("33333333333333333333333333333333-test");
        store.PathInfos.PutAsync(new PathInfo { Node = new Node { Directory = Fixtures.DirectoryComplicated.ToNode(rootName) } }).GetAwaiter().GetResult();
        using var fs = CastoreFileSystem.OpenAsync(store).GetAwaiter().GetResult();

        const int threads = 8;
        int misses = 0;
        using var start = new Barrier(threads + 1);
        for (int round = 0; round < 1500; round++)
        {
            // A new inode each round: its listing is not loaded yet, and every thread wants it at once.
            Assert.AreEqual(Errno.None, fs.Lookup(CastoreFileSystem.RootInode, rootName.Span, out var root));
            Assert.AreEqual(Errno.None, fs.Lookup(root.Inode, "keep"u8, out var keep));
            var lookups = Enumerable.Range(0, threads).Select(_ => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                if (fs.Lookup(keep.Inode, ".keep"u8, out NodeAttributes _) != Errno.None)
                {
                    Interlocked.Increment(ref misses);
                }
            }, TaskCreationOptions.LongRunning)).ToArray();
            start.SignalAndWait();
            Task.WaitAll(lookups);

            fs.Forget(keep.Inode, 1);
            fs.Forget(root.Inode, 1);
        }

        Assert.AreEqual(0, misses, "a name in a directory is found however many look for it at once");
    }
}
