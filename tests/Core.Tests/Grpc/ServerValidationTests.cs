using CastoreFs.Core.Grpc;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Server;
using Google.Protobuf;
using Grpc.Core;
using Snix.Castore.V1;
using Snix.Store.V1;

namespace CastoreFs.Core.Tests.Grpc;

/// <summary>The server checks what a client sends, whatever the client checked itself (raw calls here).</summary>
[TestClass]
public sealed class ServerValidationTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private CastoreStore? _store;
    private CastoreServer? _server;
    private GrpcConnection? _connection;

    private static CastoreMethods Methods => CastoreMethods.For(ProtocolFamily.Tvix);

    private CallInvoker Invoker => _connection!.Invoker;

    [TestInitialize]
    public async Task Start()
    {
        _store = CastoreStore.Open(_dir.Combine("store"));
        _server = await CastoreServer.StartAsync(_store, "unix://" + _dir.Combine("s.sock"));
        _connection = GrpcConnection.Open(_server.Address);
    }

    [TestCleanup]
    public async Task Stop()
    {
        _connection!.Dispose();
        await _server!.DisposeAsync();
        _store!.Dispose();
    }

    public void Dispose() => _dir.Dispose();

    [TestMethod]
    public async Task Directory_put_with_a_child_not_sent_first_is_invalid_argument()
    {
        using var call = Invoker.AsyncClientStreamingCall(Methods.DirectoryPut, null, default);
        await call.RequestStream.WriteAsync(Fixtures.DirectoryComplicated);
        await call.RequestStream.CompleteAsync();
        var e = await Assert.ThrowsExactlyAsync<RpcException>(() => call.ResponseAsync);
        Assert.AreEqual(StatusCode.InvalidArgument, e.StatusCode);
        Assert.IsNull(await _store!.Directories.GetAsync(Fixtures.DirectoryComplicated.Digest()));
    }

    [TestMethod]
    public async Task Empty_directory_put_is_invalid_argument()
    {
        using var call = Invoker.AsyncClientStreamingCall(Methods.DirectoryPut, null, default);
        await call.RequestStream.CompleteAsync();
        var e = await Assert.ThrowsExactlyAsync<RpcException>(() => call.ResponseAsync);
        Assert.AreEqual(StatusCode.InvalidArgument, e.StatusCode);
        StringAssert.Contains(e.Status.Detail, "no directories received");
    }

    [TestMethod]
    public async Task Blob_put_is_hashed_by_the_server()
    {
        using var call = Invoker.AsyncClientStreamingCall(Methods.BlobPut, null, default);
        await call.RequestStream.WriteAsync(new BlobChunk { Data = ByteString.CopyFrom(Fixtures.HelloWorldBlob, 0, 5) });
        await call.RequestStream.WriteAsync(new BlobChunk { Data = ByteString.CopyFrom(Fixtures.HelloWorldBlob, 5, 7) });
        await call.RequestStream.CompleteAsync();
        Assert.AreEqual(Fixtures.HelloWorldDigest.ToByteString(), (await call.ResponseAsync).Digest);
    }

    [TestMethod]
    public async Task Invalid_path_info_is_invalid_argument()
    {
        var invalid = Fixtures.PathInfoWithNarInfo;
        invalid.Narinfo.ReferenceNames[0] = "11111111111111111111111111111111-dummy";
        var e = await Assert.ThrowsExactlyAsync<RpcException>(() => Invoker.AsyncUnaryCall(Methods.PathInfoPut, null, default, invalid).ResponseAsync);
        Assert.AreEqual(StatusCode.InvalidArgument, e.StatusCode);
    }

    [TestMethod]
    public async Task Path_info_whose_root_is_not_in_the_store_is_failed_precondition()
    {
        var e = await Assert.ThrowsExactlyAsync<RpcException>(() => Invoker.AsyncUnaryCall(Methods.PathInfoPut, null, default, Fixtures.PathInfoWithNarInfo).ResponseAsync);
        Assert.AreEqual(StatusCode.FailedPrecondition, e.StatusCode);
    }

    [TestMethod]
    public async Task Malformed_requests_are_invalid_argument()
    {
        var shortDigest = await Assert.ThrowsExactlyAsync<RpcException>(() => Invoker.AsyncUnaryCall(
            Methods.PathInfoGet, null, default, new GetPathInfoRequest { ByOutputHash = ByteString.CopyFrom(new byte[19]) }).ResponseAsync);
        Assert.AreEqual(StatusCode.InvalidArgument, shortDigest.StatusCode);

        var badBlobDigest = await Assert.ThrowsExactlyAsync<RpcException>(() => Invoker.AsyncUnaryCall(
            Methods.BlobStat, null, default, new StatBlobRequest { Digest = ByteString.CopyFrom(new byte[5]) }).ResponseAsync);
        Assert.AreEqual(StatusCode.InvalidArgument, badBlobDigest.StatusCode);

        using var unset = Invoker.AsyncServerStreamingCall(Methods.DirectoryGet, null, default, new GetDirectoryRequest());
        var e = await Assert.ThrowsExactlyAsync<RpcException>(() => unset.ResponseStream.MoveNext(CancellationToken.None));
        Assert.AreEqual(StatusCode.InvalidArgument, e.StatusCode);
    }

    [TestMethod]
    public async Task Calculate_nar_renders_the_node_as_nix_would()
    {
        using var call = Invoker.AsyncClientStreamingCall(Methods.BlobPut, null, default);
        await call.RequestStream.WriteAsync(new BlobChunk { Data = ByteString.CopyFrom(Fixtures.HelloWorldBlob) });
        await call.RequestStream.CompleteAsync();
        await call.ResponseAsync;
        var node = new Node { File = new FileNode { Digest = Fixtures.HelloWorldDigest.ToByteString(), Size = 12 } };
        var response = await Invoker.AsyncUnaryCall(Methods.PathInfoCalculateNar, null, default, node).ResponseAsync;
        Assert.AreEqual(128UL, response.NarSize);
        Assert.AreEqual("03e7f63be30b065d78bcf615f5473545fdb4eb69aa416f43495b4e05cdfb8040", Convert.ToHexStringLower(response.NarSha256.Span));
    }
}
