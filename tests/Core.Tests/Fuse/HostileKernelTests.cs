using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.Fuse.Protocol;
using CastoreFs.Core.Import;
using CastoreFs.Core.Services;

namespace CastoreFs.Core.Tests.Fuse;

/// <summary>
/// Requests a kernel (or a guest's kernel) should not send but may: reads by inode racing the node's
/// FORGET, reads at absurd offsets. Over an embedded store, whose blobs are open files.
/// </summary>
[TestClass]
public sealed class HostileKernelTests
{
    [TestMethod]
    public void Reads_by_inode_racing_forgets_leave_no_blob_open_and_no_forgotten_node_readable()
    {
        using var dir = new TempDirectory();
        var (server, fs, tree, names) = Mount(dir, files: 40);
        var nodes = names.Select(name => FuseWire.Read<FuseEntryOut>(new FuseWire(server).CallExpectingReply(FuseOpcode.Lookup, tree, FuseWire.Name(name)).Payload).NodeId).ToArray();
        int fdsBefore = OpenDescriptors(dir.Combine("store", "blobs"));

        // Each thread owns some files: it reads one by inode while another thread forgets it, then looks it up again.
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            var wire = new FuseWire(server);
            var forgetter = new FuseWire(server);
            for (int round = 0; round < 300; round++)
            {
                for (int i = t; i < names.Length; i += 4)
                {
                    var read = Task.Run(() => new FuseWire(server).Call(FuseOpcode.Read, nodes[i], FuseWire.Bytes(new FuseReadIn { Size = 4096 })));
                    forgetter.Call(FuseOpcode.Forget, nodes[i], FuseWire.Bytes(new FuseForgetIn { Nlookup = 1 }));
                    read.Wait();
                    nodes[i] = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, tree, FuseWire.Name(names[i])).Payload).NodeId;
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var last = new FuseWire(server);
        foreach (var node in nodes)
        {
            last.Call(FuseOpcode.Forget, node, FuseWire.Bytes(new FuseForgetIn { Nlookup = 1 }));
            Assert.AreEqual(-(int)Errno.ENOENT, last.CallExpectingReply(FuseOpcode.Getattr, node, new byte[16]).Error);
            Assert.AreEqual(-(int)Errno.ENOENT, last.CallExpectingReply(FuseOpcode.Read, node, FuseWire.Bytes(new FuseReadIn { Size = 4096 })).Error, "a forgotten node is not readable");
        }

        Assert.AreEqual(1, fs.TrackedInodes, "only the directory is still looked up");
        Assert.AreEqual(0, fs.UnopenedBlobs, "the no-open cache holds no forgotten node");
        Assert.AreEqual(fdsBefore, OpenDescriptors(dir.Combine("store", "blobs")), "no blob stays open");
        fs.Dispose();
    }

    [TestMethod]
    public void Reads_at_or_past_the_end_are_empty_whatever_the_offset_and_log_nothing()
    {
        using var dir = new TempDirectory();
        var logger = new CapturingLogger();
        var (server, fs, tree, names) = Mount(dir, files: 1, large: 9 << 20, logger);
        var wire = new FuseWire(server);
        foreach (var name in names)
        {
            var entry = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, tree, FuseWire.Name(name)).Payload);
            ulong size = entry.Attr.Size;
            foreach (ulong offset in new[] { size, size + 1, 1UL << 40, (ulong)long.MaxValue - 4096, (ulong)long.MaxValue, ulong.MaxValue - 1, ulong.MaxValue })
            {
                var (error, payload) = wire.CallExpectingReply(FuseOpcode.Read, entry.NodeId, FuseWire.Bytes(new FuseReadIn { Offset = offset, Size = 1 << 20 }));
                Assert.AreEqual(0, error, $"{name} at {offset}");
                Assert.IsEmpty(payload, $"{name} at {offset}");
            }

            var tail = wire.CallExpectingReply(FuseOpcode.Read, entry.NodeId, FuseWire.Bytes(new FuseReadIn { Offset = size - 10, Size = 1 << 20 }));
            Assert.HasCount(10, tail.Payload, "a read across the end stops at it");
        }

        Assert.IsEmpty(logger.Warnings, string.Join('\n', logger.Warnings));
        fs.Dispose();
    }

    /// <summary>A tree of small files (and one large one) imported into an embedded store, served without passthrough.</summary>
    private static (FuseServer Server, CastoreFileSystem Fs, ulong Tree, string[] Names) Mount(TempDirectory dir, int files, int large = 0, CapturingLogger? logger = null)
    {
        var source = dir.Combine("tree");
        Directory.CreateDirectory(source);
        var random = new Random(1);
        var names = Enumerable.Range(0, files).Select(i => $"f{i:00}").ToList();
        foreach (var name in names)
        {
            var bytes = new byte[random.Next(100, 5000)];
            random.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(source, name), bytes);
        }

        if (large > 0)
        {
            var bytes = new byte[large];
            random.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(source, "large"), bytes);
            names.Add("large");
        }

        var store = CastoreStore.Open(dir.Combine("store"));
        var imported = new PathImporter(store).ImportAsync(source).GetAwaiter().GetResult();
        var fs = CastoreFileSystem.OpenAsync(store, logger: logger).GetAwaiter().GetResult();
        var server = new FuseServer(fs, logger: logger);
        var tree = FuseWire.Read<FuseEntryOut>(new FuseWire(server).CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(imported.StorePath.BaseName)).Payload).NodeId;
        return (server, fs, tree, [.. names]);
    }

    /// <summary>This process's descriptors on files below <paramref name="folder"/> (other tests run beside this one).</summary>
    private static int OpenDescriptors(string folder) => Directory.GetFiles("/proc/self/fd").Count(fd =>
    {
        try
        {
            return new FileInfo(fd).LinkTarget?.StartsWith(folder, StringComparison.Ordinal) == true;
        }
        catch (IOException)
        {
            return false;
        }
    });
}
