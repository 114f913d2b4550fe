using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.IO.Interop;

namespace CastoreFs.Core.Tests.Filesystem;

[TestClass]
public sealed unsafe class OpenBlobTests
{
    [TestMethod]
    public void Aligned_reads_around_the_page_cache_and_unaligned_ones_through_it_give_the_same_bytes()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Inconclusive("O_DIRECT reads are Linux only");
        }

        using var dir = new TempDirectory();
        var path = dir.Combine("blob");
        var data = new byte[(3 * 4096) + 100];
        new Random(5).NextBytes(data);
        File.WriteAllBytes(path, data);
        var direct = LinuxDirectOpen.TryOpen(path, FileAccess.Read);
        Assert.IsNotNull(direct, "ext4 and tmpfs take O_DIRECT");
        using var blob = new OpenBlob(data.Length, File.OpenHandle(path), direct);

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
            Assert.IsTrue(blob.ReadsUnbuffered, "no aligned read was refused");

            Assert.AreEqual(50, blob.Read(100, buffer.Slice(1, 50)), "unaligned: through the page cache");
            CollectionAssert.AreEqual(data[100..150], buffer.Slice(1, 50).ToArray());
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
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
