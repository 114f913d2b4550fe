using System.Diagnostics;
using System.Text;
using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;
using CastoreFs.Linux.Tests;
using CastoreFs.Platforms.Windows;

namespace CastoreFs.Windows.Tests;

/// <summary>
/// <c>castorefs mount S:</c> of the real Windows build under wine, driven by the WinFsp test double's
/// threads on a script, every answer compared with the tree as it is on Linux.
/// </summary>
[TestClass]
public sealed class WineDriveTests
{
    private static readonly TempDirectory Temp = new();

    [ClassCleanup]
    public static void Cleanup() => Temp.Dispose();

    [TestMethod]
    [Timeout(600_000)]
    public async Task The_drive_answers_under_wine_as_the_tree_is_on_linux()
    {
        await WineHost.RequireAsync();
        var cli = new CliRunner(Temp.Combine("data"));
        string store = Temp.Combine("store"), other = Temp.Combine("other"), tree = Temp.Combine("tree");
        TestTree.CreateOther(other);
        string otherPath = Import(cli, store, other);
        TestTree.Create(tree, otherPath);
        string root = Path.GetFileName(Import(cli, store, tree));
        string otherRoot = Path.GetFileName(otherPath);

        var script = new StringBuilder("volume\nstat\t\\\n");
        var expected = new List<string>
        {
            "volume 00000000 label=castorefs version=504 sector=4096 component=255 flags=0001261F fileinfo=FFFFFFFF v1=00000002 dirinfo=1000 name=CastoreFs prefix=0",
        };
        foreach (var entry in Walk(tree).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(entry);
            string windows = $"\\{root}\\{Win(Path.GetRelativePath(tree, entry))}";
            if (info.LinkTarget is { } target)
            {
                script.Append($"reparse\t{windows}\n");
                string substitute = target.StartsWith("/nix/store/", StringComparison.Ordinal) ? "\\" + target["/nix/store/".Length..].Replace('/', '\\') : target.Replace('/', '\\');
                int bytes = substitute.Length * 2;
                expected.Add($"reparse {windows} 00000000 small=C0000023 needed={20 + bytes} 00000000 tag=A000000C flags=1 length={12 + bytes} size={20 + bytes} target={substitute} print={substitute}");
            }
            else if (info.Attributes.HasFlag(System.IO.FileAttributes.Directory))
            {
                script.Append($"list\t{windows}\t300\n");
                var names = new[] { ".", ".." }.Concat(Directory.EnumerateFileSystemEntries(entry).Select(e => Win(Path.GetFileName(e))).Order(StringComparer.Ordinal));
                expected.Add($"list {windows} 00000000");
                expected.AddRange(names.Select(n => $"  {n} "));
                expected.Add($"list-end 00000000 entries={names.Count()} eof=1");
            }
            else
            {
                script.Append($"cat\t{windows}\t65536\n");
                expected.Add($"cat {windows} 00000000 size={info.Length} fnv={Fnv(File.ReadAllBytes(entry)):x16} end=C0000011");
            }
        }

        string r = $"\\{root}";
        script.Append($"stat\t{r}\\link-to-dir\nstat\t{r}\\link-to-dir\\one\nstat\t{r}\\absolute-link\nstat\t{r}\\chain-2\\file\nstat\t{r}\\loop-a\nstat\t{r}\\dangling\n");
        script.Append($"cat\t{r}\\sub\\up-link\t7\nsd\t{r}\\run.cmd\nwrite\t{r}\\hello.txt\ndirinfo\t{r}\ta\uF03Ab\nread\t{r}\\big.bin\t{TestTree.BigSize - 3}\t100\n");
        expected.Add($"stat {r}\\link-to-dir 00000000 at={r}\\sub attributes=00000010");
        expected.Add($"stat {r}\\link-to-dir\\one 00000000 at={r}\\sub\\one attributes=00000001");
        expected.Add($"stat {r}\\absolute-link 00000000 at=\\{otherRoot}\\inside attributes=00000001");
        expected.Add($"stat {r}\\chain-2\\file 00000000 at={r}\\sub\\deeper\\deepest\\file attributes=00000001");
        expected.Add($"stat {r}\\loop-a C0000280");
        expected.Add($"stat {r}\\dangling C0000034");
        expected.Add($"cat {r}\\sub\\up-link 00000000 size=6 fnv={Fnv("hello\n"u8.ToArray()):x16} end=C0000011");
        expected.Add($"sd {r}\\run.cmd 00000000 sddl=O:BAG:BAD:P(A;;0x1200a9;;;WD) valid=1 size=80");
        expected.Add($"write {r}\\hello.txt open-for-write=C0000022 create=C00000A2 open=00000000 overwrite=C00000A2 write=C00000A2 basic=C00000A2 size=C00000A2 candelete=C00000A2 rename=C00000A2 security=C00000A2 setreparse=C00000A2 deletereparse=C00000A2 setdelete=C00000A2 label=C00000A2 flush=00000000 same=1 volumeflush=00000000");
        expected.Add($"dirinfo {r} a\uF03Ab 00000000 00000000 name=a\uF03Ab attributes=00000001 tag=00000000 size=3");
        var big = File.ReadAllBytes(Path.Combine(tree, "big.bin"));
        expected.Add($"read {r}\\big.bin 00000000 read=00000000 count=3 bytes={Convert.ToHexStringLower(big[^3..])}");
        expected.Add("threads 8");
        expected.Add("END");

        var answers = await MountAsync(store, script.ToString());
        Assert.IsFalse(answers.Any(a => a.StartsWith("THREAD-MISMATCH", StringComparison.Ordinal)), "8 threads at once got the same answers:\n" + string.Join('\n', answers));
        Assert.IsFalse(answers.Any(a => a.Contains("UNKNOWN-VERB", StringComparison.Ordinal) || a.Contains("OVERRUN", StringComparison.Ordinal) || a.Contains("DIFFERS", StringComparison.Ordinal)), string.Join('\n', answers));
        var remaining = new Queue<string>(answers);
        foreach (var line in expected)
        {
            // Expected lines are matched in order, each the start of its answer (which goes on with ids and
            // times); a listing's entries= count catches an entry that is there and not expected.
            while (remaining.Count > 0 && !remaining.Peek().StartsWith(line, StringComparison.Ordinal))
            {
                remaining.Dequeue();
            }

            Assert.IsTrue(remaining.Count > 0 && remaining.Dequeue().StartsWith(line, StringComparison.Ordinal), $"expected an answer starting\n{line}\nin\n{string.Join('\n', answers)}");
        }
    }

    [TestMethod]
    [Timeout(300_000)]
    public async Task Without_winfsp_the_mount_says_where_to_get_it()
    {
        await WineHost.RequireAsync();
        await WineHost.Exec("wine", "reg", "delete", @"HKLM\SOFTWARE\WinFsp", "/v", "InstallDir", "/reg:32", "/f");
        try
        {
            var (exit, stdout, stderr) = await WineHost.RunAsync("mount", "S:", "--store", "memory://");
            Assert.AreEqual(1, exit, Encoding.UTF8.GetString(stdout) + stderr);
            StringAssert.Contains(stderr, "WinFsp is not installed");
            StringAssert.Contains(stderr, "winfsp.dev");
        }
        finally
        {
            await WineHost.RegisterDoubleAsync();
        }
    }

    private static async Task<List<string>> MountAsync(string store, string script)
    {
        string scriptFile = Temp.Combine("script"), output = Temp.Combine("answers");
        await File.WriteAllTextAsync(scriptFile, script);
        File.Delete(output);
        var start = WineHost.Start("mount", "S:", "--store", WineHost.Windows(store), "--list-root", "--threads", "4");
        start.Environment["CASTOREFS_WINFSP_SCRIPT"] = WineHost.Windows(scriptFile);
        start.Environment["CASTOREFS_WINFSP_OUTPUT"] = WineHost.Windows(output);
        using var mount = Process.Start(start)!;
        mount.StandardInput.Close();
        var stdout = mount.StandardOutput.ReadToEndAsync();
        var stderr = mount.StandardError.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        while (!(File.Exists(output) && (await File.ReadAllTextAsync(output)).EndsWith("END\n", StringComparison.Ordinal)) && !mount.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(4))
        {
            await Task.Delay(200);
        }

        Assert.IsFalse(mount.HasExited, $"the mount ended early ({(mount.HasExited ? mount.ExitCode : 0)}):\n{await stdout}\n{await stderr}");

        // Ctrl-C, as a user at the console sends it: wine turns SIGINT into CTRL_C_EVENT.
        Assert.AreEqual(0, Posix.SendSignal(mount.Id, 2));
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await mount.WaitForExitAsync(exit.Token);
        string printed = await stdout;
        Assert.AreEqual(0, mount.ExitCode, printed + await stderr);
        StringAssert.Contains(printed, "castorefs: mounted at S: (read-only)");
        return [.. (await File.ReadAllTextAsync(output)).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>Every entry below <paramref name="directory"/>, not following links (which the store keeps as links).</summary>
    private static IEnumerable<string> Walk(string directory)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            yield return entry;
            if (new FileInfo(entry).LinkTarget is null && Directory.Exists(entry))
            {
                foreach (var below in Walk(entry))
                {
                    yield return below;
                }
            }
        }
    }

    private static string Import(CliRunner cli, string store, string path)
    {
        var (exit, stdout, stderr) = cli.Run("import", "--store", store, path);
        Assert.AreEqual(0, exit, stderr);
        return stdout.Trim();
    }

    /// <summary>A relative Linux path as the drive names it: each name mapped, backslashes between.</summary>
    private static string Win(string relative) => string.Join('\\', relative.Split('/').Select(name =>
    {
        var chars = new char[WindowsNames.MaxChars];
        return new string(chars, 0, WindowsNames.Map(Encoding.UTF8.GetBytes(name), chars));
    }));

    private static ulong Fnv(byte[] data)
    {
        ulong hash = 0xcbf29ce484222325;
        foreach (var b in data)
        {
            hash = (hash ^ b) * 0x100000001b3;
        }

        return hash;
    }
}
