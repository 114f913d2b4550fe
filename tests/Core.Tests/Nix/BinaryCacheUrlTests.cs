using CastoreFs.Core.Nix;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.PathInfos.NixBinaryCache;
using Snix.Store.V1;

namespace CastoreFs.Core.Tests.Nix;

[TestClass]
public sealed class BinaryCacheUrlTests
{
    private const string Key = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=";
    private const string KeyWithPlus = "test-1:je8czXWL5jROC9WqlCqM8vfpzruIm2SgXI4bw+EXMDo=";

    [TestMethod]
    public void Keys_are_read_as_nix_conf_writes_them_plus_signs_and_all_in_either_spelling()
    {
        var url = BinaryCacheUrl.Parse($"nix+https://cache.example/prefix/?trusted-public-keys={Key}%20{KeyWithPlus}&timeout=2.5");
        Assert.AreEqual(2, url.TrustedKeys!.Count);
        Assert.AreEqual(TimeSpan.FromSeconds(2.5), url.Timeout);
        Assert.AreEqual("https://cache.example/prefix", url.Display);
        Assert.AreEqual("https://cache.example/prefix/nar/x.nar.xz", url.Resolve("nar/x.nar.xz").ToString());
        Assert.AreEqual(1, BinaryCacheUrl.Parse($"nix+file:///srv/cache?trusted_public_keys={KeyWithPlus}").TrustedKeys!.Count);
        Assert.IsNull(BinaryCacheUrl.Parse("nix+http://127.0.0.1:8080?require-sigs=false").TrustedKeys, "nothing to check against");
        Assert.AreEqual(TimeSpan.FromSeconds(30), BinaryCacheUrl.Parse("nix+http://h/?require-sigs=false").Timeout);
    }

    [TestMethod]
    [DataRow("nix+https://cache.example", "trusted-public-keys")]
    [DataRow("nix+https://cache.example?require-sigs=true", "trusted-public-keys")]
    [DataRow("nix+https://cache.example?require-sigs=no", "true or false")]
    [DataRow("nix+https://cache.example?require-sigs=false&priority=40", "unknown option 'priority'")]
    [DataRow("nix+https://cache.example?require-sigs=false&timeout=-1", "number of seconds")]
    [DataRow("nix+https://cache.example?trusted-public-keys=nocolon", "name:base64")]
    [DataRow("nix+ftp://cache.example?require-sigs=false", "not a binary cache URL")]
    [DataRow("nix+relative/dir", "not a binary cache URL")]
    public void Bad_urls_are_refused_saying_why(string url, string why)
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => BinaryCacheUrl.Parse(url));
        StringAssert.Contains(e.Message, why);
    }

    [TestMethod]
    [DataRow("../x.nar")]
    [DataRow("nar/../../etc/passwd")]
    [DataRow("/etc/passwd")]
    [DataRow("nar/%2e%2e/x")]
    [DataRow("nar//x")]
    [DataRow("nar\\x")]
    [DataRow("file:///etc/passwd")]
    public void A_narinfo_url_cannot_leave_the_cache(string relative)
    {
        var local = BinaryCacheUrl.Parse("nix+file:///srv/cache?require-sigs=false");
        Assert.ThrowsExactly<FormatException>(() => local.Resolve(relative));
    }

    [TestMethod]
    public void An_absolute_narinfo_url_is_followed_only_over_http()
    {
        var http = BinaryCacheUrl.Parse("nix+https://cache.example?require-sigs=false");
        Assert.AreEqual("https://mirror.example/nar/x.nar", http.Resolve("https://mirror.example/nar/x.nar").ToString());
        var local = BinaryCacheUrl.Parse("nix+file:///srv/cache?require-sigs=false");
        Assert.ThrowsExactly<FormatException>(() => local.Resolve("https://mirror.example/nar/x.nar"));
    }

    [TestMethod]
    public void A_binary_cache_holds_path_infos_only()
    {
        using var dir = new TempDirectory();
        var e = Assert.ThrowsExactly<ArgumentException>(() => CastoreStore.Open("nix+file:///srv/cache?require-sigs=false", dir.Combine("cache")));
        StringAssert.Contains(e.Message, "--path-info-service-addr");
    }

    [TestMethod]
    [DataRow("fixed:r:sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k", NARInfo.Types.CA.Types.Hash.NarSha256, 32)]
    [DataRow("fixed:sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k", NARInfo.Types.CA.Types.Hash.FlatSha256, 32)]
    [DataRow("text:sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k", NARInfo.Types.CA.Types.Hash.TextSha256, 32)]
    [DataRow("fixed:sha1:00000000000000000000000000000000", NARInfo.Types.CA.Types.Hash.FlatSha1, 20)]
    [DataRow("fixed:r:md5:00000000000000000000000000", NARInfo.Types.CA.Types.Hash.NarMd5, 16)]
    public void Content_addresses_map_to_the_proto(string text, NARInfo.Types.CA.Types.Hash type, int length)
    {
        var ca = ContentAddress.Parse(text);
        Assert.AreEqual(type, ca.Type);
        Assert.AreEqual(length, ca.Digest.Length);
    }

    [TestMethod]
    [DataRow("fixed:r:sha3:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k")]
    [DataRow("fixed:sha256:1jpg")]
    [DataRow("fixed:sha1:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k")]
    [DataRow("text:sha1:0000000000000000000000000000000")]
    [DataRow("sha256:1jpg5v8rcf4d08rlpq51vnd1w800l64h34r0bw4vkb6z3qlk089k")]
    public void Malformed_content_addresses_are_refused(string text) => Assert.ThrowsExactly<FormatException>(() => ContentAddress.Parse(text));
}
