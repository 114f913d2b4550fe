using System.Diagnostics;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;
using Snix.Castore.V1;
using static CastoreFs.Linux.Tests.SeedStore;

namespace CastoreFs.Linux.Tests;

/// <summary>The <c>castorefs mount</c> command as users run it: signals, daemon mode, a user mount through fusermount3.</summary>
[TestClass]
public sealed class CliMountTests
{
    [TestMethod]
    public void Sigterm_unmounts_and_leaves_nothing_behind()
    {
        TestMount.RequireFuse();
        using var dir = new TempDirectory();
        var (storeDir, mnt) = PrepareStore(dir);
        var cli = new CliRunner(dir.Combine("home"));
        using var mount = MountProcess.Start(cli, "--store", storeDir, "mount", mnt);
        StringAssert.Contains(mount.ReadyLine, "mounted at " + mnt);
        Assert.IsTrue(TestMount.IsMounted(mnt));
        CollectionAssert.AreEqual(Fixtures.HelloWorldBlob, File.ReadAllBytes(Path.Combine(mnt, HelloWorldExecutable)));

        Assert.AreEqual(0, Posix.SendSignal(mount.Id, Errnos.SIGTERM));
        var (exit, stderr) = mount.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.AreEqual(0, exit, stderr);
        Assert.IsFalse(TestMount.IsMounted(mnt), "SIGTERM left the mount behind");
    }

    [TestMethod]
    public void Daemon_returns_once_the_mount_is_live_and_ends_when_unmounted_from_outside()
    {
        TestMount.RequireFuse();
        using var dir = new TempDirectory();
        var (storeDir, mnt) = PrepareStore(dir);
        var cli = new CliRunner(dir.Combine("home"));
        var (exit, stdout, stderr) = cli.Run("--store", storeDir, "mount", "--daemon", "--root", Fixtures.DirectoryComplicated.Digest().ToHex(), mnt);
        Assert.AreEqual(0, exit, stderr);
        StringAssert.Contains(stdout, "daemon pid");
        var pid = int.Parse(stdout[(stdout.LastIndexOf("pid ", StringComparison.Ordinal) + 4)..].TrimEnd(')', '\n'), System.Globalization.CultureInfo.InvariantCulture);
        using var daemon = Process.GetProcessById(pid);

        // Live the moment the command returned, with the directory as its root.
        Assert.AreEqual(0, Posix.Stat(Path.Combine(mnt, "keep", ".keep")).Errno);

        using (var umount = Process.Start("umount", mnt))
        {
            umount.WaitForExit();
            Assert.AreEqual(0, umount.ExitCode);
        }

        Assert.IsTrue(daemon.WaitForExit(30_000), "the daemon did not exit after an outside unmount");
    }

    [TestMethod]
    public void A_user_mounts_through_fusermount3()
    {
        TestMount.RequireFuse();
        if (Tools.Find("fusermount3") is null || Tools.Find("setpriv") is null)
        {
            Assert.Inconclusive("fusermount3 (apt install fuse3) and setpriv are needed; .ci/run installs them");
        }

        if ((File.GetUnixFileMode("/dev/fuse") & UnixFileMode.OtherWrite) == 0)
        {
            // fusermount3 opens /dev/fuse as the calling user; udev makes it 0666, a container may not.
            Assert.Inconclusive("/dev/fuse is not open to users (no udev rule made it 0666); sudo .ci/install-deps opens it");
        }

        using var dir = new TempDirectory();
        var (storeDir, mnt) = PrepareStore(dir);

        // The build output may live where nobody cannot read (/root); give the user its own copy.
        var bin = dir.Combine("bin");
        CopyDirectory(AppContext.BaseDirectory, bin);
        Run("chown", "-R", "65534:65534", dir.Path);

        var start = new ProcessStartInfo("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Path.Combine(bin, "castorefs"), "--store", storeDir, "mount", mnt]);
        start.Environment["HOME"] = dir.Path;
        using var mount = MountProcess.Start(start, out var failure);
        Assert.IsNotNull(mount, failure);
        StringAssert.Contains(mount.ReadyLine, "fusermount3 -u");
        StringAssert.Contains(File.ReadAllText("/proc/self/mountinfo"), $"{mnt} ro,nosuid,nodev");

        var asNobody = RunAs("cat", Path.Combine(mnt, HelloWorldExecutable));
        Assert.AreEqual("Hello World!", asNobody);

        // Without allow_other only the mounting user gets in, root included.
        Assert.AreEqual(Errnos.EACCES, Posix.Stat(Path.Combine(mnt, HelloWorldExecutable)).Errno);

        RunAs("fusermount3", "-u", mnt);
        var (exit, stderr) = mount.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.AreEqual(0, exit, stderr);
        Assert.IsFalse(TestMount.IsMounted(mnt));
    }

    /// <summary>An embedded store with the seed's roots, and an empty mount point.</summary>
    private static (string StoreDir, string MountPoint) PrepareStore(TempDirectory dir)
    {
        var storeDir = dir.Combine("store");
        using (var store = CastoreStore.Open(storeDir))
        {
            foreach (var blob in new[] { Fixtures.BlobA, Fixtures.HelloWorldBlob, [] })
            {
                store.Blobs.PutAsync(blob).GetAwaiter().GetResult();
            }

            PutClosure(store.Directories, Fixtures.DirectoryWithKeep, Fixtures.DirectoryComplicated);
            Put(store, new Node { File = new FileNode { Name = Bytes(HelloWorldExecutable), Digest = Fixtures.HelloWorldDigest.ToByteString(), Size = 12, Executable = true } });
            Put(store, new Node { Directory = Fixtures.DirectoryComplicated.ToNode(Bytes(DirectoryComplicated)) });
        }

        var mnt = dir.Combine("mnt");
        System.IO.Directory.CreateDirectory(mnt);
        return (storeDir, mnt);
    }

    private static string RunAs(string program, params string[] args) =>
        Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", program, .. args]);

    /// <summary>Stdout of a program that must succeed (the shared <see cref="Tools.RunBytes"/> throws with its stderr otherwise).</summary>
    private static string Run(string program, params string[] args) =>
        System.Text.Encoding.UTF8.GetString(Tools.RunBytes(program, new Dictionary<string, string?>(), args));

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in System.IO.Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
