using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Hosting;
using CastoreFs.Platforms.Windows.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CastoreFs.Platforms.Windows;

/// <summary>The tree as a read-only Windows drive through WinFsp: one FSP_FILE_SYSTEM, its mount point and its dispatcher.</summary>
[SupportedOSPlatform("windows")]
public sealed unsafe class WinFspMount : IMountTransport
{
    private readonly WinFspFileSystem _adapter;
    private readonly WinFspApi _api;
    private nint _fileSystem;

    private WinFspMount(WinFspFileSystem adapter, WinFspApi api, nint fileSystem)
    {
        _adapter = adapter;
        _api = api;
        _fileSystem = fileSystem;
        var header = (FileSystemHeader*)fileSystem;
        MountPoint = header->MountPoint == null ? string.Empty : new string(header->MountPoint);
    }

    /// <summary>The drive as WinFsp mounted it (<c>S:</c>).</summary>
    public string MountPoint { get; }

    public Task Live => Task.CompletedTask;

    public Task Completion => _adapter.Stopped;

    public string Report => $"castorefs: mounted at {MountPoint} (read-only); unmount with Ctrl-C or Ctrl-Break";

    /// <summary>
    /// Mounts <paramref name="fs"/> as <paramref name="drive"/> (<c>S:</c>, or <c>*</c> for the first free
    /// letter from Z: down) and starts serving it.
    /// </summary>
    public static WinFspMount Start(CastoreFileSystem fs, string drive, WindowsMountOptions options, ILoggerFactory? logging = null)
    {
        var api = WinFspLibrary.Api;
        var adapter = new WinFspFileSystem(fs, api, (logging ?? NullLoggerFactory.Instance).CreateLogger("castorefs.winfsp"));
        nint fileSystem = 0;
        try
        {
            var parameters = VolumeParameters.ReadOnlyTree(fs.Root, options.VolumePrefix);
            int status;

            // A prefix makes a network file system, which WinFsp serves from its other device.
            fixed (char* device = options.VolumePrefix is { Length: > 0 } ? "WinFsp.Net" : "WinFsp.Disk")
            {
                status = api.FileSystemCreate(device, &parameters, WinFspCallbacks.Interface, &fileSystem);
            }

            Check(status, "create the file system");
            ((FileSystemHeader*)fileSystem)->UserContext = GCHandle.ToIntPtr(adapter.Self);
            fixed (char* point = drive == "*" ? null : drive)
            {
                Check(api.SetMountPoint(fileSystem, point), $"mount it at {drive}");
            }

            Check(api.StartDispatcher(fileSystem, (uint)Math.Max(0, options.Threads)), "start its dispatcher");
            return new WinFspMount(adapter, api, fileSystem);
        }
        catch
        {
            if (fileSystem != 0)
            {
                api.FileSystemDelete(fileSystem);
            }

            adapter.Release();
            throw;
        }
    }

    /// <summary>Stops serving, removes the drive and closes what was left open.</summary>
    public void Dispose()
    {
        var fileSystem = Interlocked.Exchange(ref _fileSystem, 0);
        if (fileSystem == 0)
        {
            return;
        }

        _api.StopDispatcher(fileSystem);
        _api.FileSystemDelete(fileSystem);
        _adapter.Release();
    }

    private static void Check(int status, string what)
    {
        if (status < 0)
        {
            throw new IOException($"WinFsp could not {what}: NTSTATUS 0x{status:X8}");
        }
    }
}
