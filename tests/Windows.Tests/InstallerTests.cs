using System.Diagnostics;
using CastoreFs.Core.Tests;

namespace CastoreFs.Windows.Tests;

/// <summary>The MSI that installer/build makes with wixl: its tables read with msiinfo, and installs, an upgrade and an uninstall under wine.</summary>
[TestClass]
public sealed class InstallerTests
{
    private const string Old = "0.11.0";
    private const string New = "0.11.1";
    private static readonly Dictionary<string, Lazy<Task<string>>> Built = new()
    {
        [Old] = new(() => BuildAsync(Old)),
        [New] = new(() => BuildAsync(New)),
    };

    private static string Out => Path.Combine(WineHost.Root, "msi");

    private static string Installed(string prefix) => Path.Combine(prefix, "drive_c", "Program Files", "CastoreFs");

    [TestMethod]
    [Timeout(900_000)]
    public async Task The_msi_has_the_service_the_winfsp_condition_the_upgrade_and_every_published_file()
    {
        var msi = await MsiAsync(Old);
        var service = Row(await ExportAsync(msi, "ServiceInstall"), "CastorefsService");
        CollectionAssert.AreEqual(new[] { "castorefs", "CastoreFs store drive", "16", "2", "1" }, service[1..6], "own process, automatic, normal errors");
        Assert.AreEqual("LocalSystem", service[8]);
        Assert.AreEqual("service", service[10]);
        CollectionAssert.AreEqual(new[] { "castorefs", "163" }, Row(await ExportAsync(msi, "ServiceControl"), "CastorefsServiceControl")[1..3], "start at install, stop both ways, remove at uninstall");
        var condition = Row(await ExportAsync(msi, "LaunchCondition"), "Installed OR WINFSPDIR");
        StringAssert.Contains(condition[1], "https://winfsp.dev/rel/");
        StringAssert.Contains(condition[1], "WinFsp - Windows File System Proxy, Copyright (C) Bill Zissimopoulos");
        CollectionAssert.AreEqual(new[] { "2", @"SOFTWARE\WinFsp", "InstallDir", "2" }, Row(await ExportAsync(msi, "RegLocator"), "WinFspInstallDir")[1..5], "HKLM, raw, in the 32-bit view");
        var upgrades = await ExportAsync(msi, "Upgrade");
        Assert.AreEqual(2, upgrades.Count(r => r[0] == "{C5A7F0E2-3B1D-4C8E-9F60-2D4E8A1B7C35}"), "MajorUpgrade: older and newer");
        var registry = await ExportAsync(msi, "Registry");
        string Value(string name) => registry.Single(r => r[3] == name)[4];
        Assert.AreEqual("[INSTALLDIR]castorefs.exe", Value("Executable"));
        Assert.AreEqual("mount %2 --volume-prefix %1 --store \"[STORE]\"", Value("CommandLine"));
        Assert.AreEqual("#1", Value("JobControl"));
        Assert.AreEqual("[DRIVE]", Value("Drive"));
        var components = await ExportAsync(msi, "Component");
        Assert.AreEqual("4", Row(components, "Launcher")[3], "the launcher's key is 32-bit (WOW6432Node), where WinFsp's launcher reads");
        Assert.AreEqual("256", Row(components, "Service")[3], "the program is 64-bit");

        var files = (await ExportAsync(msi, "File")).Select(r => r[2].Split('|')[^1]).ToHashSet(StringComparer.Ordinal);
        var published = Directory.EnumerateFiles(Path.Combine(Out, $"work-{Old}", "publish"), "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.IsTrue(published.Count > 300, $"{published.Count} files published");
        CollectionAssert.IsSubsetOf(published.Distinct().ToList(), files.ToList(), "every published name is in the MSI");
        Assert.AreEqual(published.Count, (await ExportAsync(msi, "File")).Count, "and every published file, once");
        Assert.IsFalse(files.Any(f => f!.StartsWith("winfsp", StringComparison.OrdinalIgnoreCase)), "WinFsp's DLL is never shipped");
    }

    [TestMethod]
    [Timeout(1_200_000)]
    public async Task Under_wine_it_installs_only_with_winfsp_runs_the_service_upgrades_and_uninstalls_cleanly()
    {
        await WineHost.RequireAsync();
        string oldMsi = await MsiAsync(Old), newMsi = await MsiAsync(New);
        var prefix = Path.Combine(WineHost.Root, "prefix-msi");
        if (Directory.Exists(prefix))
        {
            Directory.Delete(prefix, recursive: true);
        }

        await Wine(prefix, 0, "wineboot", "-i");

        // A service gets the machine's environment, not ours: wine 8 needs W^X off for .NET there too.
        await Wine(prefix, 0, "reg", "add", @"HKLM\System\CurrentControlSet\Control\Session Manager\Environment", "/v", "DOTNET_EnableWriteXorExecute", "/t", "REG_SZ", "/d", "0", "/f");
        await WineHost.RunInAsync(prefix, "wineserver", "-k");

        // A wine process that stays: wine ends services when the last other wine process exits.
        using var keeper = Process.Start(new ProcessStartInfo("wine", ["cmd"]) { RedirectStandardInput = true, RedirectStandardOutput = true, Environment = { ["WINEPREFIX"] = prefix, ["WINEDEBUG"] = "-all" } })!;
        try
        {
            // No WinFsp: 1603 (wine cuts exit codes to 8 bits: 67), and nothing is left behind.
            var (exit, output) = await WineHost.RunInAsync(prefix, "wine", "msiexec", "/i", WineHost.Windows(oldMsi), "/qn");
            Assert.AreEqual(1603 & 0xFF, exit, output);
            Assert.IsFalse(Directory.Exists(Installed(prefix)), "no files without WinFsp");
            Assert.AreNotEqual(0, (await WineHost.RunInAsync(prefix, "wine", "reg", "query", @"HKLM\SOFTWARE\castorefs")).Exit, "no settings without WinFsp");

            await Wine(prefix, 0, "reg", "add", @"HKLM\SOFTWARE\WinFsp", "/v", "InstallDir", "/t", "REG_SZ", "/d", WineHost.Windows(Path.Combine(WineHost.Root, "winfsp")) + "\\", "/reg:32", "/f");
            var store = Path.Combine(WineHost.Root, "msi-store");
            await Wine(prefix, 0, "msiexec", "/i", WineHost.Windows(oldMsi), "/qn", $"STORE={WineHost.Windows(store)}", "DRIVE=T:", "LOGLEVEL=Debug");
            AssertInstalled(prefix, Path.Combine(Out, $"work-{Old}", "publish"));
            var settings = await Wine(prefix, 0, "reg", "query", @"HKLM\SOFTWARE\castorefs");
            StringAssert.Contains(settings, WineHost.Windows(store));
            StringAssert.Contains(settings, "T:");
            StringAssert.Contains(settings, "Debug");
            StringAssert.Contains(await Wine(prefix, 0, "reg", "query", @"HKLM\SOFTWARE\WinFsp\Services\castorefs", "/reg:32"), "--volume-prefix");
            StringAssert.Contains(await Wine(prefix, 0, "reg", "query", @"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment", "/v", "Path"), @"C:\Program Files\CastoreFs", "castorefs is on PATH");
            // wine's sc has no qc: the service's key says how it was installed.
            var config = await Wine(prefix, 0, "reg", "query", @"HKLM\SYSTEM\CurrentControlSet\Services\castorefs");
            StringAssert.Contains(config, "LocalSystem");
            StringAssert.Contains(config, "Start    REG_DWORD    0x2", "automatic start");

            // The installer started the service: it mounted T: against the WinFsp double with the installer's
            // settings and quoted its own image path. It stops, and starts and stops again.
            var log = Path.Combine(prefix, "drive_c", "ProgramData", "castorefs", "service.log");
            await WaitForAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("mounted T:", StringComparison.Ordinal), "the service's log says it mounted T:", log);
            StringAssert.Contains(await Wine(prefix, 0, "reg", "query", @"HKLM\SYSTEM\CurrentControlSet\Services\castorefs", "/v", "ImagePath"), "\"C:\\Program Files\\CastoreFs\\castorefs.exe\" service");
            await StopAsync(prefix, log);
            await Wine(prefix, 0, "sc", "start", "castorefs");
            await WaitForAsync(async () => (await WineHost.RunInAsync(prefix, "wine", "sc", "query", "castorefs")).Output.Contains("RUNNING", StringComparison.Ordinal), "the service runs", log);
            await StopAsync(prefix, log);
            Assert.AreEqual(2, File.ReadAllLines(log).Count(l => l.Contains("stopping: unmounting", StringComparison.Ordinal)), File.ReadAllText(log));

            // An upgrade replaces the old build.
            await Wine(prefix, 0, "msiexec", "/i", WineHost.Windows(newMsi), "/qn");
            AssertInstalled(prefix, Path.Combine(Out, $"work-{New}", "publish"));
            StringAssert.StartsWith((await WineHost.RunInAsync(prefix, "wine", Path.Combine(Installed(prefix), "castorefs.exe"), "--version")).Output.Trim(), New);

            // Uninstall takes files, service, settings, the launcher's key and the PATH entry.
            await Wine(prefix, 0, "msiexec", "/x", WineHost.Windows(newMsi), "/qn");
            Assert.IsFalse(Directory.Exists(Installed(prefix)) && Directory.EnumerateFileSystemEntries(Installed(prefix)).Any(), "no files left");
            Assert.AreNotEqual(0, (await WineHost.RunInAsync(prefix, "wine", "reg", "query", @"HKLM\SYSTEM\CurrentControlSet\Services\castorefs")).Exit, "no service left");
            Assert.AreNotEqual(0, (await WineHost.RunInAsync(prefix, "wine", "reg", "query", @"HKLM\SOFTWARE\castorefs")).Exit, "no settings left");
            Assert.AreNotEqual(0, (await WineHost.RunInAsync(prefix, "wine", "reg", "query", @"HKLM\SOFTWARE\WinFsp\Services\castorefs", "/reg:32")).Exit, "no launcher key left");
            Assert.IsFalse((await Wine(prefix, 0, "reg", "query", @"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment", "/v", "Path")).Contains("CastoreFs", StringComparison.Ordinal), "off PATH");
        }
        finally
        {
            keeper.StandardInput.Close();
            keeper.Kill();
        }
    }

    private static async Task StopAsync(string prefix, string log)
    {
        await Wine(prefix, 0, "sc", "stop", "castorefs");
        await WaitForAsync(async () => (await WineHost.RunInAsync(prefix, "wine", "sc", "query", "castorefs")).Output.Contains("STOPPED", StringComparison.Ordinal), "the service stops", log);
    }

    private static void AssertInstalled(string prefix, string publish)
    {
        foreach (var file in Directory.EnumerateFiles(publish, "*", SearchOption.AllDirectories))
        {
            var installed = Path.Combine(Installed(prefix), Path.GetRelativePath(publish, file));
            Assert.IsTrue(File.Exists(installed), installed);
            CollectionAssert.AreEqual(File.ReadAllBytes(file), File.ReadAllBytes(installed), installed);
        }
    }

    private static async Task<string> Wine(string prefix, int expected, params string[] args)
    {
        // msiexec says why it failed only in its log.
        var log = Path.Combine(WineHost.Root, "msiexec.log");
        File.Delete(log);
        if (args[0] == "msiexec")
        {
            args = [.. args, "/l*v", WineHost.Windows(log)];
        }

        var (exit, output) = await WineHost.RunInAsync(prefix, "wine", args);
        if (exit != expected && File.Exists(log))
        {
            output += string.Join('\n', File.ReadAllLines(log).Where(l => l.Contains("Return value 3", StringComparison.Ordinal) || l.Contains("rror", StringComparison.Ordinal)).Take(30));
        }

        Assert.AreEqual(expected, exit, $"wine {string.Join(' ', args)}:\n{output}");
        return output;
    }

    private static Task WaitForAsync(Func<bool> done, string what, string log) => WaitForAsync(() => Task.FromResult(done()), what, log);

    private static async Task WaitForAsync(Func<Task<bool>> done, string what, string log)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(60), $"{what}; log:\n{(File.Exists(log) ? File.ReadAllText(log) : "(none)")}");
            await Task.Delay(250);
        }
    }

    private static async Task<string> MsiAsync(string version)
    {
        foreach (var tool in new[] { "wixl", "wixl-heat", "msiinfo" })
        {
            if (Tools.Find(tool) is null)
            {
                Assert.Inconclusive($"{tool} is not installed (apt-get install wixl msitools, as .ci/install-deps does)");
            }
        }

        return await Built[version].Value;
    }

    private static async Task<string> BuildAsync(string version)
    {
        var (exit, output) = await WineHost.RunInAsync(WineHost.Prefix, Path.Combine(WineHost.Repository, "installer", "build"), "--version", version, "--out", Out);
        Assert.AreEqual(0, exit, output);
        return output.Trim().Split('\n')[^1];
    }

    private static async Task<List<string[]>> ExportAsync(string msi, string table)
    {
        var (exit, output) = await WineHost.RunInAsync(WineHost.Prefix, "msiinfo", "export", msi, table);
        Assert.AreEqual(0, exit, output);

        // Three header lines: column names, types, the table's name and key.
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(3).Select(l => l.TrimEnd('\r').Split('\t'))];
    }

    private static string[] Row(List<string[]> rows, string key) => rows.Single(r => r[0] == key);
}
