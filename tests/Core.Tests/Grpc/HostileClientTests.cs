using System.IO.Compression;
using System.Net.Sockets;
using CastoreFs.Core.Grpc;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Server;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Compression;
using Snix.Castore.V1;
using Snix.Store.V1;

namespace CastoreFs.Core.Tests.Grpc;

/// <summary>
/// What clients the server does not trust may send: compression bombs, oversized and garbage messages,
/// path infos that contradict the store. Each is refused with the status its error means, and the server
/// serves on.
/// </summary>
[TestClass]
public sealed class HostileClientTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private CastoreStore? _store;
    private CastoreServer? _server;

    private static CastoreMethods Methods => CastoreMethods.For(CastoreFs.Core.Grpc.ProtocolFamily.Snix);

    [TestInitialize]
    public async Task Start()
    {
        _store = CastoreStore.Open(_dir.Combine("store"));
        _server = await CastoreServer.StartAsync(_store, "unix://" + _dir.Combine("s.sock"));
    }

    [TestCleanup]
    public async Task Stop()
    {
        await _server!.DisposeAsync();
        _store!.Dispose();
    }

    public void Dispose() => _dir.Dispose();

    [TestMethod]
    public async Task A_gzip_message_that_inflates_to_a_gibibyte_is_refused_and_nothing_is_stored()
    {
        using (var honest = Channel([new GzipCompressionProvider(CompressionLevel.Fastest)]))
        {
            using var small = honest.CreateCallInvoker().AsyncClientStreamingCall(Methods.BlobPut, null, new CallOptions(new Metadata { { "grpc-internal-encoding-request", "gzip" } }));
            await small.RequestStream.WriteAsync(new BlobChunk { Data = ByteString.CopyFrom(Fixtures.HelloWorldBlob) });
            await small.RequestStream.CompleteAsync();
            Assert.AreEqual(Fixtures.HelloWorldDigest.ToByteString(), (await small.ResponseAsync).Digest, "a client that compresses small messages is served");
        }

        var bomb = GzipBomb(1 << 30);
        Assert.IsLessThan(2 << 20, bomb.Length, "the bomb is small on the wire");
        using var channel = Channel([new FixedOutputCompression(bomb)]);
        var invoker = channel.CreateCallInvoker();
        var compressed = new Metadata { { "grpc-internal-encoding-request", "gzip" } };
        using var call = invoker.AsyncClientStreamingCall(Methods.BlobPut, null, new CallOptions(compressed));
        var e = await RefusalAsync(call, new BlobChunk { Data = ByteString.CopyFromUtf8("x") });
        Assert.AreEqual(StatusCode.ResourceExhausted, e.StatusCode, e.Status.Detail);
        StringAssert.Contains(e.Status.Detail, "compressed");
        Assert.HasCount(1, System.IO.Directory.EnumerateFiles(_dir.Combine("store", "blobs"), "*", SearchOption.AllDirectories), "only the honest blob was stored");
        await AssertStillServingAsync();
    }

    [TestMethod]
    public async Task A_message_over_four_mebibytes_is_resource_exhausted()
    {
        using var channel = Channel([]);
        using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(Methods.BlobPut, null, default);
        var e = await RefusalAsync(call, new BlobChunk { Data = ByteString.CopyFrom(new byte[(4 << 20) + 1]) });
        Assert.AreEqual(StatusCode.ResourceExhausted, e.StatusCode, e.Status.Detail);
        await AssertStillServingAsync();
    }

    [TestMethod]
    public async Task Garbage_unary_requests_and_garbage_in_a_put_stream_are_invalid_argument()
    {
        using var channel = Channel([]);
        var invoker = channel.CreateCallInvoker();
        var raw = Marshallers.Create<byte[]>(b => b, b => b);
        var garbage = new byte[] { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2 };
        foreach (var path in new[] { "BlobService/Stat", "DirectoryService/Get" })
        {
            var service = path.Split('/');
            var type = path.EndsWith("Get", StringComparison.Ordinal) ? MethodType.ServerStreaming : MethodType.Unary;
            var method = new Method<byte[], byte[]>(type, "snix.castore.v1." + service[0], service[1], raw, raw);
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                if (type == MethodType.Unary)
                {
                    await invoker.AsyncUnaryCall(method, null, default, garbage).ResponseAsync;
                }
                else
                {
                    using var stream = invoker.AsyncServerStreamingCall(method, null, default, garbage);
                    await stream.ResponseStream.MoveNext(CancellationToken.None);
                }
            });
            Assert.AreEqual(StatusCode.InvalidArgument, e.StatusCode, $"{path}: {e.Status.Detail}");
        }

        var put = new Method<byte[], byte[]>(MethodType.ClientStreaming, "snix.castore.v1.DirectoryService", "Put", raw, raw);
        using var call = invoker.AsyncClientStreamingCall(put, null, default);
        var inStream = await RefusalAsync(call, Fixtures.DirectoryWithKeep.ToByteArray(), garbage);
        Assert.AreEqual(StatusCode.InvalidArgument, inStream.StatusCode, inStream.Status.Detail);
        Assert.IsNull(await _store!.Directories.GetAsync(Fixtures.DirectoryWithKeep.Digest()), "the broken closure stored nothing");
        await AssertStillServingAsync();
    }

    [TestMethod]
    public async Task A_root_of_the_wrong_size_and_a_second_root_for_a_store_path_are_refused()
    {
        using var client = CastoreStore.Open(_server!.Address, _dir.Combine("cache"));
        await client.Blobs.PutAsync(Fixtures.HelloWorldBlob);
        await using (var putter = client.Directories.BeginPut())
        {
            await putter.PutAsync(Fixtures.DirectoryWithKeep);
            await putter.CloseAsync();
        }

        const string name = "00000000000000000000000000000000-x";
        var file = new Node { File = new FileNode { Name = ByteString.CopyFromUtf8(name), Digest = Fixtures.HelloWorldDigest.ToByteString(), Size = 13 } };
        var directory = new Node { Directory = Fixtures.DirectoryWithKeep.ToNode(ByteString.CopyFromUtf8(name)) };
        directory.Directory.Size += 1;
        foreach (var wrong in new[] { file, directory })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => client.PathInfos.PutAsync(new PathInfo { Node = wrong }));
            Assert.AreEqual(StatusCode.FailedPrecondition, e.StatusCode, e.Status.Detail);
            StringAssert.Contains(e.Status.Detail, "size");
        }

        using var connection = GrpcConnection.Open(_server.Address);
        var calculate = await Assert.ThrowsAsync<RpcException>(() => connection.Invoker.AsyncUnaryCall(Methods.PathInfoCalculateNar, null, default, file).ResponseAsync);
        Assert.AreEqual(StatusCode.FailedPrecondition, calculate.StatusCode, "a node whose blob has other bytes: " + calculate.Status.Detail);

        file.File.Size = 12;
        directory.Directory.Size -= 1;
        await client.PathInfos.PutAsync(new PathInfo { Node = file });
        await client.PathInfos.PutAsync(new PathInfo { Node = file, References = { ByteString.CopyFrom(new byte[20]) } });
        var replaced = await Assert.ThrowsAsync<RpcException>(() => client.PathInfos.PutAsync(new PathInfo { Node = directory }));
        Assert.AreEqual(StatusCode.AlreadyExists, replaced.StatusCode, replaced.Status.Detail);
        Assert.AreEqual(file, (await client.PathInfos.GetAsync(new byte[20]))!.Node, "the first root stays");
    }

    /// <summary>
    /// Sends <paramref name="messages"/> and returns how the server refused the call. It may end the call
    /// while a message is still being sent (the write then fails too): its answer says why.
    /// </summary>
    private static async Task<RpcException> RefusalAsync<TRequest, TResponse>(AsyncClientStreamingCall<TRequest, TResponse> call, params TRequest[] messages)
    {
        var writes = Task.Run(async () =>
        {
            foreach (var message in messages)
            {
                await call.RequestStream.WriteAsync(message);
            }

            await call.RequestStream.CompleteAsync();
        });

        // A refused call's answer comes whether or not the rest could be sent (a write may wait forever on a
        // call the server stopped reading, until the call is disposed).
        var refusal = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(60)));
        call.Dispose();
        await writes.ContinueWith(_ => { }, TaskScheduler.Default);
        return refusal;
    }

    private async Task AssertStillServingAsync()
    {
        using var client = CastoreStore.Open(_server!.Address, _dir.Combine("cache"));
        Assert.AreEqual(Fixtures.HelloWorldDigest, await client.Blobs.PutAsync(Fixtures.HelloWorldBlob));
    }

    /// <summary>A channel to the server over its socket, with these compression providers.</summary>
    private GrpcChannel Channel(IList<ICompressionProvider> compression)
    {
        var socket = _dir.Combine("s.sock");
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            CompressionProviders = compression,
            MaxSendMessageSize = null,
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                    return new NetworkStream(s, ownsSocket: true);
                },
            },
        });
    }

    /// <summary>gzip of a BlobChunk whose data is <paramref name="size"/> zero bytes.</summary>
    private static byte[] GzipBomb(int size)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var header = new CodedOutputStream(gzip, leaveOpen: true);
            header.WriteTag(BlobChunk.DataFieldNumber, WireFormat.WireType.LengthDelimited);
            header.WriteLength(size);
            header.Flush();
            var zeros = new byte[1 << 20];
            for (int left = size; left > 0; left -= zeros.Length)
            {
                gzip.Write(zeros, 0, Math.Min(zeros.Length, left));
            }
        }

        return output.ToArray();
    }

    /// <summary>A "gzip" that ignores what it is given and writes fixed bytes: a message that is not what it inflates to.</summary>
    private sealed class FixedOutputCompression(byte[] output) : ICompressionProvider
    {
        public string EncodingName => "gzip";

        public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) => new Sink(stream, output);

        public Stream CreateDecompressionStream(Stream stream) => new GZipStream(stream, CompressionMode.Decompress);

        private sealed class Sink(Stream target, byte[] output) : MemoryStream
        {
            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    target.Write(output);
                }

                base.Dispose(disposing);
            }
        }
    }
}
