using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.Fuse.Protocol;

namespace CastoreFs.Core.Tests.Fuse;

/// <summary>Builds request bytes as the kernel would and collects the server's replies.</summary>
internal sealed class FuseWire(FuseServer server)
{
    private readonly byte[] _reply = new byte[FuseServerOptions.ReplyBufferSize];
    private ulong _unique = 2;

    public List<byte[]> Replies { get; } = [];

    /// <summary>Serves raw request bytes as /dev/fuse would, keeping the reply if there is one.</summary>
    public void Send(ReadOnlySpan<byte> request)
    {
        int length = server.HandleRequest(request, _reply.AsSpan(0, FuseServerOptions.OutHeaderSize), new FuseReplyPayload(_reply.AsSpan(FuseServerOptions.OutHeaderSize)));
        if (length > 0)
        {
            Replies.Add(_reply[..length]);
        }
    }

    /// <summary>Sends a request; returns the reply's error and payload, or null when there was no reply.</summary>
    public (int Error, byte[] Payload)? Call(FuseOpcode opcode, ulong node, ReadOnlySpan<byte> body)
    {
        var request = Request(opcode, node, _unique += 2, body);
        int before = Replies.Count;
        Send(request);
        if (Replies.Count == before)
        {
            return null;
        }

        var reply = Replies[^1];
        Assert.AreEqual(reply.Length, BinaryPrimitives.ReadInt32LittleEndian(reply), "out.len is the reply's length");
        Assert.AreEqual(_unique, BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(8)), "the reply answers the request");
        return (BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(4)), reply[16..]);
    }

    public (int Error, byte[] Payload) CallExpectingReply(FuseOpcode opcode, ulong node, ReadOnlySpan<byte> body) =>
        Call(opcode, node, body) ?? throw new AssertFailedException($"{opcode} got no reply");

    public static byte[] Request(FuseOpcode opcode, ulong node, ulong unique, ReadOnlySpan<byte> body)
    {
        var header = new FuseInHeader { Length = (uint)(40 + body.Length), Opcode = opcode, Unique = unique, NodeId = node };
        var request = new byte[40 + body.Length];
        MemoryMarshal.Write(request, in header);
        body.CopyTo(request.AsSpan(40));
        return request;
    }

    public static byte[] Bytes<T>(in T value)
        where T : unmanaged
    {
        var bytes = new byte[Marshal.SizeOf<T>()];
        MemoryMarshal.Write(bytes, in value);
        return bytes;
    }

    public static T Read<T>(ReadOnlySpan<byte> payload)
        where T : unmanaged => MemoryMarshal.Read<T>(payload);

    public static byte[] Name(string name) => [.. System.Text.Encoding.UTF8.GetBytes(name), 0];

    /// <summary>The (inode, next offset, name) records of a readdir or readdirplus payload.</summary>
    public static List<(ulong Ino, ulong Offset, string Name)> Dirents(byte[] payload, bool plus)
    {
        var entries = new List<(ulong, ulong, string)>();
        int at = 0;
        int skip = plus ? 128 : 0;
        while (at < payload.Length)
        {
            var dirent = Read<FuseDirent>(payload.AsSpan(at + skip));
            var name = System.Text.Encoding.UTF8.GetString(payload, at + skip + 24, (int)dirent.NameLength);
            entries.Add((dirent.Ino, dirent.Offset, name));
            at += (skip + 24 + (int)dirent.NameLength + 7) & ~7;
        }

        return entries;
    }
}
