using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.IO;

namespace CastoreFs.Core.Tests.Filesystem;

[TestClass]
public sealed unsafe class OpenBlobTests
{
    [TestMethod]
    public void Reads_by_span_and_by_segments_fill_the_buffer_except_at_the_end_of_the_blob()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("blob");
        var data = new byte[(3 * 4096) + 100];
        new Random(5).NextBytes(data);
        File.WriteAllBytes(path, data);
        using var blob = new OpenBlob(data.Length, File.OpenHandle(path), dropBehind: true);

        byte* memory = (byte*)NativeMemory.AlignedAlloc(16384, 4096);
        try
        {
            var buffer = new Span<byte>(memory, 16384);
            Assert.AreEqual(data.Length, blob.Read(0, buffer), "the tail reads short, once");
            CollectionAssert.AreEqual(data, buffer[..data.Length].ToArray());

            Assert.AreEqual(4096, blob.Read(4096, buffer[..4096]));
            CollectionAssert.AreEqual(data[4096..8192], buffer[..4096].ToArray());

            Assert.AreEqual(100, blob.Read(3 * 4096, buffer[..4096]));
            CollectionAssert.AreEqual(data[(3 * 4096)..], buffer[..100].ToArray());

            Assert.AreEqual(0, blob.Read(4 * 4096, buffer[..4096]), "past the end");
            Assert.AreEqual(50, blob.Read(100, buffer.Slice(1, 50)), "unaligned");
            CollectionAssert.AreEqual(data[100..150], buffer.Slice(1, 50).ToArray());

            buffer.Clear();
            BufferSegment[] segments = [new((nint)(memory + 1), 5000), new((nint)(memory + 8192), 8192)];
            Assert.AreEqual(data.Length - 7, blob.Read(7, segments), "segments in order, the last one short");
            CollectionAssert.AreEqual(data[7..5007], buffer.Slice(1, 5000).ToArray());
            CollectionAssert.AreEqual(data[5007..], buffer.Slice(8192, data.Length - 5007).ToArray());
            Assert.AreEqual(0, blob.Read(data.Length, segments), "past the end");
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }
    }

    [TestMethod]
    public void A_sequential_read_drops_the_pages_it_left_8_MiB_behind_and_a_plain_one_keeps_them()
    {
        using var dir = new TempDirectory();
        PageCache.RequireDroppable(dir.Path);

        var path = dir.Combine("blob");
        var data = new byte[(40 << 20) + 123];
        new Random(6).NextBytes(data);
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.Write(data);

            // Dirty pages are never dropped: write them out first.
            stream.Flush(flushToDisk: true);
        }

        long dropped = PageCache.DroppedBehind(data.Length, OpenBlob.DropDistance);
        byte* memory = (byte*)NativeMemory.AlignedAlloc(1 << 20, 4096);
        try
        {
            using (var plain = new OpenBlob(data.Length, File.OpenHandle(path)))
            {
                ReadAll(plain, data, new Span<byte>(memory, 1 << 20));
            }

            Assert.AreEqual(dropped, PageCache.ResidentBytes(path, 0, dropped), "a plain read keeps every page it read");

            using var blob = new OpenBlob(data.Length, File.OpenHandle(path), dropBehind: true);
            BufferSegment[] segments = [new((nint)memory, 300 << 10), new((nint)(memory + (300 << 10)), 724 << 10)];
            for (long offset = 0; offset < data.Length;)
            {
                int n = blob.Read(offset, segments);
                Assert.IsTrue(new Span<byte>(memory, n).SequenceEqual(data.AsSpan((int)offset, n)), $"bytes at {offset}");
                offset += n;
            }

            Assert.IsTrue(blob.DropsBehind, "the kernel took every drop");
            Assert.AreEqual(0L, PageCache.ResidentBytes(path, 0, dropped), "nothing more than the distance behind the end stays");
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }
    }

    [TestMethod]
    public void A_read_that_comes_long_after_those_beyond_it_drops_its_own_pages()
    {
        using var dir = new TempDirectory();
        PageCache.RequireDroppable(dir.Path);

        var path = dir.Combine("blob");
        var data = new byte[32 << 20];
        new Random(7).NextBytes(data);
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.Write(data);
            stream.Flush(flushToDisk: true);
        }

        const int Chunk = 1 << 20;
        const long Late = 4 << 20;
        byte* memory = (byte*)NativeMemory.AlignedAlloc(Chunk, 4096);
        try
        {
            var buffer = new Span<byte>(memory, Chunk);
            using var blob = new OpenBlob(data.Length, File.OpenHandle(path), dropBehind: true);

            // Every 1 MiB read in order but one, which comes last, 28 MiB after the reads beyond it.
            for (long offset = 0; offset < data.Length; offset += Chunk)
            {
                if (offset != Late)
                {
                    Assert.AreEqual(Chunk, blob.Read(offset, buffer));
                }
            }

            Assert.AreEqual(Chunk, blob.Read(Late, buffer));
            Assert.IsTrue(buffer.SequenceEqual(data.AsSpan((int)Late, Chunk)));
            Assert.IsTrue(blob.DropsBehind, "the kernel took every drop");
            Assert.AreEqual(0L, PageCache.ResidentBytes(path, 0, PageCache.DroppedBehind(data.Length, OpenBlob.DropDistance)), "the late read's pages went too");
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }
    }

    private static void ReadAll(OpenBlob blob, byte[] expected, Span<byte> buffer)
    {
        for (long offset = 0; offset < expected.Length;)
        {
            int n = blob.Read(offset, buffer);
            Assert.IsTrue(buffer[..n].SequenceEqual(expected.AsSpan((int)offset, n)), $"bytes at {offset}");
            offset += n;
        }
    }

    [TestMethod]
    public void Reply_buffers_put_the_payload_on_a_page_boundary()
    {
        for (int i = 0; i < 4; i++)
        {
            var reply = FuseServerOptions.AllocateReplyBuffer();
            Assert.AreEqual(FuseServerOptions.ReplyBufferSize, reply.Length);
            nint payload = (nint)Unsafe.AsPointer(ref reply.Span[16]);
            Assert.AreEqual(0, payload & 4095);
        }
    }
}
