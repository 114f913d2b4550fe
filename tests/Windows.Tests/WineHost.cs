using System.Diagnostics;
using CastoreFs.Core.Tests;

namespace CastoreFs.Windows.Tests;

/// <summary>
/// The project's real win-x64 build under wine, with a test double of WinFsp's DLL where WinFsp's
/// installer would put it (InstallDir in the 32-bit registry view). Built and set up once per test
/// run; a machine without wine or mingw makes each test Inconclusive, naming what is missing.
/// </summary>
internal static class WineHost
{
    private static readonly Lazy<string?> Missing = new(FindMissing);
    private static readonly Lazy<Task> Ready = new(SetUpAsync);

    /// <summary>Where the build, the prefix and the double live: beside the tests, so a rerun builds incrementally.</summary>
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "wine");

    public static string Prefix => Path.Combine(Root, "prefix");

    /// <summary>The checkout these tests were built from.</summary>
    public static string Repository { get; } = FindRepository();

    public static string Exe => Path.Combine(Root, "win-x64", "castorefs.exe");

    /// <summary>Unix path as wine names it (its Z: drive is /).</summary>
    public static string Windows(string unixPath) => "Z:" + unixPath.Replace('/', '\\');

    /// <summary>Builds and sets up everything once, or reports why this machine cannot.</summary>
    public static async Task RequireAsync()
    {
        if (Missing.Value is { } missing)
        {
            Assert.Inconclusive(missing);
        }

        await Ready.Value.ConfigureAwait(false);
    }

    public static ProcessStartInfo Start(params string[] args)
    {
        var start = new ProcessStartInfo("wine") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Exe);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["WINEPREFIX"] = Prefix;
        start.Environment["WINEDEBUG"] = "-all";

        // Without it wine 8 crashes the runtime on some imports (an internal CLR error in a finalizer).
        start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        return start;
    }

    /// <summary>Runs the Windows build to its end: exit code, stdout bytes, stderr.</summary>
    public static async Task<(int Exit, byte[] Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Process.Start(Start(args))!;
        process.StandardInput.Close();
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        await copy.ConfigureAwait(false);
        return (process.ExitCode, stdout.ToArray(), await errors.ConfigureAwait(false));
    }

    private static string FindRepository()
    {
        var repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "CastoreFs.sln")))
        {
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("no CastoreFs.sln above " + AppContext.BaseDirectory);
        }

        return repo;
    }

    private static string? FindMissing()
    {
        foreach (var tool in new[] { "wine", "x86_64-w64-mingw32-gcc" })
        {
            if (Tools.Find(tool) is null)
            {
                return $"{tool} is not installed (apt-get install wine wine64 gcc-mingw-w64-x86-64, as .ci/install-deps does)";
            }
        }

        return null;
    }

    private static async Task SetUpAsync()
    {
        Directory.CreateDirectory(Root);
        // Its own artifacts folder, so this build shares no obj/ with the one running the tests.
        var publish = Exec("dotnet", "publish", Path.Combine(Repository, "src", "Cli"), "-c", "Release", "-r", "win-x64", "--self-contained", "true",
            "--artifacts-path", Path.Combine(Root, "artifacts"), "-o", Path.Combine(Root, "win-x64"), "-nologo", "-v", "q");
        var bin = Path.Combine(Root, "winfsp", "bin");
        Directory.CreateDirectory(bin);
        var dll = Exec("x86_64-w64-mingw32-gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-static-libgcc", "-o", Path.Combine(bin, "winfsp-x64.dll"),
            Path.Combine(AppContext.BaseDirectory, "winfsp-double", "winfsp-double.c"), "-ladvapi32");
        var prefix = Directory.Exists(Path.Combine(Prefix, "drive_c")) ? Task.CompletedTask : Exec("wine", "wineboot", "-i");
        await Task.WhenAll(publish, dll, prefix).ConfigureAwait(false);

        await RegisterDoubleAsync().ConfigureAwait(false);
    }

    /// <summary>Points WinFsp's InstallDir at the double, in the 32-bit view where WinFsp's installer writes it and castorefs looks.</summary>
    public static Task RegisterDoubleAsync() =>
        Exec("wine", "reg", "add", @"HKLM\SOFTWARE\WinFsp", "/v", "InstallDir", "/t", "REG_SZ", "/d", Windows(Path.Combine(Root, "winfsp")) + "\\", "/reg:32", "/f");

    /// <summary>Runs a tool with the prefix's environment; it must exit 0.</summary>
    public static async Task Exec(string file, params string[] args)
    {
        var (exit, output) = await RunInAsync(Prefix, file, args).ConfigureAwait(false);
        Assert.AreEqual(0, exit, $"{file} {string.Join(' ', args)}:\n{output}");
    }

    /// <summary>
    /// Runs a tool (wine, or a Linux one) with <paramref name="prefix"/> as the wine prefix: its exit code
    /// and its output and errors. The output goes through a file: wine's own processes started on the way
    /// (wineserver, services) inherit it and hold a pipe open long after the tool exits.
    /// </summary>
    public static async Task<(int Exit, string Output)> RunInAsync(string prefix, string file, params string[] args)
    {
        var output = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("bash") { ArgumentList = { "-c", "\"$0\" \"$@\" > \"$CASTOREFS_TEST_OUTPUT\" 2>&1 < /dev/null", file } };
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["CASTOREFS_TEST_OUTPUT"] = output;
            start.Environment["WINEPREFIX"] = prefix;
            start.Environment["WINEDEBUG"] = "-all";
            start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
            using var process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return (process.ExitCode, await File.ReadAllTextAsync(output).ConfigureAwait(false));
        }
        finally
        {
            File.Delete(output);
        }
    }
}
