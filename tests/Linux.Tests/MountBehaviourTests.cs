using System.Text;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse.Protocol;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos;
using CastoreFs.Core.Tests;
using Snix.Castore.V1;
using static CastoreFs.Linux.Tests.SeedStore;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Linux.Tests;

/// <summary>What CastoreFs decides beyond the seed: readdirplus, xattrs, inode identity, FORGET, a directory root.</summary>
[TestClass]
public sealed class MountBehaviourTests
{
    [TestMethod]
    public void Readdirplus_gives_the_kernel_every_attribute_so_no_lookups_follow()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var (entries, errno) = Posix.ReadDirectory(mount[DirectoryComplicated]);
        Assert.AreEqual(0, errno);
        long lookupsBefore = mount.Server.RequestCount(FuseOpcode.Lookup);
        foreach (var entry in entries)
        {
            var stat = Posix.Lstat(mount[DirectoryComplicated + "/" + entry.Name]).Stat;
            Assert.AreEqual(entry.Ino, stat.Inode, $"d_ino of {entry.Name} is its st_ino");
        }

        Assert.IsGreaterThan(0L, mount.Server.RequestCount(FuseOpcode.Readdirplus));
        Assert.AreEqual(lookupsBefore, mount.Server.RequestCount(FuseOpcode.Lookup), "readdirplus entries count as lookups");
    }

    [TestMethod]
    public void Xattrs_show_blob_and_directory_digests()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var file = Posix.GetXattr(mount[BlobA], ExtendedAttributes.BlobDigest, 256);
        Assert.AreEqual(0, file.Errno);
        Assert.AreEqual(Fixtures.BlobADigest.ToString(), Encoding.ASCII.GetString(file.Value));
        StringAssert.StartsWith(Encoding.ASCII.GetString(file.Value), "blake3-");

        var directory = Posix.GetXattr(mount[DirectoryWithKeep], ExtendedAttributes.DirectoryDigest, 256);
        Assert.AreEqual(Fixtures.DirectoryWithKeep.Digest().ToString(), Encoding.ASCII.GetString(directory.Value));

        Assert.AreEqual(file.Value.Length, Posix.GetXattr(mount[BlobA], ExtendedAttributes.BlobDigest, 0).Length, "size 0 asks the length");
        Assert.AreEqual(Errnos.ERANGE, Posix.GetXattr(mount[BlobA], ExtendedAttributes.BlobDigest, 5).Errno);
        Assert.AreEqual(Errnos.ENODATA, Posix.GetXattr(mount[BlobA], "user.unknown", 256).Errno);
        Assert.AreEqual(Errnos.ENODATA, Posix.GetXattr(mount[BlobA], ExtendedAttributes.DirectoryDigest, 256).Errno);
        Assert.AreEqual(Errnos.ENODATA, Posix.GetXattr(mount[SymlinkElsewhere], ExtendedAttributes.BlobDigest, 256).Errno);

        CollectionAssert.AreEqual(new[] { ExtendedAttributes.BlobDigest }, Posix.ListXattr(mount[BlobA]).Names);
        CollectionAssert.AreEqual(new[] { ExtendedAttributes.DirectoryDigest }, Posix.ListXattr(mount[DirectoryWithKeep]).Names);
        Assert.IsEmpty(Posix.ListXattr(mount[SymlinkElsewhere]).Names);
    }

    [TestMethod]
    public void Executable_and_plain_copies_of_one_blob_are_different_inodes()
    {
        var store = SeedStore.Create();
        var both = new Directory
        {
            Files =
            {
                new FileNode { Name = Bytes("plain"), Digest = Fixtures.HelloWorldDigest.ToByteString(), Size = 12 },
                new FileNode { Name = Bytes("run"), Digest = Fixtures.HelloWorldDigest.ToByteString(), Size = 12, Executable = true },
            },
        };
        PutClosure(store.Directories, both);
        Put(store, new Node { Directory = both.ToNode(Bytes("77777777777777777777777777777777-both")) });
        using var mount = TestMount.Start(store);

        var plain = Posix.Stat(mount["77777777777777777777777777777777-both/plain"]).Stat;
        var run = Posix.Stat(mount["77777777777777777777777777777777-both/run"]).Stat;
        Assert.AreNotEqual(plain.Inode, run.Inode);
        Assert.AreEqual(0x124u, plain.Permissions);
        Assert.AreEqual(0x16Du, run.Permissions);
        Assert.AreEqual(run.Inode, Posix.Stat(mount[HelloWorldExecutable]).Stat.Inode, "same blob, same bit: one inode");
    }

    [TestMethod]
    public void Forget_frees_inodes_and_a_new_lookup_works()
    {
        var store = SeedStore.Create();
        var many = new Directory();
        var contents = new Dictionary<string, byte[]>();
        for (int i = 0; i < 300; i++)
        {
            var data = Encoding.ASCII.GetBytes($"file number {i}");
            var digest = store.Blobs.PutAsync(data).GetAwaiter().GetResult();
            many.Files.Add(new FileNode { Name = Bytes($"f{i:D3}"), Digest = digest.ToByteString(), Size = (ulong)data.Length });
            contents[$"f{i:D3}"] = data;
        }

        PutClosure(store.Directories, many);
        const string root = "77777777777777777777777777777777-many";
        Put(store, new Node { Directory = many.ToNode(Bytes(root)) });
        using var mount = TestMount.Start(store);

        var before = contents.Keys.ToDictionary(n => n, n => Posix.Stat(mount[root + "/" + n]).Stat.Inode);
        int tracked = mount.FileSystem.TrackedInodes;
        Assert.IsGreaterThanOrEqualTo(301, tracked);

        File.WriteAllText("/proc/sys/vm/drop_caches", "2");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (mount.FileSystem.TrackedInodes > tracked / 2 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }

        Assert.IsLessThan(tracked / 2, mount.FileSystem.TrackedInodes, "the kernel's FORGETs dropped the inodes");

        foreach (var (name, data) in contents)
        {
            CollectionAssert.AreEqual(data, File.ReadAllBytes(mount[root + "/" + name]));
        }

        var after = contents.Keys.ToDictionary(n => n, n => Posix.Stat(mount[root + "/" + n]).Stat.Inode);
        var byInode = before.Concat(after).GroupBy(kv => kv.Value);
        Assert.IsTrue(byInode.All(g => g.Select(kv => kv.Key).Distinct().Count() == 1), "no inode number was given to other content");
        Assert.IsTrue(after.Any(kv => before[kv.Key] != kv.Value), "forgotten nodes came back under new numbers");
    }

    [TestMethod]
    public void A_directory_digest_can_be_the_root()
    {
        using var mount = TestMount.Start(SeedStore.Create(), new FileSystemOptions { RootDirectory = Fixtures.DirectoryComplicated.Digest() });
        var (entries, errno) = Posix.ReadDirectory(mount.Path);
        Assert.AreEqual(0, errno);
        CollectionAssert.AreEqual(new[] { ".keep", "aa", "keep" }, entries.Select(e => e.Name).ToArray());
        Assert.AreEqual((long)Fixtures.DirectoryComplicated.Size(), Posix.Stat(mount.Path).Stat.Size);
        Assert.AreEqual(Fixtures.DirectoryComplicated.Digest().ToString(), Encoding.ASCII.GetString(Posix.GetXattr(mount.Path, ExtendedAttributes.DirectoryDigest, 256).Value));
        Assert.AreEqual(0, Posix.Stat(mount["keep/.keep"]).Errno);
        Assert.AreEqual(Errnos.ENOENT, Posix.Stat(mount[BlobA]).Errno);
    }

    [TestMethod]
    public void A_root_directory_missing_from_the_store_is_refused_before_mounting()
    {
        var store = new CastoreStore(new MemoryBlobService(), new MemoryDirectoryService(), new MemoryPathInfoService());
        Assert.ThrowsExactly<DirectoryNotFoundException>(() =>
            CastoreFileSystem.OpenAsync(store, new FileSystemOptions { RootDirectory = Fixtures.DirectoryComplicated.Digest() }).GetAwaiter().GetResult());
    }

    [TestMethod]
    public void Warm_reads_and_listings_are_served_from_the_kernel_cache()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        Assert.IsTrue(Fixtures.BlobB.AsSpan().SequenceEqual(File.ReadAllBytes(mount[BlobB])));
        Posix.ReadDirectory(mount[DirectoryComplicated]);
        long reads = mount.Server.RequestCount(FuseOpcode.Read);
        long listings = mount.Server.RequestCount(FuseOpcode.Readdir) + mount.Server.RequestCount(FuseOpcode.Readdirplus);
        long lookups = mount.Server.RequestCount(FuseOpcode.Lookup);

        Assert.IsTrue(Fixtures.BlobB.AsSpan().SequenceEqual(File.ReadAllBytes(mount[BlobB])));
        Posix.ReadDirectory(mount[DirectoryComplicated]);
        Posix.Stat(mount[BlobB]);
        Assert.AreEqual(reads, mount.Server.RequestCount(FuseOpcode.Read), "KEEP_CACHE: the second read sent no READ");
        Assert.AreEqual(listings, mount.Server.RequestCount(FuseOpcode.Readdir) + mount.Server.RequestCount(FuseOpcode.Readdirplus), "CACHE_DIR");
        Assert.AreEqual(lookups, mount.Server.RequestCount(FuseOpcode.Lookup), "long entry timeouts");
    }
}
