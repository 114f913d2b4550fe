using System.Security.Cryptography;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services;
using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;
using CastoreFs.Virtio;
using Snix.Castore.V1;
using static CastoreFs.Linux.Tests.SeedStore;

namespace CastoreFs.Linux.Tests.Virtio;

/// <summary>
/// The store served over vhost-user-fs to real Debian guest kernels under QEMU: 6.1 (virtio-fs as
/// modules, one request queue) and 6.12 (built in, two request queues on two vCPUs).
/// </summary>
[TestClass]
public sealed class VirtioGuestTests
{
    private const string MissingDirectory = "77777777777777777777777777777777-test";
    private const string MissingBlob = "88888888888888888888888888888888-test";
    private const string Big = "99999999999999999999999999999999-big";

    [TestMethod]
    [DataRow("6.1", 1)]
    [DataRow("6.12", 2)]
    public void A_guest_passes_the_seed_checks_mounts_again_and_reboots(string series, int queues)
    {
        var kernel = GuestKernel.Require(series);
        var big = RandomNumberGenerator.GetBytes((5 << 20) + 777);
        var store = SeedStore.Create();
        Put(store, new Node { Directory = new DirectoryNode { Name = Bytes(MissingDirectory), Digest = Blake3Hasher.Hash("absent"u8).ToByteString(), Size = 1 } });
        Put(store, new Node { File = new FileNode { Name = Bytes(MissingBlob), Digest = Blake3Hasher.Hash("absent too"u8).ToByteString(), Size = 10 } });
        var bigDigest = store.Blobs.PutAsync(big).GetAwaiter().GetResult();
        Put(store, new Node { File = new FileNode { Name = Bytes(Big), Digest = bigDigest.ToByteString(), Size = (ulong)big.Length } });

        using var dir = new TempDirectory();
        var logger = new CapturingLogger();
        using var fs = CastoreFileSystem.OpenAsync(store).GetAwaiter().GetResult();
        using var transport = VirtioFsTransport.Start(fs, dir.Combine("fs.sock"), logging: new OneLoggerFactory(logger));
        using var vm = GuestVm.Boot(kernel, transport.SocketPath, cpus: queues, requestQueues: queues);
        try
        {
            vm.Check("mount -t virtiofs store /mnt");
            StringAssert.Contains(vm.Check("grep virtiofs /proc/mounts"), "store /mnt virtiofs");
            SeedChecks(vm, big, logger);

            // umount sends DESTROY; mounting again is a new session on the same daemon.
            vm.Check("umount /mnt");
            Assert.IsFalse(transport.Server.SessionLive, "DESTROY ended the session");
            vm.Check("mount -t virtiofs store /mnt");
            Assert.AreEqual(Sha256(big), vm.Check($"sha256sum /mnt/{Big} | cut -d' ' -f1"));

            // A reboot resets the device with the session live; the new kernel's INIT starts clean.
            vm.Reboot();
            vm.Check("mount -t virtiofs store /mnt");
            Assert.AreEqual(Sha256(Fixtures.BlobB), vm.Check($"sha256sum /mnt/{BlobB} | cut -d' ' -f1"));
            Assert.AreEqual(3, transport.Server.Sessions, "mount, mount again, mount after the reboot");
            if (queues > 1)
            {
                // Both request queues carried requests (queue 0 is hiprio): the guest maps one to each vCPU.
                vm.Check("cat /sys/fs/virtiofs/*/mqs/*/cpu_list");
                vm.Check($"taskset 2 sha256sum /mnt/{DirectoryComplicated}/keep/.keep; taskset 1 sha256sum /mnt/{BlobA}");
            }

            vm.PowerOff();
            Assert.IsTrue(transport.Completion.Wait(TimeSpan.FromSeconds(30)), "the front-end went away: the back-end ends, as virtiofsd does");
            Assert.AreEqual(0L, transport.Malformed, "a Linux guest sends no malformed chain");
            Assert.IsEmpty(logger.Warnings.Where(w => !w.Contains("failed: EIO", StringComparison.Ordinal) && !w.Contains("failed: EPERM", StringComparison.Ordinal) && !w.Contains("INIT while a session", StringComparison.Ordinal)), string.Join('\n', logger.Warnings));
        }
        catch (AssertFailedException e)
        {
            throw new AssertFailedException($"{e.Message}\n--- console ---\n{vm.Console}\n--- log ---\n{string.Join('\n', logger.Warnings)}", e);
        }
    }

    [TestMethod]
    public void The_virtiofs_command_exits_after_the_front_end_leaves()
    {
        var kernel = GuestKernel.Require("6.1");
        using var dir = new TempDirectory();
        var (cli, tree, storePath) = ImportedTree(dir);
        using var daemon = MountProcess.Start(cli, "virtiofs", "--socket-path", dir.Combine("fs.sock"));
        StringAssert.Contains(daemon.ReadyLine, "vhost-user-fs-pci");
        using (var vm = GuestVm.Boot(kernel, dir.Combine("fs.sock")))
        {
            vm.Check("mount -t virtiofs store /mnt");
            CompareTree(vm, tree, "/mnt/" + storePath);
            vm.PowerOff();
        }

        var (exit, stderr) = daemon.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.AreEqual(0, exit, stderr);
        Assert.IsFalse(File.Exists(dir.Combine("fs.sock")), "the socket is removed");
    }

    [TestMethod]
    public void The_virtiofs_command_keeps_listening_for_the_next_guest_and_exits_0_on_SIGTERM()
    {
        var kernel = GuestKernel.Require("6.12");
        using var dir = new TempDirectory();
        var (cli, tree, storePath) = ImportedTree(dir);
        using var daemon = MountProcess.Start(cli, "virtiofs", "--socket-path", dir.Combine("fs.sock"), "--keep-listening", "--threads", "2");
        for (int guest = 0; guest < 2; guest++)
        {
            using var vm = GuestVm.Boot(kernel, dir.Combine("fs.sock"), cpus: 2, requestQueues: 2);
            vm.Check("mount -t virtiofs store /mnt");
            CompareTree(vm, tree, "/mnt/" + storePath);
            vm.PowerOff();
        }

        Assert.AreEqual(0, Posix.SendSignal(daemon.Id, Errnos.SIGTERM));
        var (exit, stderr) = daemon.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.AreEqual(0, exit, stderr);
    }

    private static void SeedChecks(GuestVm vm, byte[] big, CapturingLogger logger)
    {
        // The root is not listable without --list-root. busybox drops readdir errors (it lists nothing), so
        // the EPERM the guest's kernel got is read from the server's log; names that are not store paths are ENOENT.
        Assert.AreEqual(string.Empty, vm.Check("ls /mnt"));
        Assert.IsTrue(logger.Warnings.Any(w => w.StartsWith("Readdir", StringComparison.Ordinal) && w.EndsWith("on node 1 failed: EPERM", StringComparison.Ordinal)), string.Join('\n', logger.Warnings));
        foreach (var wrong in new[] { "00000000000000000000000000000000-tes", "00000000000000000000000000000000-wrong", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-test", "foo" })
        {
            StringAssert.Contains(vm.Run($"stat /mnt/{wrong}").Output, "No such file or directory", wrong);
        }

        // Modes, sizes, links, owners and times as the kernel mount shows them.
        Assert.AreEqual("444 2 1 0 0 1 regular file", vm.Check($"stat -c '%a %s %h %u %g %Y %F' /mnt/{BlobA}"));
        Assert.AreEqual("555 12 1 regular file", vm.Check($"stat -c '%a %s %h %F' /mnt/{HelloWorldExecutable}"));
        Assert.AreEqual($"555 {Fixtures.DirectoryWithKeep.Size()} directory", vm.Check($"stat -c '%a %s %F' /mnt/{DirectoryWithKeep}"));
        Assert.AreEqual($"444 {BlobA.Length} symbolic link", vm.Check($"stat -c '%a %s %F' /mnt/{SymlinkToBlobA}"));
        Assert.AreEqual("/nix/store/somewhereelse", vm.Check($"readlink /mnt/{SymlinkElsewhere}"));

        // Small and large reads (a large READ arrives as one descriptor per page), through a symlink too.
        Assert.AreEqual(Sha256(Fixtures.BlobA), vm.Check($"sha256sum /mnt/{BlobA} | cut -d' ' -f1"));
        Assert.AreEqual(Sha256(Fixtures.BlobA), vm.Check($"sha256sum /mnt/{SymlinkToBlobA} | cut -d' ' -f1"));
        Assert.AreEqual(Sha256(Fixtures.BlobB), vm.Check($"sha256sum /mnt/{BlobB} | cut -d' ' -f1"));
        Assert.AreEqual(Sha256(big), vm.Check($"sha256sum /mnt/{Big} | cut -d' ' -f1"));
        Assert.AreEqual(Sha256(big.AsSpan(4096 * 3, 1 << 20).ToArray()), vm.Check($"dd if=/mnt/{Big} bs=4096 skip=3 count=256 2>/dev/null | sha256sum | cut -d' ' -f1"));
        Assert.AreEqual("Hello World!", vm.Check($"cat /mnt/{HelloWorldExecutable}"));

        // Directories, deep and shallow (a FUSE server lists no . and .., as on the host), and one inode for one content.
        Assert.AreEqual(".keep aa keep", vm.Check($"ls -a /mnt/{DirectoryComplicated} | tr '\\n' ' ' | sed 's/ $//'"));
        Assert.AreEqual(".keep", vm.Check($"ls -a /mnt/{DirectoryComplicated}/keep | tr '\\n' ' ' | sed 's/ $//'"));
        var inodes = vm.Check($"stat -c %i /mnt/{DirectoryComplicated}/.keep /mnt/{DirectoryComplicated}/keep/.keep").Split('\n');
        Assert.HasCount(2, inodes);
        Assert.AreEqual(inodes[0], inodes[1]);

        // Writes are EROFS; a missing directory or blob is EIO, and the mount goes on.
        StringAssert.Contains(vm.Run($"touch /mnt/{DirectoryWithKeep}/new").Output, "Read-only file system");
        StringAssert.Contains(vm.Run($"echo x > /mnt/{BlobA}").Output, "Read-only file system");
        StringAssert.Contains(vm.Run($"mkdir /mnt/{DirectoryWithKeep}/sub").Output, "Read-only file system");
        StringAssert.Contains(vm.Run($"stat /mnt/{MissingDirectory}/x").Output, "Input/output error");
        StringAssert.Contains(vm.Run($"cat /mnt/{MissingBlob}").Output, "Input/output error");
        Assert.AreEqual(Sha256(Fixtures.BlobA), vm.Check($"sha256sum /mnt/{BlobA} | cut -d' ' -f1"));
    }

    /// <summary>A folder of small and large files and a symlink, imported into an embedded store by the CLI.</summary>
    private static (CliRunner Cli, string Tree, string StorePath) ImportedTree(TempDirectory dir)
    {
        var tree = dir.Combine("tree");
        System.IO.Directory.CreateDirectory(Path.Combine(tree, "sub", "deeper"));
        for (int i = 0; i < 50; i++)
        {
            File.WriteAllBytes(Path.Combine(tree, i % 2 == 0 ? "sub" : "sub/deeper", $"f{i}"), RandomNumberGenerator.GetBytes(i * 997));
        }

        File.WriteAllBytes(Path.Combine(tree, "large"), RandomNumberGenerator.GetBytes(9 << 20));
        File.CreateSymbolicLink(Path.Combine(tree, "link"), "sub/f2");
        var cli = new CliRunner(dir.Combine("data"));
        var (exit, stdout, stderr) = cli.Run("import", tree);
        Assert.AreEqual(0, exit, stderr);
        return (cli, tree, stdout.Trim()["/nix/store/".Length..]);
    }

    /// <summary>Every file's checksum in the guest equals the host's.</summary>
    private static void CompareTree(GuestVm vm, string tree, string guestPath)
    {
        var host = System.IO.Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories)
            .Select(f => $"{Sha256(File.ReadAllBytes(f))}  .{f[tree.Length..]}")
            .Order(StringComparer.Ordinal);
        var guest = vm.Check($"cd {guestPath} && find . -type f -o -type l | sort | xargs sha256sum; cd /").Split('\n').Order(StringComparer.Ordinal);
        CollectionAssert.AreEqual(host.ToArray(), guest.ToArray());
    }

    private static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
