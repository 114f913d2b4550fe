using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Model;
using CastoreFs.Core.Tests;
using static CastoreFs.Linux.Tests.SeedStore;

namespace CastoreFs.Linux.Tests;

/// <summary>Every FUSE test of the seed (tvix-store castore/src/fs/tests.rs), against a real kernel mount.</summary>
[TestClass]
public sealed class SeedFuseTests
{
    [TestMethod]
    public void mount()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        Assert.IsTrue(TestMount.IsMounted(mount.Path));
        StringAssert.Contains(File.ReadAllText("/proc/self/mountinfo"), $"{mount.Path} ro,nosuid,nodev");
    }

    [TestMethod]
    public void root()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var (_, errno) = Posix.ReadDirectory(mount.Path);
        Assert.AreEqual(Errnos.EPERM, errno, "the root is not listable without --list-root");
    }

    [TestMethod]
    public void root_with_listing()
    {
        using var mount = TestMount.Start(SeedStore.Create(), new FileSystemOptions { ListRoot = true });
        var (entries, errno) = Posix.ReadDirectory(mount.Path);
        Assert.AreEqual(0, errno);
        CollectionAssert.AreEqual(AllRoots.Order(StringComparer.Ordinal).ToArray(), entries.Select(e => e.Name).ToArray());
        var blobA = Posix.Stat(mount[BlobA]).Stat;
        Assert.IsTrue(blobA.IsFile);
        Assert.AreEqual(2, blobA.Size);
    }

    [TestMethod]
    public void stat_file_at_root()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var (stat, errno) = Posix.Stat(mount[BlobA]);
        Assert.AreEqual(0, errno);
        Assert.IsTrue(stat.IsFile);
        Assert.AreEqual(0x124u, stat.Permissions);
        Assert.AreEqual(Fixtures.BlobA.Length, stat.Size);
    }

    [TestMethod]
    public void read_file_at_root()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        CollectionAssert.AreEqual(Fixtures.BlobA, File.ReadAllBytes(mount[BlobA]));
    }

    [TestMethod]
    public void read_large_file_at_root()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        Assert.AreEqual(Fixtures.BlobB.Length, Posix.Stat(mount[BlobB]).Stat.Size);
        Assert.IsTrue(Fixtures.BlobB.AsSpan().SequenceEqual(File.ReadAllBytes(mount[BlobB])));
    }

    [TestMethod]
    public void symlink_readlink()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        Assert.AreEqual((BlobA, 0), Posix.ReadLink(mount[SymlinkToBlobA]));
        Assert.IsTrue(Posix.Lstat(mount[SymlinkToBlobA]).Stat.IsSymlink);

        // readlink of something that is not a symlink is EINVAL.
        Assert.AreEqual(Errnos.EINVAL, Posix.ReadLink(mount[BlobA]).Errno);
    }

    [TestMethod]
    public void read_stat_through_symlink()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var through = Posix.Stat(mount[SymlinkToBlobA]).Stat;
        var direct = Posix.Stat(mount[BlobA]).Stat;
        Assert.IsTrue(through.IsFile);
        Assert.AreEqual(Fixtures.BlobA.Length, through.Size);
        Assert.AreEqual(direct.Inode, through.Inode);
        CollectionAssert.AreEqual(Fixtures.BlobA, File.ReadAllBytes(mount[SymlinkToBlobA]));
    }

    [TestMethod]
    public void read_stat_directory()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var (stat, errno) = Posix.Stat(mount[DirectoryWithKeep]);
        Assert.AreEqual(0, errno);
        Assert.IsTrue(stat.IsDirectory);
        Assert.AreEqual(0x16Du, stat.Permissions);
    }

    [TestMethod]
    public void read_blob_inside_dir()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var stat = Posix.Stat(mount[DirectoryWithKeep + "/.keep"]).Stat;
        Assert.IsTrue(stat.IsFile);
        Assert.AreEqual(0x124u, stat.Permissions);
        Assert.AreEqual(0, stat.Size);
        Assert.IsEmpty(File.ReadAllBytes(mount[DirectoryWithKeep + "/.keep"]));
    }

    [TestMethod]
    public void read_blob_deep_inside_dir()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var stat = Posix.Stat(mount[DirectoryComplicated + "/keep/.keep"]).Stat;
        Assert.IsTrue(stat.IsFile);
        Assert.AreEqual(0x124u, stat.Permissions);
        Assert.AreEqual(0, stat.Size);
        Assert.IsEmpty(File.ReadAllBytes(mount[DirectoryComplicated + "/keep/.keep"]));
    }

    [TestMethod]
    public void readdir()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var (entries, errno) = Posix.ReadDirectory(mount[DirectoryComplicated]);
        Assert.AreEqual(0, errno);

        // Name order across files, directories and symlinks; d_type 8 = file, 10 = symlink, 4 = directory.
        CollectionAssert.AreEqual(new[] { ".keep", "aa", "keep" }, entries.Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new byte[] { 8, 10, 4 }, entries.Select(e => e.Type).ToArray());
        Assert.AreEqual(0, Posix.Stat(mount[DirectoryComplicated + "/.keep"]).Stat.Size);
        Assert.AreEqual(("/nix/store/somewhereelse", 0), Posix.ReadLink(mount[DirectoryComplicated + "/aa"]));
        Assert.IsTrue(Posix.Stat(mount[DirectoryComplicated + "/keep"]).Stat.IsDirectory);
    }

    [TestMethod]
    public void readdir_deep()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var (entries, errno) = Posix.ReadDirectory(mount[DirectoryComplicated + "/keep"]);
        Assert.AreEqual(0, errno);
        CollectionAssert.AreEqual(new[] { ".keep" }, entries.Select(e => e.Name).ToArray());
        Assert.AreEqual((byte)8, entries[0].Type);
    }

    [TestMethod]
    public void check_attributes()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        var file = Posix.Lstat(mount[BlobA]).Stat;
        var directory = Posix.Lstat(mount[DirectoryWithKeep]).Stat;
        var symlink = Posix.Lstat(mount[SymlinkToBlobA]).Stat;
        var executable = Posix.Lstat(mount[HelloWorldExecutable]).Stat;

        Assert.AreEqual(0x124u, file.Permissions);
        Assert.AreEqual(0x16Du, directory.Permissions);
        Assert.AreEqual(0x124u, symlink.Permissions);
        Assert.AreEqual(0x16Du, executable.Permissions);
        Assert.AreEqual(2, file.Size);
        Assert.AreEqual((long)Fixtures.DirectoryWithKeep.Size(), directory.Size, "a directory's size is its node's size");
        Assert.AreEqual(BlobA.Length, symlink.Size);
        Assert.AreEqual(12, executable.Size);
        foreach (var stat in new[] { file, directory, symlink, executable })
        {
            Assert.AreEqual(0u, stat.Uid);
            Assert.AreEqual(0u, stat.Gid);

            // The seed had nlink 0 and mtime 0; nlink 0 broke lndir, and /nix/store (which builds embed) has mtime 1.
            Assert.AreEqual(1ul, stat.Links);
            Assert.AreEqual(1L, stat.MtimeSeconds);
        }
    }

    [TestMethod]
    public void compare_inodes_directories()
    {
        // The seed gave equal directories one inode. A Linux directory inode has one dentry, so one inode at
        // two places moves between them and a shell in one finds itself in the other: each place is its own.
        using var mount = TestMount.Start(SeedStore.Create());
        Assert.AreNotEqual(Posix.Stat(mount[DirectoryWithKeep]).Stat.Inode, Posix.Stat(mount[DirectoryComplicated + "/keep"]).Stat.Inode);
        Assert.AreEqual(Posix.Stat(mount[DirectoryWithKeep]).Stat.Inode, Posix.Stat(mount[DirectoryWithKeep]).Stat.Inode, "one place, one inode");
    }

    [TestMethod]
    public void compare_inodes_files()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        Assert.AreEqual(Posix.Stat(mount[DirectoryComplicated + "/.keep"]).Stat.Inode, Posix.Stat(mount[DirectoryComplicated + "/keep/.keep"]).Stat.Inode);
    }

    [TestMethod]
    public void compare_inodes_symlinks()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        Assert.AreEqual(Posix.Lstat(mount[SymlinkElsewhere]).Stat.Inode, Posix.Lstat(mount[DirectoryComplicated + "/aa"]).Stat.Inode);
    }

    [TestMethod]
    public void read_wrong_paths_in_root()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        foreach (var wrong in new[]
        {
            "00000000000000000000000000000000-tes", // a prefix of the name
            "00000000000000000000000000000000-testfoo", // a longer name
            "00000000000000000000000000000000-wrong", // the right hash, another name: upstream later accepted this
            "0000000000000000000000000000000-test", // a short hash
            "00000000000000000000000000000000", // no name
            "foo",
            "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-test", // 'e' is not in nixbase32
        })
        {
            Assert.AreEqual(Errnos.ENOENT, Posix.Stat(mount[wrong]).Errno, wrong);
        }
    }

    [TestMethod]
    public void disallow_writes()
    {
        using var mount = TestMount.Start(SeedStore.Create());
        Assert.AreEqual(Errnos.EROFS, Posix.TryOpen(mount["new"], Posix.O_WRONLY | Posix.O_CREAT));
        Assert.AreEqual(Errnos.EROFS, Posix.TryOpen(mount[BlobA], Posix.O_RDWR));
        Assert.AreEqual(Errnos.EROFS, Posix.TryOpen(mount[DirectoryWithKeep + "/new"], Posix.O_WRONLY | Posix.O_CREAT));
        Assert.ThrowsExactly<IOException>(() => System.IO.Directory.CreateDirectory(mount[DirectoryWithKeep + "/sub"]));
    }

    [TestMethod]
    public void missing_directory()
    {
        using var mount = TestMount.Start(SeedStore.Create(withDirectories: false));
        var (stat, errno) = Posix.Stat(mount[DirectoryWithKeep]);
        Assert.AreEqual(0, errno);
        Assert.IsTrue(stat.IsDirectory);
        Assert.AreEqual(Errnos.EIO, Posix.ReadDirectory(mount[DirectoryWithKeep]).Errno);
        Assert.AreEqual(Errnos.EIO, Posix.Stat(mount[DirectoryWithKeep + "/.keep"]).Errno);

        // The mount survives.
        CollectionAssert.AreEqual(Fixtures.BlobA, File.ReadAllBytes(mount[BlobA]));
    }

    [TestMethod]
    public void missing_blob()
    {
        using var mount = TestMount.Start(SeedStore.Create(withBlobs: false));
        var (stat, errno) = Posix.Stat(mount[BlobB]);
        Assert.AreEqual(0, errno);
        Assert.IsTrue(stat.IsFile);
        Assert.AreEqual(Fixtures.BlobB.Length, stat.Size);

        // The seed fails the open. Without passthrough we decline opens (no_open), so the read fails instead.
        Assert.AreEqual(0, Posix.TryOpen(mount[BlobB], Posix.O_RDONLY));
        Assert.AreEqual(Errnos.EIO, Posix.TryOpenAndRead(mount[BlobB]));
        using (var opening = TestMount.Start(SeedStore.Create(withBlobs: false), passthrough: true))
        {
            Assert.IsTrue(opening.Server.Passthrough);
            Assert.AreEqual(Errnos.EIO, Posix.TryOpen(opening[BlobB], Posix.O_RDONLY));
        }

        // The mount survives.
        Assert.AreEqual(0, Posix.Stat(mount[DirectoryComplicated + "/keep"]).Errno);
    }
}
