using System.Diagnostics;
using System.Text;

namespace CastoreFs.Windows.Tests;

/// <summary>
/// A tree on disk with what a Windows drive must get right: files at read edges, an executable, deep
/// directories, links relative, absolute into the store, to directories, dangling and in a loop, and
/// names Windows cannot hold. Made with the shell, so that its names are bytes as Linux keeps them.
/// </summary>
internal static class TestTree
{
    public const int BigSize = (1 << 20) + 3;

    /// <summary>Names in the tree's top directory that Windows cannot hold as they are.</summary>
    public static readonly string[] OddNames = ["a:b", "what?", "trail.", "space ", "pipe|star*", "tab\tname", "back\\slash"];

    /// <summary>The tree; <paramref name="otherStorePath"/> (/nix/store/…) is another store path it links into absolutely.</summary>
    public static void Create(string root, string otherStorePath)
    {
        Directory.CreateDirectory(root);
        var script = new StringBuilder("set -e\ncd \"$1\"\n");
        script.Append("printf 'hello\\n' > hello.txt\n: > empty\n");
        script.Append($"head -c {BigSize} /dev/urandom > big.bin\n");
        script.Append("printf '@echo off\\r\\necho ok\\r\\n' > run.cmd && chmod +x run.cmd\n");
        script.Append("mkdir -p sub/deeper/deepest && printf 'deep\\n' > sub/deeper/deepest/file && printf 'in sub\\n' > sub/one\n");
        script.Append("for i in $(seq -w 1 150); do printf \"$i\" > sub/many-$i; done\n");
        script.Append("ln -s hello.txt link-to-file && ln -s sub link-to-dir && ln -s ../hello.txt sub/up-link\n");
        script.Append($"ln -s {otherStorePath}/inside absolute-link && ln -s {otherStorePath} absolute-dir-link\n");
        script.Append("ln -s nowhere dangling && ln -s loop-b loop-a && ln -s loop-a loop-b\n");
        script.Append("ln -s sub/deeper chain-1 && ln -s chain-1/deepest chain-2\n");
        using var shell = Process.Start(new ProcessStartInfo("bash") { ArgumentList = { "-c", script.ToString(), "bash", root }, RedirectStandardError = true })!;
        string errors = shell.StandardError.ReadToEnd();
        shell.WaitForExit();
        Assert.AreEqual(0, shell.ExitCode, errors);
        foreach (var name in OddNames)
        {
            File.WriteAllText(Path.Combine(root, name), name);
        }
    }

    /// <summary>The other store path's tree: one file, which <see cref="Create"/>'s absolute link names.</summary>
    public static void CreateOther(string root)
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "inside"), "from the other path\n");
    }
}
