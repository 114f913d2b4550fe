using System.Diagnostics;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Fuse.Protocol;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos;
using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;
using Snix.Castore.V1;
using static CastoreFs.Linux.Tests.SeedStore;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Linux.Tests;

/// <summary>File contents through the kernel: concurrency, passthrough, and a store that goes away.</summary>
[TestClass]
public sealed class ReadTests
{
    private const string Big = "77777777777777777777777777777777-big";
    private const string Tree = "88888888888888888888888888888888-tree";

    [TestMethod]
    public void Sixteen_threads_reading_random_ranges_get_every_byte_right()
    {
        var store = SeedStore.Create();
        var big = RandomBytes(64 << 20, seed: 1);
        PutFile(store, Big, big);
        using var mount = TestMount.Start(store, threads: 4);

        var files = new[] { (mount[BlobB], Fixtures.BlobB), (mount[Big], big) };
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 16).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            var buffer = new byte[512 * 1024];
            foreach (var (path, expected) in files)
            {
                using var handle = File.OpenHandle(path);
                for (int i = 0; i < 40; i++)
                {
                    long offset = random.NextInt64(expected.Length + 4096L);
                    int length = random.Next(1, buffer.Length);
                    int n = RandomAccess.Read(handle, buffer.AsSpan(0, length), offset);
                    int want = (int)Math.Clamp(expected.Length - offset, 0, length);
                    if (n != want || !buffer.AsSpan(0, n).SequenceEqual(expected.AsSpan((int)Math.Min(offset, expected.Length), n)))
                    {
                        failures.Add($"{Path.GetFileName(path)} at {offset} (+{length}): got {n} bytes, wanted {want}, or other bytes");
                    }
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.IsEmpty(failures, string.Join('\n', failures.Take(5)));
    }

    [TestMethod]
    public void Without_passthrough_files_are_read_without_opens_and_a_first_read_prefetches_its_directory()
    {
        using var dir = new TempDirectory();
        var contents = Enumerable.Range(0, 40).Select(i => RandomBytes(1 + (i * 97), seed: 10 + i)).ToArray();
        var names = contents.Select((_, i) => $"f{i:00}").ToArray();
        using (var store = CastoreStore.Open(dir.Combine("store")))
        {
            var tree = new Directory();
            for (int i = 0; i < contents.Length; i++)
            {
                var digest = store.Blobs.PutAsync(contents[i]).GetAwaiter().GetResult();
                tree.Files.Add(new FileNode { Name = Bytes(names[i]), Digest = digest.ToByteString(), Size = (ulong)contents[i].Length });
            }

            PutClosure(store.Directories, tree);
            Put(store, new Node { Directory = new DirectoryNode { Name = Bytes(Tree), Digest = tree.Digest().ToByteString(), Size = tree.Size() } });
        }

        using var embedded = CastoreStore.Open(dir.Combine("store"));
        using var mount = TestMount.Start(embedded, passthrough: false);
        foreach (var name in names)
        {
            Assert.AreEqual(0, Posix.Stat(mount[Tree + "/" + name]).Errno);
        }

        Assert.AreEqual(0L, mount.FileSystem.PrefetchedBlobs, "listing and stat (find, ls -l) read no contents");
        for (int i = 0; i < names.Length; i++)
        {
            CollectionAssert.AreEqual(contents[i], File.ReadAllBytes(mount[Tree + "/" + names[i]]), names[i]);
        }

        Assert.AreEqual(1L, mount.Server.RequestCount(FuseOpcode.Open), "the first OPEN is declined, and the kernel sends no more");
        Assert.AreEqual(0L, mount.Server.RequestCount(FuseOpcode.Release));
        Assert.IsLessThanOrEqualTo(1L, mount.Server.RequestCount(FuseOpcode.Flush));
        var deadline = Stopwatch.StartNew();
        while (mount.FileSystem.PrefetchedBlobs < names.Length - 1 && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            Thread.Sleep(10);
        }

        Assert.AreEqual(names.Length - 1L, mount.FileSystem.PrefetchedBlobs, "the first read fetched its siblings once");
    }

    [TestMethod]
    public void Passthrough_on_and_off_serve_the_same_bytes()
    {
        using var dir = new TempDirectory();
        var data = RandomBytes(9 << 20, seed: 2);
        using (var store = CastoreStore.Open(dir.Combine("store")))
        {
            PutFile(store, Big, data);
        }

        using var embedded = CastoreStore.Open(dir.Combine("store"));
        using (var mount = TestMount.Start(embedded, passthrough: true))
        {
            Assert.IsTrue(mount.Server.Passthrough, "this kernel offers passthrough (6.9+), and we are root");
            Assert.IsTrue(data.AsSpan().SequenceEqual(File.ReadAllBytes(mount[Big])));
            Assert.AreEqual(0L, mount.Server.RequestCount(FuseOpcode.Read), "passthrough reads never reach us");
        }

        using (var mount = TestMount.Start(embedded, passthrough: false))
        {
            Assert.IsFalse(mount.Server.Passthrough);
            Assert.IsTrue(data.AsSpan().SequenceEqual(File.ReadAllBytes(mount[Big])));
            Assert.IsGreaterThan(0L, mount.Server.RequestCount(FuseOpcode.Read));
        }
    }

    [TestMethod]
    public void Without_passthrough_reads_of_a_local_blob_go_from_its_file_to_the_kernel_by_splice()
    {
        using var dir = new TempDirectory();
        var data = RandomBytes((9 << 20) + 1234, seed: 7);
        using (var store = CastoreStore.Open(dir.Combine("store")))
        {
            PutFile(store, Big, data);
        }

        using var embedded = CastoreStore.Open(dir.Combine("store"));
        using var mount = TestMount.Start(embedded, passthrough: false);
        Assert.IsTrue(data.AsSpan().SequenceEqual(File.ReadAllBytes(mount[Big])));
        long reads = mount.Server.RequestCount(FuseOpcode.Read);
        Assert.IsGreaterThan(0L, reads);
        Assert.AreEqual(reads, mount.SplicedReplies, "every READ was spliced, none copied");
    }

    [TestMethod]
    public void Without_passthrough_a_large_blob_is_cached_by_the_mount_and_its_file_dropped_behind_the_reads()
    {
        using var dir = new TempDirectory();
        PageCache.RequireDroppable(dir.Path);
        var data = RandomBytes(48 << 20, seed: 3);
        using (var store = CastoreStore.Open(dir.Combine("store")))
        {
            PutFile(store, Big, data);
        }

        var blobFile = System.IO.Directory.EnumerateFiles(dir.Combine("store"), "*", SearchOption.AllDirectories).Single(f => new FileInfo(f).Length == data.Length);
        using (var flush = new FileStream(blobFile, FileMode.Open, FileAccess.ReadWrite))
        {
            // Dirty pages are never dropped: the test is of reads, so start with the blob's on disk.
            flush.Flush(flushToDisk: true);
        }

        // A mount's reads drop their blob file's pages 8 MiB behind them.
        long dropped = PageCache.DroppedBehind(data.Length, 8 << 20);
        using var embedded = CastoreStore.Open(dir.Combine("store"));
        foreach (bool dropBehind in new[] { false, true })
        {
            using var mount = TestMount.Start(embedded, new() { DropBehindLargeReads = dropBehind }, passthrough: false);
            using (var file = new FileStream(mount[Big], FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
            {
                var buffer = new byte[1 << 20];
                for (int offset = 0; offset < data.Length;)
                {
                    int n = file.Read(buffer);
                    Assert.IsTrue(n > 0 && buffer.AsSpan(0, n).SequenceEqual(data.AsSpan(offset, n)), $"bytes at {offset}");
                    offset += n;
                }
            }

            Assert.AreEqual((long)data.Length, PageCache.ResidentBytes(mount[Big], 0, data.Length), "the mount keeps what it read (KEEP_CACHE)");
            Assert.AreEqual(dropBehind ? 0 : dropped, PageCache.ResidentBytes(blobFile, 0, dropped), dropBehind ? "the blob file is cached once, on the mount's side" : "a plain read keeps both copies");
        }
    }

    [TestMethod]
    public void A_store_server_killed_mid_read_gives_EIO_and_reads_work_once_it_is_back()
    {
        TestMount.RequireFuse();
        using var dir = new TempDirectory();
        var data = RandomBytes(64 << 20, seed: 3);
        var storeDir = dir.Combine("store");
        using (var store = CastoreStore.Open(storeDir))
        {
            PutFile(store, Big, data);
        }

        var socket = dir.Combine("s.sock");
        var cli = new CliRunner(dir.Combine("home"));
        var server = StartServer(cli, storeDir, socket);
        try
        {
            using var remote = CastoreStore.Open("grpc+unix://" + socket, dir.Combine("cache"));
            using var mount = TestMount.Start(remote);
            using (var handle = File.OpenHandle(mount[Big]))
            {
                var head = new byte[1 << 20];
                Assert.AreEqual(head.Length, RandomAccess.Read(handle, head, 0));
                Assert.IsTrue(head.AsSpan().SequenceEqual(data.AsSpan(0, head.Length)));

                server.Kill(entireProcessTree: true);
                server.WaitForExit();
                var read = Task.Run(() => RandomAccess.Read(handle, new byte[1 << 20], 48L << 20));
                Assert.AreSame(read, Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60))).Result, "a read from a dead store must fail, not hang");
                Assert.IsInstanceOfType<IOException>(read.Exception?.InnerException, "EIO");
            }

            server.Dispose();
            server = StartServer(cli, storeDir, socket);
            Assert.IsTrue(data.AsSpan().SequenceEqual(File.ReadAllBytes(mount[Big])), "reads succeed once the store is back");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.Dispose();
        }
    }

    private static Process StartServer(CliRunner cli, string storeDir, string socket)
    {
        File.Delete(socket);
        var server = cli.Start("--store", storeDir, "serve", "--listen", "unix://" + socket);
        var line = server.StandardError.ReadLineAsync();
        Assert.IsTrue(line.Wait(TimeSpan.FromSeconds(60)), "serve did not start");
        StringAssert.Contains(line.Result, "serving on");
        return server;
    }

    private static void PutFile(CastoreStore store, string name, byte[] data)
    {
        var digest = store.Blobs.PutAsync(data).GetAwaiter().GetResult();
        Put(store, new Node { File = new FileNode { Name = Bytes(name), Digest = digest.ToByteString(), Size = (ulong)data.Length } });
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
