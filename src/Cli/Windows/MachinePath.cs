using System.Runtime.Versioning;
using Microsoft.Win32;

namespace CastoreFs.Cli.Windows;

/// <summary>
/// The machine-wide PATH, edited one entry at a time (the installer runs these: wixl has no Environment
/// element). The value keeps its unexpanded %VARIABLES% and its type.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class MachinePath
{
    private const string Key = @"SYSTEM\CurrentControlSet\Control\Session Manager\Environment";

    public static void Add(string folder) => Edit(entries =>
    {
        if (!entries.Any(e => Same(e, folder)))
        {
            entries.Add(folder.TrimEnd('\\'));
        }
    });

    public static void Remove(string folder) => Edit(entries => entries.RemoveAll(e => Same(e, folder)));

    private static bool Same(string entry, string folder) => string.Equals(entry.TrimEnd('\\'), folder.TrimEnd('\\'), StringComparison.OrdinalIgnoreCase);

    private static void Edit(Action<List<string>> change)
    {
        using var root = RegistryKey.OpenBaseKey(RegistryHive.LocalMachine, RegistryView.Registry64);
        using var key = root.OpenSubKey(Key, writable: true) ?? throw new InvalidOperationException($@"HKLM\{Key} is missing");
        var value = key.GetValue("Path", string.Empty, RegistryValueOptions.DoNotExpandEnvironmentNames) as string ?? string.Empty;
        var kind = key.GetValueNames().Contains("Path", StringComparer.OrdinalIgnoreCase) ? key.GetValueKind("Path") : RegistryValueKind.ExpandString;
        var entries = value.Split(';', StringSplitOptions.RemoveEmptyEntries).ToList();
        change(entries);
        key.SetValue("Path", string.Join(';', entries), kind);
    }
}
