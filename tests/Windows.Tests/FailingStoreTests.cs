using CastoreFs.Core.Digests;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos;
using CastoreFs.Core.Tests;
using CastoreFs.Platforms.Windows;
using Google.Protobuf;
using Snix.Castore.V1;
using Snix.Store.V1;

namespace CastoreFs.Windows.Tests;

/// <summary>What the drive does when the store fails it, and how much it holds however many paths are touched.</summary>
[TestClass]
public sealed class FailingStoreTests
{
    private const string Good = "00000000000000000000000000000000-good";
    private const string NoDirectory = "11111111111111111111111111111111-no-directory";
    private const string NoBlob = "22222222222222222222222222222222-no-blob";
    private const string Wide = "33333333333333333333333333333333-wide";
    private const int WideEntries = 40000;

    [TestMethod]
    public void A_missing_directory_or_blob_is_an_io_error_logged_and_the_drive_goes_on()
    {
        var logger = new CapturingLogger();
        using var tree = Open(out _, logger);
        using var drive = new Drive(tree, logger);
        Assert.AreEqual(NtStatus.IoDeviceError, drive.GetSecurityByName($"\\{NoDirectory}\\x", out _, out _));
        Assert.AreEqual(NtStatus.IoDeviceError, drive.Open($"\\{NoDirectory}", 1, 0x120089, out _, out _), "a listing it cannot fetch");
        var context = drive.OpenOrFail($"\\{NoBlob}\\lost");
        Assert.AreEqual(NtStatus.IoDeviceError, drive.Read(context, 0, 10, out _));
        Assert.AreEqual(NtStatus.IoDeviceError, drive.Read(context, 0, 10, out _), "and again, not a crash or a hang");
        drive.Close(context);
        Assert.IsTrue(logger.Warnings.Count >= 3, string.Join("\n", logger.Warnings));

        context = drive.OpenOrFail($"\\{Good}\\file");
        Assert.AreEqual(NtStatus.Success, drive.Read(context, 0, 100, out var data));
        CollectionAssert.AreEqual(Fixtures.HelloWorldBlob, data, "the rest of the drive still reads");
        drive.Close(context);
        Assert.AreEqual(0, drive.Adapter.OpenHandles);
    }

    [TestMethod]
    public void Touching_more_paths_than_the_cache_holds_keeps_memory_bounded()
    {
        using var tree = Open(out var names, new CapturingLogger());
        using var drive = new Drive(tree, new CapturingLogger());
        foreach (var name in names)
        {
            Assert.AreEqual(NtStatus.Success, drive.GetSecurityByName($"\\{Wide}\\{name}", out _, out _));
        }

        Assert.IsTrue(drive.Adapter.CachedPaths <= 2 * 16384 + 1, $"{drive.Adapter.CachedPaths} paths held after {WideEntries}");
        Assert.AreEqual(NtStatus.Success, drive.GetSecurityByName($"\\{Wide}\\{names[0]}", out _, out _), "a path dropped from the cache is walked again");
        var listed = drive.List($"\\{Wide}", 65536, out int calls);
        Assert.AreEqual(WideEntries + 2, listed.Count);
        Assert.IsTrue(calls > 10, "a wide directory comes in many buffers");
    }

    private static CastoreFileSystem Open(out string[] wideNames, CapturingLogger logger)
    {
        var store = new CastoreStore(new MemoryBlobService(), new MemoryDirectoryService(), new MemoryPathInfoService());
        var blob = store.Blobs.PutAsync(Fixtures.HelloWorldBlob).GetAwaiter().GetResult();
        var good = new Snix.Castore.V1.Directory();
        good.Files.Add(new FileNode { Name = ByteString.CopyFromUtf8("file"), Digest = blob.ToByteString(), Size = (ulong)Fixtures.HelloWorldBlob.Length });
        var noBlob = new Snix.Castore.V1.Directory();
        noBlob.Files.Add(new FileNode { Name = ByteString.CopyFromUtf8("lost"), Digest = ByteString.CopyFrom(new byte[32]), Size = 10 });
        var wide = new Snix.Castore.V1.Directory();
        wideNames = [.. Enumerable.Range(0, WideEntries).Select(i => $"f{i:D6}")];
        foreach (var name in wideNames)
        {
            wide.Files.Add(new FileNode { Name = ByteString.CopyFromUtf8(name), Digest = blob.ToByteString(), Size = (ulong)Fixtures.HelloWorldBlob.Length });
        }

        foreach (var directory in new[] { good, noBlob, wide })
        {
            // One closure each: a put takes a connected closure.
            var put = store.Directories.BeginPut();
            put.PutAsync(directory).AsTask().GetAwaiter().GetResult();
            put.CloseAsync().GetAwaiter().GetResult();
        }

        Register(store, new Node { Directory = good.ToNode(ByteString.CopyFromUtf8(Good)) });
        Register(store, new Node { Directory = noBlob.ToNode(ByteString.CopyFromUtf8(NoBlob)) });
        Register(store, new Node { Directory = wide.ToNode(ByteString.CopyFromUtf8(Wide)) });
        var missing = new DirectoryNode { Name = ByteString.CopyFromUtf8(NoDirectory), Digest = ByteString.CopyFrom(new byte[32]), Size = 1 };
        Register(store, new Node { Directory = missing });
        return CastoreFileSystem.OpenAsync(store, new FileSystemOptions { StoreTimeout = TimeSpan.FromSeconds(5) }, logger).GetAwaiter().GetResult();
    }

    private static void Register(CastoreStore store, Node node) => store.PathInfos.PutAsync(new PathInfo { Node = node }).GetAwaiter().GetResult();
}
