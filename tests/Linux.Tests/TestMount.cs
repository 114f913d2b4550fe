using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.Hosting;
using CastoreFs.Core.Services;
using CastoreFs.Core.Tests;
using CastoreFs.Platforms.Linux;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Linux.Tests;

/// <summary>
/// A real kernel mount of a store, served in this process. Inconclusive, with the reason, where this
/// machine cannot mount (no /dev/fuse, not root).
/// </summary>
internal sealed class TestMount : IDisposable
{
    private readonly TempDirectory _directory;
    private readonly FuseMount _mount;

    private TestMount(TempDirectory directory, CastoreFileSystem fs, FuseMount mount)
    {
        _directory = directory;
        FileSystem = fs;
        _mount = mount;
    }

    public string Path => _mount.MountPoint;

    public CastoreFileSystem FileSystem { get; }

    public FuseServer Server => _mount.Server;

    public long SplicedReplies => _mount.SplicedReplies;

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    /// <summary>Reports the test Inconclusive, with the reason, where this machine cannot mount.</summary>
    public static void RequireFuse()
    {
        var missing = !System.IO.Path.Exists("/dev/fuse") ? "/dev/fuse is missing: this machine cannot mount FUSE filesystems"
            : !Posix.IsRoot ? "in-process test mounts need root (mount(2)); run the tests as root as CI does"
            : null;
        if (missing is not null)
        {
            Assert.Inconclusive(missing);
        }
    }

    public static TestMount Start(CastoreStore store, FileSystemOptions? options = null, bool passthrough = false, int threads = 2, ILogger? logger = null)
    {
        RequireFuse();
        var fs = CastoreFileSystem.OpenAsync(store, options, logger).GetAwaiter().GetResult();
        var directory = new TempDirectory();
        var mountOptions = new LinuxMountOptions { Threads = threads, Passthrough = passthrough };
        var mount = MountHost.StartAsync(() => FuseMount.Start(fs, directory.Path, mountOptions, logger is null ? null : new OneLoggerFactory(logger))).GetAwaiter().GetResult();
        return new TestMount(directory, fs, mount);
    }

    public void Dispose()
    {
        _mount.Dispose();
        FileSystem.Dispose();
        Assert.IsFalse(IsMounted(Path), $"{Path} is still mounted");
        _directory.Dispose();
    }

    public static bool IsMounted(string path) =>
        File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && f[4] == path);
}
