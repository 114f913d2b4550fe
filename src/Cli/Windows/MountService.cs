using System.Diagnostics;
using System.Runtime.Versioning;
using System.ServiceProcess;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Services;
using CastoreFs.Platforms.Windows;
using Microsoft.Extensions.Logging;
using Microsoft.Win32;

namespace CastoreFs.Cli.Windows;

/// <summary>
/// The Windows service: mounts the store with the installer's settings when started, unmounts when
/// stopped. Run as LocalSystem, its drive is global, visible to every session.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed partial class MountService : ServiceBase
{
    public const string Name = "castorefs";

    private ILoggerFactory? _logging;
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private CastoreStore? _store;
    private CastoreFileSystem? _tree;
    private WinFspMount? _mount;

    public MountService()
    {
        ServiceName = Name;
        CanStop = true;
        CanShutdown = true;
    }

    protected override void OnStart(string[] args)
    {
        var settings = ServiceSettings.Read();
        _logging = LoggerFactory.Create(builder => builder.SetMinimumLevel(settings.LogLevel).AddProvider(new FileLoggerProvider(ServiceSettings.LogFile)));
        _logger = _logging.CreateLogger("castorefs.service");
        try
        {
            QuoteImagePath();
            RestartAfterCrashes();
            _store = CastoreStore.Open(settings.Store);
            _tree = CastoreFileSystem.OpenAsync(_store, new FileSystemOptions(), _logging.CreateLogger("castorefs.fs")).GetAwaiter().GetResult();
            _mount = WinFspMount.Start(_tree, settings.Drive, new WindowsMountOptions(), _logging);
            LogStarted(_logger, _mount.MountPoint, settings.Store);
        }
        catch (Exception e)
        {
            // The service manager shows only that the start failed; the log says why.
            LogStartFailed(_logger, e);
            Release();
            throw;
        }
    }

    protected override void OnStop()
    {
        LogStopping(_logger);
        Release();
    }

    protected override void OnShutdown() => OnStop();

    private void Release()
    {
        _mount?.Dispose();
        _tree?.Dispose();
        _store?.Dispose();
        (_mount, _tree, _store) = (null, null, null);
        _logging?.Dispose();
        _logging = null;
    }

    /// <summary>
    /// Makes the service's command line quoted. An unquoted path with spaces (C:\Program Files\…) lets
    /// Windows try C:\Program.exe first; some installers (wine's among them) write it unquoted.
    /// </summary>
    private void QuoteImagePath()
    {
        using var key = Registry.LocalMachine.OpenSubKey(@"SYSTEM\CurrentControlSet\Services\" + Name, writable: true);
        if (key?.GetValue("ImagePath", null, RegistryValueOptions.DoNotExpandEnvironmentNames) is string image && !image.StartsWith('"'))
        {
            key.SetValue("ImagePath", $"\"{Environment.ProcessPath}\" service", RegistryValueKind.ExpandString);
            LogImagePathQuoted(_logger, image);
        }
    }

    /// <summary>
    /// Restarts after a crash (5 s, 10 s, then each minute; the count resets after a day). The
    /// installer cannot set this (wixl has no ServiceConfig), so the service sets it on itself.
    /// </summary>
    private void RestartAfterCrashes()
    {
        var start = new ProcessStartInfo("sc.exe") { UseShellExecute = false, CreateNoWindow = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "failure", Name, "reset=", "86400", "actions=", "restart/5000/restart/10000/restart/60000" })
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using var sc = Process.Start(start)!;
            sc.WaitForExit(10_000);
            if (!sc.HasExited || sc.ExitCode != 0)
            {
                LogRecoveryNotSet(_logger, $"sc.exe failure exited {(sc.HasExited ? sc.ExitCode : -1)}");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            LogRecoveryNotSet(_logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "mounted {Drive} from {Store}")]
    private static partial void LogStarted(ILogger logger, string drive, string store);

    [LoggerMessage(Level = LogLevel.Error, Message = "the service could not start")]
    private static partial void LogStartFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: unmounting the drive")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "the service's image path was unquoted ({ImagePath}); quoted it")]
    private static partial void LogImagePathQuoted(ILogger logger, string imagePath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "restart after a crash is not set: {Reason}")]
    private static partial void LogRecoveryNotSet(ILogger logger, string reason);
}
