using System.Text;
using CastoreFs.Core.Nix;
using NSec.Cryptography;

namespace CastoreFs.Core.Tests.Nix;

/// <summary>
/// A closure that real Nix built in a chroot store (a source tree, a text file, a built library and an app
/// that refers to all three), copied by <c>nix copy</c> into binary caches with xz, zstd and no
/// compression, signed with a key from <c>nix key generate-secret</c>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class BinaryCacheFixture : IDisposable
{
    private const string NixConfig = "build-users-group =\nexperimental-features = nix-command";
    private readonly TempDirectory _dir = new();
    private readonly Key _secret;

    private BinaryCacheFixture()
    {
        var env = Environment();
        var secretFile = _dir.Combine("secret");
        File.WriteAllBytes(secretFile, Tools.RunBytes("nix", env, "key", "generate-secret", "--key-name", "castorefs-test-1"));
        var secretText = File.ReadAllText(secretFile).Trim();
        _secret = Key.Import(
            SignatureAlgorithm.Ed25519, Convert.FromBase64String(secretText.Split(':')[1]).AsSpan(0, 32), KeyBlobFormat.RawPrivateKey);
        PublicKey = "castorefs-test-1:" + Convert.ToBase64String(_secret.PublicKey.Export(KeyBlobFormat.RawPublicKey));

        NixRoot = _dir.Combine("nix-root");
        var source = MakeTree(_dir.Combine("tree"));
        File.WriteAllText(_dir.Combine("closure.nix"), $$"""
            let
              sh = "/bin/busybox";
              tree = {{source}};
              dep = builtins.toFile "dep.txt" "a dependency\n";
              lib = derivation { name = "lib"; system = builtins.currentSystem; builder = sh; args = [ "sh" "-c" "echo 'echo from lib' > $out" ]; };
            in derivation {
              name = "app"; system = builtins.currentSystem; builder = sh;
              args = [ "sh" "-c" "/bin/busybox mkdir -p $out/bin && echo ${dep} > $out/dep && /bin/busybox ln -s ${lib} $out/lib && /bin/busybox ln -s ${tree}/bin/hello $out/bin/hello && echo ${tree} > $out/tree-path" ];
            }
            """);
        App = Text(Tools.RunBytes(
            "nix-build", env, "--store", NixRoot, "--option", "substituters", "", "--option", "sandbox-paths", "/bin/busybox", "--no-out-link", _dir.Combine("closure.nix")));
        Closure = [.. Text(Tools.RunBytes("nix-store", env, "--store", NixRoot, "--query", "--requisites", App)).Split('\n')];
        foreach (var compression in new[] { "xz", "zstd", "none" })
        {
            Tools.RunBytes("nix", env, "copy", "--store", NixRoot, "--to", $"file://{Cache(compression)}?compression={compression}&secret-key={secretFile}", App);
        }
    }

    /// <summary><c>name:base64</c> of the key the caches are signed with.</summary>
    public string PublicKey { get; }

    public string NixRoot { get; }

    /// <summary>The app's store path; it refers to every other path of <see cref="Closure"/>.</summary>
    public string App { get; }

    public IReadOnlyList<string> Closure { get; }

    public string Root => _dir.Path;

    public static BinaryCacheFixture CreateOrInconclusive()
    {
        if (Tools.Find("nix-build") is null || Tools.Find("nix") is null)
        {
            Assert.Inconclusive("nix is not installed (apt-get install nix-bin); .ci/run installs it");
        }

        if (!File.Exists("/bin/busybox"))
        {
            Assert.Inconclusive("/bin/busybox builds the closure in Nix's sandbox (apt-get install busybox-static); .ci/run installs it");
        }

        return new BinaryCacheFixture();
    }

    public string Cache(string compression) => _dir.Combine("cache-" + compression);

    public static string NarInfoName(string storePath) => StorePath.ParseAbsoluteOrBaseName(storePath).BaseName[..32] + ".narinfo";

    /// <summary>A copy of a cache, to be damaged by a test.</summary>
    public string CopyOf(string compression, string into)
    {
        foreach (var file in Directory.EnumerateFiles(Cache(compression), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(into, Path.GetRelativePath(Cache(compression), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return into;
    }

    /// <summary>A narinfo's text with its signatures replaced by this key's signature over what it now says.</summary>
    public string Resign(string narInfoText)
    {
        var lines = narInfoText.Split('\n').Where(l => !l.StartsWith("Sig: ", StringComparison.Ordinal) && l.Length > 0).ToList();
        var info = NarInfo.Parse(string.Join('\n', lines));
        var signature = SignatureAlgorithm.Ed25519.Sign(_secret, Encoding.UTF8.GetBytes(info.Fingerprint));
        lines.Add($"Sig: {PublicKey.Split(':')[0]}:{Convert.ToBase64String(signature)}");
        return string.Join('\n', lines) + "\n";
    }

    public void Dispose()
    {
        _secret.Dispose();
        _dir.Dispose();
    }

    private static Dictionary<string, string?> Environment() => new() { ["NIX_CONFIG"] = NixConfig, ["NIX_REMOTE"] = null };

    private static string Text(byte[] output) => Encoding.UTF8.GetString(output).Trim();

    /// <summary>Files, an executable, an empty file, a file of several 1 MiB groups, symlinks and an empty directory.</summary>
    private static string MakeTree(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        Directory.CreateDirectory(Path.Combine(root, "share", "empty-dir"));
        File.WriteAllText(Path.Combine(root, "README"), "fetched from a binary cache\n");
        File.WriteAllText(Path.Combine(root, "bin", "hello"), "#!/bin/sh\necho hello\n");
        File.SetUnixFileMode(Path.Combine(root, "bin", "hello"), (UnixFileMode)0x1ED);
        File.WriteAllBytes(Path.Combine(root, "share", "empty"), []);
        var large = new byte[(3 << 20) + 5];
        new Random(13).NextBytes(large);
        File.WriteAllBytes(Path.Combine(root, "share", "large.bin"), large);
        File.CreateSymbolicLink(Path.Combine(root, "share", "readme-link"), "../README");
        return root;
    }
}
