using System.Net;
using System.Net.Sockets;
using System.Text;
using CastoreFs.Core.Model;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Nix;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.PathInfos.NixBinaryCache;
using NSec.Cryptography;
using Snix.Store.V1;
using StorePath = CastoreFs.Core.Nix.StorePath;

namespace CastoreFs.Core.Tests.Nix;

/// <summary>Binary caches real Nix wrote, read as <c>nix+file://</c> and served by nginx as <c>nix+http://</c>.</summary>
[TestClass]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BinaryCacheTests
{
    private static readonly Lock FixtureLock = new();
    private static BinaryCacheFixture? _fixture;

    [ClassCleanup]
    public static void DisposeFixture() => _fixture?.Dispose();

    [TestMethod]
    [DataRow("xz")]
    [DataRow("zstd")]
    [DataRow("none")]
    public async Task Every_path_of_a_cache_nix_wrote_is_fetched_verified_and_dumps_as_nix_dumps_it(string compression)
    {
        var fixture = Fixture();
        using var dir = new TempDirectory();
        using var store = Open(dir, $"nix+file://{fixture.Cache(compression)}?trusted-public-keys={fixture.PublicKey}");
        var nix = new NixOracle(fixture.NixRoot);
        foreach (var path in fixture.Closure)
        {
            var node = await new StorePathResolver(store).ResolveAsync(path);
            using var nar = new MemoryStream();
            await new NarRenderer(store.Blobs, store.Directories).RenderAsync(node, nar);
            CollectionAssert.AreEqual(nix.Dump(path), nar.ToArray(), path);
        }

        var app = await GetAsync(store, fixture.App);
        Assert.IsNotNull(app);
        var references = nix.Run("--query", "--references", fixture.App).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        CollectionAssert.AreEqual(references.ToList(), app.Narinfo.ReferenceNames.Order(StringComparer.Ordinal).ToList());
        CollectionAssert.AreEqual(
            app.Narinfo.ReferenceNames.Select(n => StorePath.Parse(n!).Digest.ToArray()).SelectMany(d => d).ToArray(),
            app.References.SelectMany(r => r.ToByteArray()).ToArray());
        Assert.AreEqual(nix.QueryHash(fixture.App), "sha256:" + NixBase32.Encode(app.Narinfo.NarSha256.Span));
        StringAssert.EndsWith(app.Narinfo.Deriver.Name, "app.drv");
        Assert.AreEqual("castorefs-test-1", app.Narinfo.Signatures.Single().Name);
        Assert.IsTrue(TrustedKeys.Parse(fixture.PublicKey).Verify(app), "the kept path info still carries Nix's signature");

        var listed = await ListedAsync(store);
        CollectionAssert.AreEquivalent(fixture.Closure.ToList(), listed, "what was fetched is listed");
    }

    [TestMethod]
    public async Task Over_http_a_path_is_fetched_once_kept_for_the_next_open_and_a_missing_one_asked_once()
    {
        var fixture = Fixture();
        using var dir = new TempDirectory();
        using var nginx = Nginx.StartOrInconclusive(fixture.Root, dir.Combine("nginx"));
        var url = $"nix+{nginx.Url}/cache-zstd?trusted-public-keys={fixture.PublicKey}";
        var missing = "/nix/store/" + new string('a', 32) + "-missing";
        using (var store = Open(dir, url))
        {
            var first = await GetAsync(store, fixture.App);
            var second = await GetAsync(store, fixture.App);
            Assert.AreEqual(first, second);
            Assert.IsNull(await GetAsync(store, missing));
            Assert.IsNull(await GetAsync(store, missing));
        }

        var requests = nginx.Requests();
        Assert.AreEqual(3, requests.Count, string.Join('\n', requests));
        Assert.AreEqual(1, requests.Count(r => r == "/cache-zstd/" + BinaryCacheFixture.NarInfoName(fixture.App)));
        Assert.AreEqual(1, requests.Count(r => r.StartsWith("/cache-zstd/nar/", StringComparison.Ordinal)));
        Assert.AreEqual(1, requests.Count(r => r == "/cache-zstd/" + new string('a', 32) + ".narinfo"));

        using (var reopened = Open(dir, url))
        {
            Assert.IsNotNull(await GetAsync(reopened, fixture.App));
        }

        Assert.AreEqual(3, nginx.Requests().Count, "the next open asks the cache nothing for a path it verified before");
    }

    [TestMethod]
    public async Task A_first_lookup_fetches_the_closure_in_the_background_each_path_once()
    {
        var fixture = Fixture();
        using var dir = new TempDirectory();
        using var nginx = Nginx.StartOrInconclusive(fixture.Root, dir.Combine("nginx"));
        using var store = Open(dir, $"nix+{nginx.Url}/cache-xz?trusted-public-keys={fixture.PublicKey}", prefetch: 2);
        Assert.IsNotNull(await GetAsync(store, fixture.App));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        List<string> fetched;
        while ((fetched = await ListedAsync(store)).Count < fixture.Closure.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        CollectionAssert.AreEquivalent(fixture.Closure.ToList(), fetched, "the whole closure was fetched without being looked up");
        var requests = nginx.Requests();
        Assert.AreEqual(fixture.Closure.Count, requests.Count(r => r.EndsWith(".narinfo", StringComparison.Ordinal)), string.Join('\n', requests));
        Assert.AreEqual(fixture.Closure.Count, requests.Count(r => r.Contains("/nar/", StringComparison.Ordinal)), string.Join('\n', requests));
    }

    [TestMethod]
    [DataRow("untrusted key", "no valid signature by a trusted key (signed by: castorefs-test-1)")]
    [DataRow("no signature", "(signed by: none)")]
    [DataRow("nar hash differs", "has SHA-256")]
    [DataRow("nar size too small", "is longer than")]
    [DataRow("truncated nar", "is malformed")]
    [DataRow("truncated xz", "damaged")]
    [DataRow("another store path", "another store path")]
    [DataRow("nar missing", "is not in the cache")]
    [DataRow("nar url escapes", "does not name a file in the cache")]
    public async Task A_cache_that_lies_is_refused_with_a_clear_error_and_nothing_is_registered(string lie, string why)
    {
        var fixture = Fixture();
        using var dir = new TempDirectory();
        var compression = lie == "truncated xz" ? "xz" : "none";
        var cache = fixture.CopyOf(compression, dir.Combine("cache"));
        var narInfoFile = Path.Combine(cache, BinaryCacheFixture.NarInfoName(fixture.App));
        var text = File.ReadAllText(narInfoFile);
        var info = NarInfo.Parse(text);
        var nar = Path.Combine(cache, info.Url);
        var lib = fixture.Closure.First(p => p.EndsWith("-lib", StringComparison.Ordinal));
        var keys = fixture.PublicKey;
        switch (lie)
        {
            case "untrusted key":
                using (var other = Key.Create(SignatureAlgorithm.Ed25519))
                {
                    keys = "castorefs-test-1:" + Convert.ToBase64String(other.PublicKey.Export(KeyBlobFormat.RawPublicKey));
                }

                break;
            case "no signature":
                File.WriteAllText(narInfoFile, string.Join('\n', text.Split('\n').Where(l => !l.StartsWith("Sig:", StringComparison.Ordinal))));
                break;
            case "nar hash differs":
                var libInfo = NarInfo.Parse(File.ReadAllText(Path.Combine(cache, BinaryCacheFixture.NarInfoName(lib))));
                File.WriteAllText(narInfoFile, fixture.Resign(Replace(text, "NarHash", "sha256:" + NixBase32.Encode(libInfo.NarSha256))));
                break;
            case "nar size too small":
                File.WriteAllText(narInfoFile, fixture.Resign(Replace(text, "NarSize", (info.NarSize - 8).ToString(System.Globalization.CultureInfo.InvariantCulture))));
                break;
            case "truncated nar" or "truncated xz":
                TruncateToHalf(nar);
                File.WriteAllText(narInfoFile, string.Join('\n', text.Split('\n').Where(l => !l.StartsWith("File", StringComparison.Ordinal))));
                break;
            case "another store path":
                File.Copy(Path.Combine(cache, BinaryCacheFixture.NarInfoName(lib)), narInfoFile, overwrite: true);
                break;
            case "nar missing":
                File.Delete(nar);
                break;
            case "nar url escapes":
                File.WriteAllText(narInfoFile, Replace(text, "URL", "../cache/" + info.Url));
                break;
        }

        using var store = Open(dir, $"nix+file://{cache}?trusted-public-keys={keys}");
        var e = await Assert.ThrowsExactlyAsync<BinaryCacheException>(() => GetAsync(store, fixture.App));
        StringAssert.Contains(e.Message, why);
        Assert.IsFalse(e.Transient, "a lie is not tried again");
        await Assert.ThrowsExactlyAsync<BinaryCacheException>(() => GetAsync(store, fixture.App), "a refusal is not remembered as a missing path");
        await AssertNothingRegisteredAsync(dir, store);
    }

    [TestMethod]
    public async Task A_server_error_is_tried_three_times_then_refused_and_asked_again_on_the_next_lookup()
    {
        var fixture = Fixture();
        using var dir = new TempDirectory();
        using var nginx = Nginx.StartOrInconclusive(fixture.Root, dir.Combine("nginx"));
        using var store = Open(dir, $"nix+{nginx.Url}/fail/cache-xz?trusted-public-keys={fixture.PublicKey}");
        var e = await Assert.ThrowsExactlyAsync<BinaryCacheException>(() => GetAsync(store, fixture.App));
        StringAssert.Contains(e.Message, "HTTP 500");
        Assert.AreEqual(3, nginx.Requests().Count, "three tries");
        await Assert.ThrowsExactlyAsync<BinaryCacheException>(() => GetAsync(store, fixture.App));
        Assert.AreEqual(6, nginx.Requests().Count, "a failure is not remembered as a missing path");
        await AssertNothingRegisteredAsync(dir, store);
    }

    [TestMethod]
    public async Task A_server_that_never_answers_or_stops_sending_times_out()
    {
        var fixture = Fixture();
        using var dir = new TempDirectory();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var held = new List<Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var socket = await listener.AcceptSocketAsync();
                lock (held)
                {
                    held.Add(socket);
                }
            }
        });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var store = Open(dir, $"nix+http://127.0.0.1:{port}/cache?trusted-public-keys={fixture.PublicKey}&timeout=0.5");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsExactlyAsync<BinaryCacheException>(() => GetAsync(store, fixture.App));
        StringAssert.Contains(e.Message, "no answer within 0.5 s");
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        lock (held)
        {
            Assert.AreEqual(3, held.Count, "three tries, each on a connection of its own");
            held.ForEach(s => s.Dispose());
        }

        // A server that sends the headers and part of the NAR, then nothing more.
        using var nginx = Nginx.StartOrInconclusive(fixture.Root, dir.Combine("nginx"));
        var narInfo = File.ReadAllText(Path.Combine(fixture.Cache("none"), BinaryCacheFixture.NarInfoName(fixture.App)));
        var narBytes = File.ReadAllBytes(Path.Combine(fixture.Cache("none"), NarInfo.Parse(narInfo).Url));
        using var stalling = new TcpListener(IPAddress.Loopback, 0);
        stalling.Start();
        var stallingPort = ((IPEndPoint)stalling.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var socket = await stalling.AcceptSocketAsync();
                _ = Task.Run(async () =>
                {
                    var request = new byte[4096];
                    int n = await socket.ReceiveAsync(request);
                    var path = Encoding.ASCII.GetString(request, 0, n).Split(' ')[1];
                    var body = path.EndsWith(".narinfo", StringComparison.Ordinal) ? Encoding.UTF8.GetBytes(narInfo) : narBytes[..(narBytes.Length / 2)];
                    var length = path.EndsWith(".narinfo", StringComparison.Ordinal) ? body.Length : narBytes.Length;
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"));
                    await socket.SendAsync(body);
                    lock (held)
                    {
                        held.Add(socket);
                    }
                });
            }
        });
        using var stalled = Open(dir, $"nix+http://127.0.0.1:{stallingPort}/c?trusted-public-keys={fixture.PublicKey}&timeout=0.5", cache: "cache2");
        e = await Assert.ThrowsExactlyAsync<BinaryCacheException>(() => GetAsync(stalled, fixture.App));
        StringAssert.Contains(e.Message, "no bytes for 0.5 s");
        await AssertNothingRegisteredAsync(dir, stalled);
        lock (held)
        {
            held.ForEach(s => s.Dispose());
        }
    }

    private static BinaryCacheFixture Fixture()
    {
        lock (FixtureLock)
        {
            return _fixture ??= BinaryCacheFixture.CreateOrInconclusive();
        }
    }

    private static CastoreStore Open(TempDirectory dir, string url, int prefetch = 0, string cache = "cache-folder") =>
        CastoreStore.Open(dir.Combine("store"), dir.Combine("store"), url, dir.Combine(cache), new BinaryCacheOptions { PrefetchConcurrency = prefetch });

    private static Task<PathInfo?> GetAsync(CastoreStore store, string path) => store.PathInfos.GetAsync(StorePath.ParseAbsoluteOrBaseName(path).Digest.ToArray());

    private static async Task AssertNothingRegisteredAsync(TempDirectory dir, CastoreStore store)
    {
        CollectionAssert.AreEqual(Array.Empty<string>(), await ListedAsync(store), "registered");
        using var own = CastoreStore.Open(dir.Combine("store"));
        CollectionAssert.AreEqual(Array.Empty<string>(), await ListedAsync(own), "registered in the store itself");
    }

    /// <summary>The store paths a store lists.</summary>
    private static async Task<List<string>> ListedAsync(CastoreStore store)
    {
        var listed = new List<string>();
        await foreach (var pathInfo in store.PathInfos.ListAsync())
        {
            listed.Add(StorePath.StoreDir + "/" + NodeRules.NameOf(pathInfo.Node).ToStringUtf8());
        }

        return listed;
    }

    private static string Replace(string narInfo, string field, string value) =>
        string.Join('\n', narInfo.Split('\n').Select(l => l.StartsWith(field + ": ", StringComparison.Ordinal) ? $"{field}: {value}" : l));

    private static void TruncateToHalf(string file)
    {
        using var stream = new FileStream(file, FileMode.Open);
        stream.SetLength(stream.Length / 2);
    }
}
