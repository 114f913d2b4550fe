using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Microsoft.Win32;

namespace CastoreFs.Cli.Windows;

/// <summary>
/// What the service mounts, as the installer wrote it under <c>HKLM\SOFTWARE\castorefs</c>: Store (a
/// store URL), Drive (<c>S:</c>), LogLevel. Missing values take the defaults a machine-wide install wants.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed record ServiceSettings(string Store, string Drive, LogLevel LogLevel)
{
    public const string Key = @"SOFTWARE\castorefs";

    /// <summary>Where a machine-wide store and the service's log live: %ProgramData%\castorefs.</summary>
    public static string DataFolder => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "castorefs");

    public static string LogFile => Path.Combine(DataFolder, "service.log");

    public static ServiceSettings Read()
    {
        using var root = RegistryKey.OpenBaseKey(RegistryHive.LocalMachine, RegistryView.Registry64);
        using var key = root.OpenSubKey(Key);
        string Value(string name, string fallback) => key?.GetValue(name) is string { Length: > 0 } value ? value : fallback;
        var level = Enum.TryParse<LogLevel>(Value("LogLevel", nameof(LogLevel.Information)), ignoreCase: true, out var parsed) ? parsed : LogLevel.Information;
        return new ServiceSettings(Value("Store", Path.Combine(DataFolder, "store")), Value("Drive", "S:"), level);
    }
}
