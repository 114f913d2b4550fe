using System.Text;
using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;

namespace CastoreFs.Windows.Tests;

/// <summary>The Windows build's import, ls, cat and nar under wine give the Linux build's bytes, over each other's stores.</summary>
[TestClass]
public sealed class WineCliTests
{
    [TestMethod]
    [Timeout(600_000)]
    public async Task Import_ls_cat_and_nar_give_the_same_bytes_as_the_linux_build()
    {
        await WineHost.RequireAsync();
        using var temp = new TempDirectory();
        var cli = new CliRunner(temp.Combine("data"));

        // Plain files and directories only: wine shows symlinks as files and has no executable bit.
        var tree = temp.Combine("plain");
        Directory.CreateDirectory(Path.Combine(tree, "sub", "deeper"));
        File.WriteAllText(Path.Combine(tree, "hello.txt"), "hello\n");
        File.WriteAllText(Path.Combine(tree, "sub", "Grüße.txt"), "non-ASCII name\n");
        File.WriteAllBytes(Path.Combine(tree, "sub", "deeper", "big.bin"), [.. Enumerable.Range(0, (3 << 20) + 17).Select(i => (byte)(i * 31 % 251))]);
        for (int i = 0; i < 20; i++)
        {
            File.WriteAllText(Path.Combine(tree, "sub", $"small-{i:D2}"), new string('x', i * 100));
        }

        string linuxStore = temp.Combine("linux-store"), windowsStore = temp.Combine("windows-store");
        var linux = cli.Run("import", "--store", linuxStore, tree);
        Assert.AreEqual(0, linux.Exit, linux.Stderr);
        var windows = await WineHost.RunAsync("import", "--store", WineHost.Windows(windowsStore), WineHost.Windows(tree));
        Assert.AreEqual(0, windows.Exit, windows.Stderr);
        string storePath = linux.Stdout.Trim();
        Assert.AreEqual(storePath, Lines(windows.Stdout).Single(), "the same store path from either build");

        var nar = cli.RunBytes(null, "nar", "--store", linuxStore, storePath);
        Assert.AreEqual(0, nar.Exit, nar.Stderr);
        foreach (var store in new[] { linuxStore, windowsStore })
        {
            // Each build reads the store the other wrote, too.
            var windowsNar = await WineHost.RunAsync("nar", "--store", WineHost.Windows(store), storePath);
            Assert.AreEqual(0, windowsNar.Exit, windowsNar.Stderr);
            CollectionAssert.AreEqual(nar.Stdout, windowsNar.Stdout, "NAR bytes");
            var linuxNar = cli.RunBytes(null, "nar", "--store", store, storePath);
            CollectionAssert.AreEqual(nar.Stdout, linuxNar.Stdout);

            foreach (var file in new[] { "hello.txt", "sub/deeper/big.bin", "sub/small-19" })
            {
                var cat = await WineHost.RunAsync("cat", "--store", WineHost.Windows(store), $"{storePath}/{file}");
                Assert.AreEqual(0, cat.Exit, cat.Stderr);
                CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(tree, file)), cat.Stdout, file);
            }

            foreach (var listed in new[] { storePath, $"{storePath}/sub" })
            {
                var ls = await WineHost.RunAsync("ls", "--store", WineHost.Windows(store), listed);
                Assert.AreEqual(0, ls.Exit, ls.Stderr);
                var linuxLs = cli.Run("ls", "--store", store, listed);
                CollectionAssert.AreEqual(Lines(Encoding.UTF8.GetBytes(linuxLs.Stdout)), Lines(ls.Stdout), $"ls {listed} (lines; Windows ends them with CRLF)");
            }
        }
    }

    /// <summary>Output lines without their ends; non-ASCII is compared only where both builds print it alike.</summary>
    private static List<string> Lines(byte[] output) =>
        [.. Encoding.Latin1.GetString(output).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).Where(l => l.All(c => c < 0x80))];
}
