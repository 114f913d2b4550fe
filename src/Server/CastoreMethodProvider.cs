using CastoreFs.Core.Grpc;
using Grpc.AspNetCore.Server.Model;

namespace CastoreFs.Server;

/// <summary>Binds <see cref="CastoreGrpcService"/> to the method paths of both package names.</summary>
internal sealed class CastoreMethodProvider(ServedFamilies served) : IServiceMethodProvider<CastoreGrpcService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<CastoreGrpcService> context)
    {
        foreach (var family in served.Families)
        {
            var m = CastoreMethods.ForServer(family);
            context.AddUnaryMethod(m.BlobStat, [], (s, request, call) => s.StatBlob(request, call));
            context.AddServerStreamingMethod(m.BlobRead, [], (s, request, responses, call) => s.ReadBlob(request, responses, call));
            context.AddClientStreamingMethod(m.BlobPut, [], (s, requests, call) => s.PutBlob(requests, call));
            context.AddServerStreamingMethod(m.DirectoryGet, [], (s, request, responses, call) => s.GetDirectory(request, responses, call));
            context.AddClientStreamingMethod(m.DirectoryPut, [], (s, requests, call) => s.PutDirectory(requests, call));
            context.AddUnaryMethod(m.PathInfoGet, [], (s, request, call) => s.GetPathInfo(request, call));
            context.AddUnaryMethod(m.PathInfoPut, [], (s, request, call) => s.PutPathInfo(request, call));
            context.AddUnaryMethod(m.PathInfoCalculateNar, [], (s, request, call) => s.CalculateNar(request, call));
            context.AddServerStreamingMethod(m.PathInfoList, [], (s, request, responses, call) => s.ListPathInfos(request, responses, call));
        }
    }
}

/// <summary>The package names a server answers under (both, unless a test narrows them).</summary>
internal sealed record ServedFamilies(IReadOnlyList<ProtocolFamily> Families);
