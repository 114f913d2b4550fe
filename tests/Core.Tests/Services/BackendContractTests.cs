using CastoreFs.Core.Services;
using CastoreFs.Server;

namespace CastoreFs.Core.Tests.Services;

[TestClass]
public sealed class MemoryStoreTests : StoreContractTests
{
    protected override bool ChunksLargeBlobs => false;

    protected override Task<CastoreStore> OpenAsync() => Task.FromResult(CastoreStore.Open("memory://"));
}

[TestClass]
public sealed class EmbeddedStoreTests : StoreContractTests
{
    protected override bool ChunksLargeBlobs => true;

    protected override Task<CastoreStore> OpenAsync() => Task.FromResult(CastoreStore.Open(Temp.Path));
}

/// <summary>A gRPC client on a unix socket, snix names, to a served embedded store.</summary>
[TestClass]
public sealed class GrpcUnixSocketStoreTests : StoreContractTests
{
    private CastoreStore? _served;
    private CastoreServer? _server;

    protected override bool ChunksLargeBlobs => true;

    protected override async Task<CastoreStore> OpenAsync()
    {
        _served = CastoreStore.Open(Temp.Combine("store"));
        _server = await CastoreServer.StartAsync(_served, "unix://" + Temp.Combine("s.sock"));
        StringAssert.StartsWith(_server.Address, "grpc+unix:///");
        return CastoreStore.Open(_server.Address, Temp.Combine("cache"));
    }

    protected override async Task CloseAsync()
    {
        await _server!.DisposeAsync();
        _served!.Dispose();
    }
}

/// <summary>A gRPC client on 127.0.0.1, tvix names (<c>?proto=tvix</c>), to a served memory store.</summary>
[TestClass]
public sealed class GrpcTcpTvixStoreTests : StoreContractTests
{
    private CastoreStore? _served;
    private CastoreServer? _server;

    protected override bool ChunksLargeBlobs => false;

    protected override async Task<CastoreStore> OpenAsync()
    {
        _served = CastoreStore.Open("memory://");
        _server = await CastoreServer.StartAsync(_served, "127.0.0.1:0", [Core.Grpc.ProtocolFamily.Tvix]);
        StringAssert.StartsWith(_server.Address, "grpc+http://127.0.0.1:");
        return CastoreStore.Open(_server.Address + "?proto=tvix", Temp.Combine("cache"));
    }

    protected override async Task CloseAsync()
    {
        await _server!.DisposeAsync();
        _served!.Dispose();
    }
}

/// <summary>Blobs and directories in S3 on a real Ceph gateway, path infos in a real PostgreSQL.</summary>
[TestClass]
public sealed class S3PostgresStoreTests : StoreContractTests
{
    protected override bool ChunksLargeBlobs => false;

    protected override Task<CastoreStore> OpenAsync()
    {
        var (s3, postgres) = Engines.SharedEngines.StartOrInconclusive().NewStore();
        return Task.FromResult(CastoreStore.Open(s3, s3, postgres));
    }
}
