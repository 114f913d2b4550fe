using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CastoreFs.Platforms.Windows.Interop;
using Microsoft.Win32;

namespace CastoreFs.Platforms.Windows;

/// <summary>
/// WinFsp's DLL, loaded from where WinFsp's installer put it and never from anywhere else: it finds its
/// kernel driver from a file beside it, so a copy would talk to no driver.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class WinFspLibrary
{
    /// <summary>The major version whose ABI this binding follows (unchanged since WinFsp 2.0).</summary>
    public const uint MajorVersion = 2;

    private static readonly Lazy<WinFspApi> Bound = new(Load);

    public static WinFspApi Api => Bound.Value;

    /// <summary>The DLL for this process's architecture, as WinFsp names it.</summary>
    public static string DllName => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "winfsp-x64.dll",
        Architecture.Arm64 => "winfsp-a64.dll",
        Architecture.X86 => "winfsp-x86.dll",
        var other => throw new PlatformNotSupportedException($"WinFsp has no DLL for {other}"),
    };

    private static unsafe WinFspApi Load()
    {
        // WinFsp's installer is 32-bit and writes its key in the 32-bit view (WOW6432Node on 64-bit Windows).
        using var root = RegistryKey.OpenBaseKey(RegistryHive.LocalMachine, RegistryView.Registry32);
        using var key = root.OpenSubKey(@"SOFTWARE\WinFsp");
        if (key?.GetValue("InstallDir") is not string installDir || installDir.Length == 0)
        {
            throw new DllNotFoundException(
                @"WinFsp is not installed (no InstallDir in HKLM\SOFTWARE\WinFsp): install WinFsp 2.x from https://winfsp.dev/rel/");
        }

        var path = Path.Combine(installDir, "bin", DllName);
        if (!NativeLibrary.TryLoad(path, out var library))
        {
            throw new DllNotFoundException($"WinFsp's {DllName} did not load from {path}: reinstall WinFsp 2.x");
        }

        var api = WinFspApi.Bind(name => NativeLibrary.TryGetExport(library, name, out var address)
            ? address
            : throw new EntryPointNotFoundException($"{path} has no export {name}: it is not a WinFsp 2.x DLL"));
        uint version = 0;
        int status = api.Version(&version);
        if (status < 0 || version >> 16 != MajorVersion)
        {
            throw new DllNotFoundException($"{path} is WinFsp {version >> 16}.{version & 0xFFFF}; castorefs needs WinFsp {MajorVersion}.x");
        }

        return api;
    }
}
