using System.Net.Sockets;
using CastoreFs.Core.Import;
using CastoreFs.Core.Services;

namespace CastoreFs.Core.Tests.Import;

/// <summary>Input a store cannot hold gets an error naming the path, and registers nothing.</summary>
[TestClass]
public sealed class BadInputTests
{
    [TestMethod]
    public async Task Fifo_is_rejected()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("tree"));
        Tools.RunBytes("mkfifo", new Dictionary<string, string?>(), dir.Combine("tree", "pipe"));
        await AssertRejectedAsync(dir.Combine("tree"), dir.Combine("tree", "pipe"), "Fifo");
    }

    [TestMethod]
    public async Task Socket_is_rejected()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("tree"));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(dir.Combine("tree", "sock")));
        await AssertRejectedAsync(dir.Combine("tree"), dir.Combine("tree", "sock"), "Socket");
    }

    [TestMethod]
    public async Task Device_file_is_rejected()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("tree"));
        if (Environment.UserName != "root")
        {
            Assert.Inconclusive("creating a device file needs root");
        }

        Tools.RunBytes("mknod", new Dictionary<string, string?>(), dir.Combine("tree", "null"), "c", "1", "3");
        await AssertRejectedAsync(dir.Combine("tree"), dir.Combine("tree", "null"), "CharacterDevice");
    }

    [TestMethod]
    public async Task Root_whose_name_cannot_be_a_store_path_name_is_rejected()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("has space"));
        await AssertRejectedAsync(dir.Combine("has space"), dir.Combine("has space"), "store path name");
    }

    [TestMethod]
    public async Task Missing_path_is_rejected()
    {
        using var dir = new TempDirectory();
        await AssertRejectedAsync(dir.Combine("nothing"), dir.Combine("nothing"), "No such file");
    }

    private static async Task AssertRejectedAsync(string input, string culprit, string messagePart)
    {
        using var store = CastoreStore.Open("memory://");
        var e = await Assert.ThrowsExactlyAsync<ImportException>(() => new PathImporter(store).ImportAsync(input));
        StringAssert.Contains(e.Message, culprit);
        StringAssert.Contains(e.Message, messagePart);
        await foreach (var _ in store.PathInfos.ListAsync())
        {
            Assert.Fail("a path info was registered for bad input");
        }
    }
}
