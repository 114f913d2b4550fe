using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.Fuse.Protocol;
using CastoreFs.Core.Import;
using CastoreFs.Core.IO;
using CastoreFs.Core.Services;

namespace CastoreFs.Core.Tests.Fuse;

/// <summary>
/// Replies scattered across a guest's writable descriptors, as virtqueues deliver them: file data read
/// straight into page-sized segments, small replies copied across segments of any size, and each
/// byte-identical to the reply into one buffer.
/// </summary>
[TestClass]
public sealed class SegmentedReplyTests
{
    private const int Page = 4096;

    [TestMethod]
    [DataRow("embedded")]
    [DataRow("memory")]
    public async Task Reads_into_page_segments_equal_reads_into_one_buffer(string kind)
    {
        using var dir = new TempDirectory();
        var data = new byte[10 * 1024 * 1024 + 1234];
        new Random(7).NextBytes(data);
        var tree = dir.Combine("tree");
        System.IO.Directory.CreateDirectory(tree);
        await File.WriteAllBytesAsync(Path.Combine(tree, "big"), data);
        using var store = CastoreStore.Open(kind == "memory" ? "memory://" : dir.Combine("store"));
        var imported = await new PathImporter(store).ImportAsync(tree);
        using var fs = await CastoreFileSystem.OpenAsync(store);
        var server = new FuseServer(fs);
        var wire = new FuseWire(server);
        var root = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(imported.StorePath.BaseName)).Payload).NodeId;
        var big = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, root, FuseWire.Name("big")).Payload).NodeId;

        using var pages = new NativePages(256);
        foreach (var (offset, size) in new[] { (0L, 1 << 20), (4096L, 128 << 10), (1000L, 300_000), ((long)data.Length - 5000, 1 << 20), ((long)data.Length + 10, 4096) })
        {
            var segments = pages.Segments(Page, (size + Page - 1) / Page);
            var (length, header) = Call(server, FuseOpcode.Read, big, FuseWire.Bytes(new FuseReadIn { Offset = (ulong)offset, Size = (uint)size }), segments);
            int expected = (int)Math.Clamp(data.Length - offset, 0, size);
            Assert.AreEqual(0, header.Error);
            Assert.AreEqual(16 + expected, length, $"used.len for {size} at {offset}");
            Assert.AreEqual((uint)length, header.Length);
            CollectionAssert.AreEqual(data.AsSpan((int)Math.Min(offset, data.Length), expected).ToArray(), Gather(segments, expected), $"{size} bytes at {offset}");
        }

        // Fewer segments than the READ asks for: the reply is what they hold, never past them.
        var few = pages.Segments(Page, 3);
        var (shortLength, _) = Call(server, FuseOpcode.Read, big, FuseWire.Bytes(new FuseReadIn { Offset = 0, Size = 1 << 20 }), few);
        Assert.AreEqual(16 + (3 * Page), shortLength);
        CollectionAssert.AreEqual(data.AsSpan(0, 3 * Page).ToArray(), Gather(few, 3 * Page));
    }

    [TestMethod]
    public async Task Small_replies_are_copied_across_segments_of_any_size()
    {
        using var dir = new TempDirectory();
        var tree = dir.Combine("tree");
        System.IO.Directory.CreateDirectory(tree);
        for (int i = 0; i < 40; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(tree, $"file-with-a-longer-name-{i:D3}"), $"{i}\n");
        }

        using var store = CastoreStore.Open("memory://");
        var imported = await new PathImporter(store).ImportAsync(tree);
        using var fs = await CastoreFileSystem.OpenAsync(store);
        var server = new FuseServer(fs);
        var wire = new FuseWire(server);
        var root = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(imported.StorePath.BaseName)).Payload).NodeId;
        var handle = FuseWire.Read<FuseOpenOut>(wire.CallExpectingReply(FuseOpcode.Opendir, root, FuseWire.Bytes(new FuseOpenIn())).Payload).Fh;
        var body = FuseWire.Bytes(new FuseReadIn { Fh = handle, Size = 4096 });
        var whole = wire.CallExpectingReply(FuseOpcode.Readdir, root, body).Payload;
        Assert.IsGreaterThan(1000, whole.Length);

        using var pages = new NativePages(4);
        var odd = new[] { pages.Segment(0, 7), pages.Segment(1, 1000), pages.Segment(2, 13), pages.Segment(3, 4096) };
        var (length, header) = Call(server, FuseOpcode.Readdir, root, body, odd);
        Assert.AreEqual(0, header.Error);
        Assert.AreEqual(16 + whole.Length, length);
        CollectionAssert.AreEqual(whole, Gather(odd, whole.Length));

        // Room for less than was asked: the listing stops at an entry that fits, and goes on from there.
        var small = new[] { pages.Segment(0, 100), pages.Segment(1, 60) };
        var (partial, _) = Call(server, FuseOpcode.Readdir, root, body, small);
        var entries = FuseWire.Dirents(Gather(small, partial - 16), plus: false);
        Assert.IsNotEmpty(entries);
        Assert.IsLessThanOrEqualTo(160, partial - 16);
        Assert.AreEqual("file-with-a-longer-name-000", entries[0].Name);
    }

    private static (int Length, FuseOutHeader Header) Call(FuseServer server, FuseOpcode opcode, ulong node, byte[] body, BufferSegment[] segments)
    {
        var request = FuseWire.Request(opcode, node, 99, body);
        var header = new byte[16];
        var scratch = new byte[FuseServerOptions.ReplyBufferSize];
        int length = server.HandleRequest(request, header, new FuseReplyPayload(segments, scratch));
        return (length, MemoryMarshal.Read<FuseOutHeader>(header));
    }

    private static byte[] Gather(BufferSegment[] segments, int length)
    {
        var bytes = new byte[length];
        int at = 0;
        foreach (var segment in segments)
        {
            int n = Math.Min(segment.Length, length - at);
            segment.Span[..n].CopyTo(bytes.AsSpan(at));
            at += n;
        }

        return bytes;
    }

    /// <summary>Page-aligned native pages, as a guest's memory is, each one segment.</summary>
    private sealed unsafe class NativePages : IDisposable
    {
        private readonly byte* _base;
        private readonly int _count;

        public NativePages(int count)
        {
            _count = count;
            _base = (byte*)NativeMemory.AlignedAlloc((nuint)(count * Page), Page);
            new Span<byte>(_base, count * Page).Fill(0xee);
        }

        public BufferSegment Segment(int page, int length) => new((nint)(_base + (page * Page)), length);

        /// <summary>Segments in a shuffled page order, as a guest's page cache hands them out.</summary>
        public BufferSegment[] Segments(int length, int count)
        {
            Assert.IsLessThanOrEqualTo(_count, count);
            var order = Enumerable.Range(0, count).Reverse().ToArray();
            return [.. order.Select(p => Segment(p, length))];
        }

        public void Dispose() => NativeMemory.AlignedFree(_base);
    }
}
