using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;
using CastoreFs.Core.Tests.Nix;

namespace CastoreFs.Linux.Tests;

/// <summary>A kernel mount of a binary cache real Nix wrote, served by nginx: the tree Nix has, fetched on first use.</summary>
[TestClass]
public sealed class BinaryCacheMountTests
{
    [TestMethod]
    public void A_cache_served_by_nginx_mounts_as_nix_has_each_path_and_a_lie_is_eio_for_that_path_alone()
    {
        TestMount.RequireFuse();
        using var fixture = BinaryCacheFixture.CreateOrInconclusive();
        using var dir = new TempDirectory();
        var served = fixture.CopyOf("xz", dir.Combine("served", "cache"));
        // A narinfo under another path's name: its signature cannot verify for the path it claims.
        var liar = new string('b', 32);
        File.WriteAllText(
            Path.Combine(served, liar + ".narinfo"),
            File.ReadAllText(Path.Combine(served, BinaryCacheFixture.NarInfoName(fixture.App))).Replace(Path.GetFileName(fixture.App)[..32], liar, StringComparison.Ordinal));
        using var nginx = Nginx.StartOrInconclusive(dir.Combine("served"), dir.Combine("nginx"));
        var url = $"nix+{nginx.Url}/cache?trusted-public-keys={fixture.PublicKey}";
        var cli = new CliRunner(dir.Combine("home"));
        var mnt = dir.Combine("mnt");
        Directory.CreateDirectory(mnt);
        using (var mount = MountProcess.Start(cli, "--path-info-service-addr", url, "mount", "--log-level", "Information", mnt))
        {
            Assert.AreEqual(Errnos.EIO, Posix.Stat(Path.Combine(mnt, liar + "-app")).Errno, "a narinfo that does not verify");
            Assert.AreEqual(Errnos.ENOENT, Posix.Stat(Path.Combine(mnt, new string('c', 32) + "-missing")).Errno, "a path the cache lacks");
            var nix = new NixOracle(fixture.NixRoot);
            foreach (var path in fixture.Closure)
            {
                var mounted = Path.Combine(mnt, Path.GetFileName(path));
                var diff = System.Text.Encoding.UTF8.GetString(Tools.RunBytes("diff", new Dictionary<string, string?>(), "-r", "--no-dereference", fixture.NixRoot + path, mounted));
                Assert.AreEqual(string.Empty, diff, path);
                Assert.AreEqual(nix.QueryHash(path), NixOracle.HashPath(mounted), path);
                var (exit, nar, stderr) = cli.RunBytes(null, "--path-info-service-addr", url, "nar", path);
                Assert.AreEqual(0, exit, stderr);
                CollectionAssert.AreEqual(nix.Dump(path), nar, "castorefs nar " + path);
            }

            Assert.AreEqual(Errnos.EIO, Posix.Stat(Path.Combine(mnt, liar + "-app")).Errno, "still refused, and the mount went on");
            Assert.AreEqual(0, Posix.SendSignal(mount.Id, Errnos.SIGTERM));
            var (code, log) = mount.WaitForExit(TimeSpan.FromSeconds(30));
            Assert.AreEqual(0, code, log);
            StringAssert.Contains(log, "fetched " + fixture.App);
            StringAssert.Contains(log, "has no valid signature by a trusted key");
        }

        var requests = nginx.Requests();
        foreach (var path in fixture.Closure)
        {
            Assert.AreEqual(1, requests.Count(r => r == "/cache/" + BinaryCacheFixture.NarInfoName(path)), $"{path} was asked for once:\n{string.Join('\n', requests)}");
        }

        var (lsExit, listing, lsErr) = cli.Run("--path-info-service-addr", url, "ls");
        Assert.AreEqual(0, lsExit, lsErr);
        CollectionAssert.AreEquivalent(fixture.Closure.ToList(), listing.Split('\n', StringSplitOptions.RemoveEmptyEntries), "ls lists what was fetched");
        Assert.AreEqual(requests.Count, nginx.Requests().Count, "ls of what was fetched asks nothing");
    }
}
