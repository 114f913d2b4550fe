using System.Buffers.Binary;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.Fuse.Protocol;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.PathInfos;
using Google.Protobuf;
using Snix.Castore.V1;
using Snix.Store.V1;

namespace CastoreFs.Core.Tests.Fuse;

/// <summary>READ replies whose data a transport moves from the blob's file itself (splice on /dev/fuse).</summary>
[TestClass]
public sealed class FileReplyTests
{
    private const string Name = "99999999999999999999999999999999-data";

    [TestMethod]
    public void A_read_of_a_local_blob_leaves_its_range_for_the_transport_and_copies_nothing()
    {
        using var dir = new TempDirectory();
        var data = new byte[(256 << 10) + 777];
        new Random(8).NextBytes(data);
        using var store = CastoreStore.Open(dir.Combine("store"));
        var (server, fs, node) = Serve(store, data);
        using (fs)
        {
            var fileReply = new FuseFileReply(maxPages: 255);
            foreach (var (offset, size, expected) in new[] { (4096L + 5, 65536, 65536), (data.Length - 100L, 4096, 100) })
            {
                var reply = new byte[FuseServerOptions.ReplyBufferSize];
                int length = Read(server, node, offset, size, reply, fileReply);
                Assert.AreEqual(16 + expected, length, "the header counts the data left in the file");
                Assert.AreEqual(length, BinaryPrimitives.ReadInt32LittleEndian(reply));
                Assert.AreEqual(0, BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(4)));
                Assert.IsTrue(reply.AsSpan(16).IndexOfAnyExcept((byte)0) < 0, "no byte was copied into the buffer");
                Assert.IsTrue(fileReply.IsSet);
                var range = fileReply.Take();
                Assert.IsFalse(fileReply.IsSet, "taking the range empties the slot");
                Assert.AreEqual((offset, expected), (range.Offset, range.Count));
                var inFile = new byte[range.Count];
                Assert.AreEqual(range.Count, RandomAccess.Read(range.File, inFile, range.Offset));
                Assert.IsTrue(inFile.AsSpan().SequenceEqual(data.AsSpan((int)offset, expected)));
                range.Complete(range.Count);
            }
        }
    }

    [TestMethod]
    public void A_read_too_large_for_the_transport_or_past_the_end_is_copied_as_before()
    {
        using var dir = new TempDirectory();
        var data = new byte[100_000];
        new Random(9).NextBytes(data);
        using var store = CastoreStore.Open(dir.Combine("store"));
        var (server, fs, node) = Serve(store, data);
        using (fs)
        {
            var fileReply = new FuseFileReply(maxPages: 4);
            var reply = new byte[FuseServerOptions.ReplyBufferSize];
            Assert.AreEqual(16 + 65536, Read(server, node, 1, 65536, reply, fileReply));
            Assert.IsFalse(fileReply.IsSet, "17 pages do not fit in 4");
            Assert.IsTrue(reply.AsSpan(16, 65536).SequenceEqual(data.AsSpan(1, 65536)));

            Assert.AreEqual(16, Read(server, node, data.Length, 4096, reply, fileReply));
            Assert.IsFalse(fileReply.IsSet, "an empty read has no range");
        }
    }

    private static (FuseServer Server, CastoreFileSystem Fs, ulong Node) Serve(CastoreStore store, byte[] data)
    {
        var digest = store.Blobs.PutAsync(data).GetAwaiter().GetResult();
        var file = new FileNode { Name = ByteString.CopyFromUtf8(Name), Digest = digest.ToByteString(), Size = (ulong)data.Length };
        store.PathInfos.PutAsync(new PathInfo { Node = new Node { File = file } }).GetAwaiter().GetResult();
        var fs = CastoreFileSystem.OpenAsync(store).GetAwaiter().GetResult();
        var server = new FuseServer(fs);
        var entry = new FuseWire(server).CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Name));
        Assert.AreEqual(0, entry.Error);
        return (server, fs, FuseWire.Read<FuseEntryOut>(entry.Payload).NodeId);
    }

    private static int Read(FuseServer server, ulong node, long offset, int size, byte[] reply, FuseFileReply fileReply)
    {
        Array.Clear(reply);
        var request = FuseWire.Request(FuseOpcode.Read, node, 10, FuseWire.Bytes(new FuseReadIn { Offset = (ulong)offset, Size = (uint)size }));
        return server.HandleRequest(request, reply.AsSpan(0, 16), new FuseReplyPayload(reply.AsSpan(16), fileReply));
    }
}
