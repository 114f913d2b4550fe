using System.Text;
using CastoreFs.Core.Nix;
using NSec.Cryptography;

namespace CastoreFs.Core.Tests.Nix;

[TestClass]
public sealed class NarInfoTests
{
    // Written by `nix copy --to file://…?compression=none&secret-key=…` (Nix 2.8) with key test-cache-1.
    private const string FromNix = """
        StorePath: /nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d
        URL: nar/1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k.nar
        Compression: none
        FileHash: sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k
        FileSize: 288
        NarHash: sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k
        NarSize: 288
        References: 
        Sig: test-cache-1:XAc+srbNWm8WCsv/svffQm0rcUVLYQ1qu9bvFuJDg17R3l/NeitgFjWOuu0lv+0fE+t6zUer8imUwAZSKzJQBg==
        CA: fixed:r:sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k

        """;

    private const string FromNixKey = "test-cache-1:FyiVIo0xRicpRLSt6jZDKoQ5xLVOJB14KmjOsa14/Jc=";

    [TestMethod]
    public void A_narinfo_written_by_nix_parses_and_its_signature_verifies()
    {
        var info = NarInfo.Parse(FromNix);
        Assert.AreEqual("hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d", info.StorePath.BaseName);
        Assert.AreEqual("nar/1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k.nar", info.Url);
        Assert.AreEqual("none", info.Compression);
        Assert.AreEqual(288ul, info.NarSize);
        Assert.AreEqual(288ul, info.FileSize);
        Assert.AreEqual(0, info.References.Count);
        Assert.IsNull(info.Deriver);
        Assert.AreEqual("fixed:r:sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k", info.ContentAddress);
        Assert.AreEqual("1;/nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d;sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k;288;", info.Fingerprint);
        Assert.IsTrue(TrustedKeys.Parse(FromNixKey).Verify(info));
    }

    [TestMethod]
    public void A_signature_is_refused_by_another_key_for_another_path_size_or_reference()
    {
        var info = NarInfo.Parse(FromNix);
        using var other = Key.Create(SignatureAlgorithm.Ed25519);
        var otherKey = "test-cache-1:" + Convert.ToBase64String(other.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        Assert.IsFalse(TrustedKeys.Parse(otherKey).Verify(info), "the same name, another key");
        Assert.IsFalse(TrustedKeys.Parse("someone-else:" + FromNixKey.Split(':')[1]).Verify(info), "the right key under another name");
        var trusted = TrustedKeys.Parse(FromNixKey);
        Assert.IsFalse(trusted.Verify(info with { NarSize = 289 }));
        Assert.IsFalse(trusted.Verify(info with { References = [StorePath.Parse("00000000000000000000000000000000-x")] }));
        Assert.IsFalse(trusted.Verify(info with { StorePath = StorePath.Parse("hh0jwqmsbfc93z2prvb2x6qin9ir4mj2-d") }));
        Assert.IsFalse(trusted.Verify(info with { Signatures = [] }), "no signature");
        Assert.IsFalse(trusted.Verify(info with { Signatures = ["test-cache-1:not base64!", "test-cache-1:AAAA"] }), "malformed signatures verify nothing");
    }

    [TestMethod]
    public void Signatures_made_here_over_references_verify_and_any_good_one_of_several_suffices()
    {
        using var key = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var info = NarInfo.Parse(FromNix.Replace("References: ", "References: 3333333333333333333333333333333a-lib hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d", StringComparison.Ordinal)) with { Signatures = [] };
        StringAssert.EndsWith(info.Fingerprint, ";288;/nix/store/3333333333333333333333333333333a-lib,/nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d");
        var signature = Convert.ToBase64String(SignatureAlgorithm.Ed25519.Sign(key, Encoding.UTF8.GetBytes(info.Fingerprint)));
        var keys = TrustedKeys.Parse($"{FromNixKey}   mine:{Convert.ToBase64String(key.PublicKey.Export(KeyBlobFormat.RawPublicKey))}");
        Assert.AreEqual(2, keys.Count);
        Assert.IsTrue(keys.Verify(info with { Signatures = ["unknown:AAAA", $"mine:{signature}"] }));
        Assert.IsFalse(keys.Verify(info with { Signatures = [$"test-cache-1:{signature}"] }), "a signature counts only under its own key's name");
    }

    [TestMethod]
    [DataRow("URL: nar/x.nar\nNarHash: sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k\nNarSize: 1\n", "no StorePath")]
    [DataRow("StorePath: /nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d\nNarHash: sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k\nNarSize: 1\n", "no URL")]
    [DataRow("StorePath: /nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d\nURL: x\nNarHash: sha256:1jpg\nNarSize: 1\n", "not a SHA-256")]
    [DataRow("StorePath: /nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d\nURL: x\nNarHash: md5:abc\nNarSize: 1\n", "not a SHA-256")]
    [DataRow("StorePath: /nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d\nURL: x\nNarHash: sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k\nNarSize: -1\n", "not a number")]
    [DataRow("StorePath: /nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d\nStorePath: /nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d\n", "twice")]
    [DataRow("StorePath: /nix/store/hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d\nthis is no field\n", "line 2")]
    [DataRow("StorePath: /etc/passwd\nURL: x\nNarHash: sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k\nNarSize: 1\n", "")]
    public void Malformed_narinfos_are_refused_saying_what_is_wrong(string text, string why)
    {
        var e = Assert.ThrowsExactly<FormatException>(() => NarInfo.Parse(text));
        StringAssert.Contains(e.Message, why);
    }

    [TestMethod]
    public void A_path_info_keeps_what_the_narinfo_says_and_its_signatures_still_verify()
    {
        var info = NarInfo.Parse(FromNix.Replace("Sig: ", "Sig: broken:not-base64\nSig: ", StringComparison.Ordinal));
        var root = new Snix.Castore.V1.Node { File = new Snix.Castore.V1.FileNode { Name = Google.Protobuf.ByteString.CopyFromUtf8("x"), Digest = Google.Protobuf.ByteString.CopyFrom(new byte[32]), Size = 1 } };
        var pathInfo = info.ToPathInfo(root);
        Assert.AreEqual("hh0jwqmsbfc93z2prvb2x6qin9ir4mj1-d", pathInfo.Node.File.Name.ToStringUtf8());
        Assert.AreEqual("test-cache-1", pathInfo.Narinfo.Signatures.Single().Name, "a malformed signature is left out, not fatal");
        Assert.AreEqual(Snix.Store.V1.NARInfo.Types.CA.Types.Hash.NarSha256, pathInfo.Narinfo.Ca.Type);
        Assert.IsTrue(TrustedKeys.Parse(FromNixKey).Verify(pathInfo));
        pathInfo.Narinfo.NarSize++;
        Assert.IsFalse(TrustedKeys.Parse(FromNixKey).Verify(pathInfo), "what the path info says is what is checked");
    }

    [TestMethod]
    [DataRow("no-colon")]
    [DataRow("name:not base64!")]
    [DataRow("short:AAAA")]
    public void Malformed_trusted_keys_are_refused(string key) => Assert.ThrowsExactly<FormatException>(() => TrustedKeys.Parse(key));

    [TestMethod]
    public void A_cache_nix_writes_and_signs_now_verifies_and_a_tampered_copy_does_not()
    {
        if (Tools.Find("nix") is null)
        {
            Assert.Inconclusive("nix is not installed (apt-get install nix-bin); .ci/run installs it");
        }

        using var temp = new TempDirectory();
        var env = new Dictionary<string, string?> { ["NIX_CONFIG"] = "build-users-group =\nexperimental-features = nix-command", ["NIX_REMOTE"] = null };
        var secret = temp.Combine("secret");
        File.WriteAllBytes(secret, Tools.RunBytes("nix", env, "key", "generate-secret", "--key-name", "cache.example-1"));
        var start = new System.Diagnostics.ProcessStartInfo("nix") { RedirectStandardInput = true, RedirectStandardOutput = true, ArgumentList = { "key", "convert-secret-to-public" } };
        start.Environment["NIX_CONFIG"] = env["NIX_CONFIG"];
        using var convert = System.Diagnostics.Process.Start(start)!;
        convert.StandardInput.Write(File.ReadAllText(secret));
        convert.StandardInput.Close();
        var publicKey = convert.StandardOutput.ReadToEnd().Trim();
        convert.WaitForExit();
        Directory.CreateDirectory(temp.Combine("tree", "sub"));
        File.WriteAllText(temp.Combine("tree", "sub", "file"), "signed by nix\n");
        var root = temp.Combine("root");
        var path = Encoding.UTF8.GetString(Tools.RunBytes("nix-store", env, "--store", root, "--add", temp.Combine("tree"))).Trim();
        Tools.RunBytes("nix", env, "copy", "--store", root, "--to", $"file://{temp.Combine("cache")}?compression=xz&secret-key={secret}", path);

        var text = File.ReadAllText(temp.Combine("cache", StorePath.ParseAbsoluteOrBaseName(path).BaseName[..32] + ".narinfo"));
        var info = NarInfo.Parse(text);
        Assert.AreEqual(path, info.StorePath.AbsolutePath);
        Assert.AreEqual("xz", info.Compression);
        Assert.AreEqual(NixOracle.HashPath(temp.Combine("tree")), "sha256:" + NixBase32.Encode(info.NarSha256), "NarHash is the tree's NAR hash");
        Assert.IsTrue(TrustedKeys.Parse(publicKey).Verify(info), publicKey + "\n" + text);
        Assert.IsFalse(TrustedKeys.Parse(publicKey).Verify(NarInfo.Parse(text.Replace($"NarSize: {info.NarSize}", $"NarSize: {info.NarSize + 8}", StringComparison.Ordinal))));
    }
}
