using System.Diagnostics;

namespace CastoreFs.Core.Tests;

/// <summary>Real Nix (Debian's nix-bin) in a chroot store that never touches /nix, as the reference.</summary>
internal sealed class NixOracle(string storeRoot)
{
    public static NixOracle InOrInconclusive(string storeRoot)
    {
        if (Tools.Find("nix-store") is null)
        {
            Assert.Inconclusive("nix-store is not installed (apt-get install nix-bin); .ci/run installs it");
        }

        return new NixOracle(storeRoot);
    }

    public string Add(string path) => Run("--add", path).Trim();

    /// <summary>The NAR hash Nix recorded, as <c>sha256:&lt;nixbase32&gt;</c>.</summary>
    public string QueryHash(string storePath) => Run("--query", "--hash", storePath).Trim();

    /// <summary>Nix's own NAR hash of any path, as <c>sha256:&lt;nixbase32&gt;</c>.</summary>
    public static string HashPath(string path) =>
        "sha256:" + System.Text.Encoding.UTF8.GetString(Tools.RunBytes("nix-hash", Environment(), "--type", "sha256", "--base32", path)).Trim();

    /// <summary>The NAR of a store path; --dump reads a real path, so this names its place inside the chroot store.</summary>
    public byte[] Dump(string storePath) => Tools.RunBytes("nix-store", Environment(), "--dump", storeRoot + storePath);

    public string Run(params string[] args) =>
        System.Text.Encoding.UTF8.GetString(Tools.RunBytes("nix-store", Environment(), ["--store", storeRoot, .. args]));

    private static Dictionary<string, string?> Environment() => new()
    {
        ["NIX_CONFIG"] = "build-users-group =",
        ["NIX_REMOTE"] = null,
    };
}

internal static class Tools
{
    public static string? Find(string name) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':').Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    public static byte[] RunBytes(string program, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(start.ArgumentList.Add);
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        using var process = Process.Start(start)!;
        using var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        copy.Wait();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result}");
        }

        return output.ToArray();
    }
}
