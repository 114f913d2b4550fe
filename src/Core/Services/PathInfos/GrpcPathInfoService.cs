using System.Runtime.CompilerServices;
using CastoreFs.Core.Grpc;
using CastoreFs.Core.Model;
using Google.Protobuf;
using Grpc.Core;
using Snix.Store.V1;

namespace CastoreFs.Core.Services.PathInfos;

/// <summary>Path infos from a remote store over gRPC; each one received is validated.</summary>
public sealed class GrpcPathInfoService(GrpcConnection connection) : IPathInfoService
{
    public async Task<PathInfo?> GetAsync(ReadOnlyMemory<byte> storePathDigest, CancellationToken ct = default)
    {
        try
        {
            var pathInfo = await connection.CallAsync(m => connection.Invoker.AsyncUnaryCall(
                m.PathInfoGet, null, connection.Unary(ct),
                new GetPathInfoRequest { ByOutputHash = ByteString.CopyFrom(storePathDigest.Span) }).ResponseAsync).ConfigureAwait(false);
            if (!pathInfo.Validate().Digest.SequenceEqual(storePathDigest.Span))
            {
                throw new CastoreValidationException($"{connection.Display}: asked for one store path, received {NodeRules.NameOf(pathInfo.Node).ToStringUtf8()}");
            }

            return pathInfo;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<PathInfo> PutAsync(PathInfo pathInfo, CancellationToken ct = default)
    {
        pathInfo.Validate();
        return await connection.CallAsync(m => connection.Invoker.AsyncUnaryCall(
            m.PathInfoPut, null, connection.Unary(ct), pathInfo).ResponseAsync).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<PathInfo> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        // The first response settles the package name; the list is then read without a restart.
        var pending = await connection.CallAsync(async m =>
        {
            var call = connection.Stream(m.PathInfoList, new ListPathInfoRequest(), ct);
            try
            {
                bool any = await call.MoveNextAsync().ConfigureAwait(false);
                return (call, any);
            }
            catch
            {
                call.Dispose();
                throw;
            }
        }).ConfigureAwait(false);
        using var stream = pending.call;
        bool more = pending.any;
        while (more)
        {
            var pathInfo = stream.Current;
            pathInfo.Validate();
            yield return pathInfo;
            more = await stream.MoveNextAsync().ConfigureAwait(false);
        }
    }
}
